"""Numbers and dates as patients write them: read exactly, or asked about, never guessed."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.web.answers import (
    DateFormatError,
    DatePrecision,
    NumberField,
    number_readings,
    read_date,
    read_number,
)
from myelonav.web.intake import NUMBER_FIELDS, IntakeError, record_from_intake

TODAY = dt.date(2026, 11, 25)
CREATININE = NUMBER_FIELDS["creatinine"]
PLATELETS = NUMBER_FIELDS["platelets"]


@pytest.mark.parametrize(
    ("text", "spec", "value"),
    [
        ("1,4", CREATININE, 1.4),
        ("1.4", CREATININE, 1.4),
        (" 0,85 ", CREATININE, 0.85),
        ("120", PLATELETS, 120.0),
        ("72,5", NUMBER_FIELDS["weight_kg"], 72.5),
        ("1,500", NUMBER_FIELDS["travel_miles"], 1500.0),
        ("1 500", NUMBER_FIELDS["travel_miles"], 1500.0),
        ("64", NUMBER_FIELDS["age"], 64.0),
    ],
)
def test_clear_answers_are_read(text: str, spec: NumberField, value: float) -> None:
    answer = read_number(text, spec)
    assert answer.message is None
    assert answer.value == pytest.approx(value)


def test_thousands_separator_is_read() -> None:
    assert number_readings("85,000") == [85000.0, 85.0]
    assert number_readings("85,000", decimal_comma=False) == [85000.0]
    assert number_readings("1,234.5") == [1234.5]
    assert number_readings("1.234,5") == [1234.5]
    assert number_readings("1.234,5", decimal_comma=False) is None


@pytest.mark.parametrize(
    ("text", "spec", "words"),
    [
        ("1,400", CREATININE, "Creatinine: did you mean 1.4 mg/dL?"),
        ("85,000", PLATELETS, "Platelets: did you mean 85 × 10⁹/L?"),
        ("85000", PLATELETS, "Platelets: 85,000 looks like a count per µL"),
        ("120", CREATININE, "Creatinine: 120 looks like a value in µmol/L; did you mean 1.357"),
        ("95000", CREATININE, "Creatinine: 95,000 mg/dL is outside what we expect"),
        ("1.500", NUMBER_FIELDS["travel_miles"], "did you mean 1.5 miles or 1,500 miles?"),
        ("64.5", NUMBER_FIELDS["age"], "Age: 64.5 years is outside what we expect"),
        ("1,4", NUMBER_FIELDS["age"], "Age: enter a number"),
        ("abc", CREATININE, "Creatinine: enter a number"),
    ],
)
def test_unclear_answers_ask_naming_the_field(text: str, spec: NumberField, words: str) -> None:
    answer = read_number(text, spec)
    assert answer.value is None
    assert answer.message is not None and words in answer.message


def test_intake_creatinine_with_decimal_comma_is_not_ten_times_higher() -> None:
    form = {"lab_date": "2026-11-01", "creatinine": "1,4", "platelets": "85"}
    record = record_from_intake(form, today=TODAY)
    assert {lab.analyte.value: lab.value for lab in record.labs} == {
        "creatinine": 1.4,
        "platelets": 85.0,
    }


def test_intake_asks_instead_of_reinterpreting() -> None:
    form = {"lab_date": "2026-11-01", "creatinine": "1,400", "platelets": "85,000"}
    with pytest.raises(IntakeError) as err:
        record_from_intake(form, today=TODAY)
    by_field = err.value.errors.by_field
    assert by_field["creatinine"].startswith("Creatinine: did you mean 1.4 mg/dL?")
    assert by_field["platelets"].startswith("Platelets: did you mean 85 ")


def _format(value: float, decimals: int, comma: bool, group: bool) -> str:
    whole, frac = f"{value:.{decimals}f}".split(".") if decimals else (f"{value:.0f}", "")
    if group:
        whole = f"{int(whole):,}".replace(",", "." if comma else ",")
    mark = "," if comma else "."
    return whole + (mark + frac if frac else "")


@given(
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.integers(min_value=0, max_value=4),
    st.booleans(),
    st.booleans(),
)
def test_every_written_form_reads_back_its_value(
    value: float, decimals: int, comma: bool, group: bool
) -> None:
    text = _format(value, decimals, comma, group)
    readings = number_readings(text, decimal_comma=True)
    assert readings is not None, text
    expected = float(text.replace("." if comma else ",", "").replace(",", "."))
    # the intended reading is always among the candidates, so asking can offer it
    assert any(r == pytest.approx(expected) for r in readings), (text, readings)


@given(st.text(max_size=30), st.sampled_from(sorted(NUMBER_FIELDS)))
def test_any_text_gives_a_value_in_range_or_a_question(text: str, name: str) -> None:
    spec = NUMBER_FIELDS[name]
    answer = read_number(text, spec)
    if answer.value is None:
        assert answer.message is not None and answer.message.startswith(spec.label)
    else:
        assert answer.message is None
        assert spec.low <= answer.value <= spec.high
        # a value is accepted only when the text has exactly one reading
        assert number_readings(text, decimal_comma=spec.decimal_comma) == [answer.value]


@given(st.floats(min_value=0.05, max_value=40, allow_nan=False))
def test_suggestions_are_plausible(value: float) -> None:
    answer = read_number(f"{value:.3f}".replace(".", ","), CREATININE)
    if answer.suggestion is not None:
        assert CREATININE.low <= answer.suggestion <= CREATININE.high
    else:
        assert answer.value is not None or answer.message is not None


@pytest.mark.parametrize(
    ("text", "stored", "precision", "approximate"),
    [
        ("2024-03-15", dt.date(2024, 3, 15), DatePrecision.day, False),
        ("2024-03", dt.date(2024, 3, 15), DatePrecision.month, False),
        ("03/2024", dt.date(2024, 3, 15), DatePrecision.month, False),
        ("March 2024", dt.date(2024, 3, 15), DatePrecision.month, False),
        ("mar 2024", dt.date(2024, 3, 15), DatePrecision.month, False),
        ("15 March 2024", dt.date(2024, 3, 15), DatePrecision.day, False),
        ("March 15, 2024", dt.date(2024, 3, 15), DatePrecision.day, False),
        ("about 2023", dt.date(2023, 7, 1), DatePrecision.year, True),
        ("around March 2024", dt.date(2024, 3, 15), DatePrecision.month, True),
        ("~2023", dt.date(2023, 7, 1), DatePrecision.year, True),
        ("2026-11", dt.date(2026, 11, 15), DatePrecision.month, False),
        ("2026", dt.date(2026, 7, 1), DatePrecision.year, False),
    ],
)
def test_partial_dates_keep_their_precision(
    text: str, stored: dt.date, precision: DatePrecision, approximate: bool
) -> None:
    when = read_date(text, today=TODAY)
    assert (when.date, when.precision, when.approximate) == (stored, precision, approximate)
    assert when.text == text.strip()


def test_this_month_is_never_stored_in_the_future() -> None:
    assert read_date("2026-11", today=dt.date(2026, 11, 3)).date == dt.date(2026, 11, 3)
    assert read_date("2026", today=dt.date(2026, 2, 1)).date == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "03/15/2024",
        "15/03/2024",
        "2024-13",
        "Smarch 2024",
        "2024-02-30",
        "about",
        "next year",
        "12345",
    ],
)
def test_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(DateFormatError):
        read_date(text, today=TODAY)


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    st.sampled_from(
        ["{d:%Y-%m-%d}", "{d:%Y-%m}", "{d:%B %Y}", "about {d:%Y}", "{d:%d %B %Y}", "{d:%m/%Y}"]
    ),
)
def test_written_dates_read_back(day: dt.date, pattern: str) -> None:
    when = read_date(pattern.format(d=day), today=TODAY)
    assert when.date <= TODAY
    assert when.date.year == day.year
    if when.precision is not DatePrecision.year:
        assert when.date.month == day.month
    if when.precision is DatePrecision.day:
        assert when.date == day


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_a_format_error(text: str) -> None:
    try:
        when = read_date(text, today=TODAY)
    except DateFormatError:
        return
    assert dt.date(1, 1, 1) <= when.date
