"""How patients write numbers and dates, read without guessing.

Numbers: "1,4" is 1.4 where a decimal comma is plausible for the field (creatinine), "85,000"
is 85000, "1.234,5" is 1234.5. A text with two possible readings ("1,400": 1.4 or 1400) or a
value outside the field's plausible range is never silently reinterpreted: the reader returns
a question naming the field in words ("Creatinine: did you mean 1.4 mg/dL?").

Dates: "2024-03-15", "2024-03", "03/2024", "March 2024", "2024", "about 2023". A date with
less than a day's precision is stored as the middle of its month or year (never later than
today) together with its precision and the words the person used, so pages can show it as
given and nobody mistakes the stored day for a known one.

Everything here scans character by character or splits on fixed separators: no regular
expressions, so no backtracking on hostile input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

MAX_ANSWER_CHARS = 64


@dataclass(frozen=True)
class NumberField:
    """One numeric intake question: its words, unit and plausible range."""

    label: str
    unit: str
    low: float
    high: float
    decimal_comma: bool = True  # a comma may be a decimal mark (lab values, weight)
    whole: bool = False  # only whole numbers make sense (age, miles, counts of lines)
    # other units people commonly use for this field: (words, factor to the field's unit)
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class NumberAnswer:
    """``value`` when the answer is clear; otherwise ``message`` says what to check."""

    value: float | None
    message: str | None = None
    suggestion: float | None = None
    # every value the person may have meant, most likely first: one click confirms one
    choices: tuple[float, ...] = ()


def _is_digits(text: str) -> bool:
    return bool(text) and all("0" <= c <= "9" for c in text)


def _grouped(text: str, sep: str) -> bool:
    """``text`` is digits in thousands groups separated by ``sep`` ("85,000", "1,234,567")."""
    groups = text.split(sep)
    head, rest = groups[0], groups[1:]
    return (
        bool(rest)
        and _is_digits(head)
        and len(head) <= 3
        and not head.startswith("0")
        and all(len(g) == 3 and _is_digits(g) for g in rest)
    )


def number_readings(text: str, *, decimal_comma: bool = True) -> list[float] | None:
    """Every value ``text`` can mean, in order of likelihood; None if it is not a number."""
    t = "".join(c for c in text.strip() if c not in " \u00a0\u202f'_")
    if t.startswith("+"):
        t = t[1:]
    if not t or len(t) > MAX_ANSWER_CHARS:
        return None
    if any(c not in "0123456789.," for c in t) or not any(c.isdigit() for c in t):
        return None
    commas, dots = t.count(","), t.count(".")
    if commas and dots:
        # the last mark is the decimal one, the other groups thousands
        decimal, group = (".", ",") if t.rfind(".") > t.rfind(",") else (",", ".")
        if t.count(decimal) != 1 or (decimal == "," and not decimal_comma):
            return None
        whole, frac = t.split(decimal)
        if not _grouped(whole, group) or not _is_digits(frac):
            return None
        return [float(whole.replace(group, "") + "." + frac)]
    if not commas and not dots:
        return [float(t)]
    sep = "," if commas else "."
    readings: list[float] = []
    if _grouped(t, sep):
        readings.append(float(t.replace(sep, "")))
    if t.count(sep) == 1 and (sep == "." or decimal_comma):
        whole, frac = t.split(sep)
        if (_is_digits(whole) or whole == "") and _is_digits(frac):
            decimal_value = float((whole or "0") + "." + frac)
            # a decimal mark is the usual reading of a dot; a comma with exactly three digits
            # after it is more often a thousands separator, so it comes second
            if sep == "." or not readings:
                readings.insert(0, decimal_value)
            else:
                readings.append(decimal_value)
        elif whole and _is_digits(whole) and frac == "":
            readings.append(float(whole))
    unique: list[float] = []
    for value in readings:
        if value not in unique:
            unique.append(value)
    return unique or None


def _show(value: float) -> str:
    return f"{value:,.6g}" if value >= 1000 else f"{value:.6g}"


def plain_number(value: float) -> str:
    """``value`` as one unambiguous answer ("1.4", "1400"): what a confirm button sends."""
    text = f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    frac = text.partition(".")[2]
    # "1.402" could be read as 1402 (a dot grouping thousands); "1.4020" cannot
    return f"{text}0" if len(frac) == 3 else text


def shown_number(value: float) -> str:
    """``value`` as a person reads it ("1.4", "1,400")."""
    return _show(value)


def read_number(text: str, spec: NumberField) -> NumberAnswer:
    """Read one numeric answer; an unclear or implausible one comes back as a question."""
    readings = number_readings(text, decimal_comma=spec.decimal_comma)
    unit = f" {spec.unit}" if spec.unit else ""
    if readings is None:
        return NumberAnswer(
            None,
            f"{spec.label}: enter a number such as "
            f"{_show(spec.low if spec.low > 0 else 1)}{unit}, or leave it "
            "empty if you don't know",
        )
    plausible = [
        v for v in readings if spec.low <= v <= spec.high and (not spec.whole or v == int(v))
    ]
    if len(readings) == 1 and plausible:
        return NumberAnswer(plausible[0])
    if len(plausible) == 1:
        best = plausible[0]
        return NumberAnswer(
            None,
            f"{spec.label}: did you mean {_show(best)}{unit}? If so, press the "
            "\u201cYes\u201d button below (typing it again asks again); otherwise check "
            "the number on your report",
            best,
            (best,),
        )
    if len(plausible) > 1:
        shown = " or ".join(f"{_show(v)}{unit}" for v in plausible)
        return NumberAnswer(
            None,
            f"{spec.label}: did you mean {shown}? Enter the number "
            "without a thousands separator, with a dot for decimals "
            "(for example 1.4)",
            None,
            tuple(plausible),
        )
    value = readings[0]
    for words, factor in spec.alternatives:
        converted = round(value * factor, 3)
        if spec.low <= converted <= spec.high:
            return NumberAnswer(
                None,
                f"{spec.label}: {_show(value)} looks like {words}; did "
                f"you mean {_show(converted)}{unit}? If so, press the "
                "\u201cYes\u201d button below",
                converted,
                (converted,),
            )
    whole = "a whole number " if spec.whole else ""
    return NumberAnswer(
        None,
        f"{spec.label}: {_show(value)}{unit} is outside what we expect; "
        f"enter {whole}from {_show(spec.low)} to {_show(spec.high)}{unit}, "
        "or check the number and its unit on your report",
    )


class DatePrecision(StrEnum):
    day = "day"
    month = "month"
    year = "year"


@dataclass(frozen=True)
class PartialDate:
    """A date as a person knows it: the stored day, how precise it is, and the words used."""

    date: dt.date
    precision: DatePrecision
    approximate: bool
    text: str

    @property
    def earliest(self) -> dt.date:
        """The first day the words could mean (approximate dates: a year either side)."""
        if self.approximate:
            return dt.date(max(self.date.year - 1, 1), 1, 1)
        if self.precision is DatePrecision.year:
            return dt.date(self.date.year, 1, 1)
        if self.precision is DatePrecision.month:
            return self.date.replace(day=1)
        return self.date

    @property
    def latest(self) -> dt.date:
        """The last day the words could mean."""
        if self.approximate:
            return dt.date(min(self.date.year + 1, 9999), 12, 31)
        if self.precision is DatePrecision.year:
            return dt.date(self.date.year, 12, 31)
        if self.precision is DatePrecision.month:
            following = self.date.replace(day=28) + dt.timedelta(days=4)
            return following - dt.timedelta(days=following.day)
        return self.date

    @property
    def exact(self) -> bool:
        return self.precision is DatePrecision.day and not self.approximate

    def describe(self) -> str:
        """What the stored day stands for, in words (for a record note)."""
        what = {
            DatePrecision.day: "the day given",
            DatePrecision.month: "the middle of the month given",
            DatePrecision.year: "the middle of the year given",
        }[self.precision]
        about = "approximate; " if self.approximate else ""
        return (
            f"{about}{self.precision.value} precision; stored as {self.date.isoformat()} ({what})"
        )


MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    1,
):
    MONTHS[_name] = _i
    MONTHS[_name[:3]] = _i
MONTHS["sept"] = 9

_APPROX_WORDS = (
    "about",
    "around",
    "approximately",
    "approx",
    "approx.",
    "circa",
    "ca.",
    "roughly",
    "~",
    "early",
    "mid",
    "late",
    "maybe",
    "probably",
)


class DateFormatError(ValueError):
    """The text is not a date in any of the forms the intake accepts."""


def _year(text: str) -> int:
    if len(text) != 4 or not _is_digits(text) or text.startswith("0"):
        raise DateFormatError(text)
    return int(text)


def _month_number(text: str) -> int:
    if _is_digits(text) and 1 <= len(text) <= 2 and 1 <= int(text) <= 12:
        return int(text)
    month = MONTHS.get(text.rstrip(".").lower())
    if month is None:
        raise DateFormatError(text)
    return month


def read_date(text: str, *, today: dt.date) -> PartialDate:
    """Read a full, month-only or approximate date; raises ``DateFormatError`` otherwise."""
    given = " ".join(text.split())
    if not given or len(given) > MAX_ANSWER_CHARS:
        raise DateFormatError(text)
    words = given.replace(",", " ").split()
    approximate = False
    while words and words[0].lower() in _APPROX_WORDS:
        approximate = True
        words = words[1:]
    if words and words[0].startswith("~"):
        approximate = True
        words[0] = words[0][1:]
        if not words[0]:
            words = words[1:]
    if words and words[-1] == "?":
        approximate = True
        words = words[:-1]
    if not words:
        raise DateFormatError(text)
    when: dt.date
    if len(words) == 1:
        token = words[0]
        parts = token.replace("/", "-").split("-")
        if len(parts) == 3 and len(parts[0]) == 4:  # 2024-03-15
            try:
                when = dt.date(_year(parts[0]), _month_number(parts[1]), int(parts[2]))
            except ValueError as exc:
                raise DateFormatError(text) from exc
            precision = DatePrecision.day
        elif len(parts) == 2 and len(parts[0]) == 4:  # 2024-03
            when, precision = (
                dt.date(_year(parts[0]), _month_number(parts[1]), 15),
                DatePrecision.month,
            )
        elif len(parts) == 2 and len(parts[1]) == 4:  # 03/2024
            when, precision = (
                dt.date(_year(parts[1]), _month_number(parts[0]), 15),
                DatePrecision.month,
            )
        elif len(parts) == 1:  # 2024
            when, precision = dt.date(_year(parts[0]), 7, 1), DatePrecision.year
        else:  # 03/15/2024 and 15/03/2024 are not told apart: ask for the ISO form
            raise DateFormatError(text)
    elif len(words) == 2:  # March 2024
        when, precision = dt.date(_year(words[1]), _month_number(words[0]), 15), DatePrecision.month
    elif len(words) == 3:  # 15 March 2024 / March 15 2024
        first, second, year = words
        day_text, month_text = (first, second) if _is_digits(first) else (second, first)
        if not _is_digits(day_text) or len(day_text) > 2 or _is_digits(month_text):
            raise DateFormatError(text)
        try:
            when = dt.date(_year(year), _month_number(month_text), int(day_text))
        except ValueError as exc:
            raise DateFormatError(text) from exc
        precision = DatePrecision.day
    else:
        raise DateFormatError(text)
    if precision is not DatePrecision.day and when > today:
        # the middle of this month or year may lie ahead; the stored day must not
        start = dt.date(when.year, when.month if precision is DatePrecision.month else 1, 1)
        if start <= today:
            when = today
    return PartialDate(when, precision, approximate, given)


__all__ = [
    "MONTHS",
    "DateFormatError",
    "DatePrecision",
    "NumberAnswer",
    "NumberField",
    "PartialDate",
    "number_readings",
    "plain_number",
    "read_date",
    "read_number",
    "shown_number",
]
