"""Calendar dates follow the labels' tables; the .ics round-trips through icalendar."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from myelonav.errors import InputError
from myelonav.support.calendar import Timing, available, build_calendar, find_schedule, to_ics

START = dt.date(2026, 12, 1)


def _days(schedule_id: str, weeks: int = 12, timing: Timing = Timing.label) -> list[int]:
    s = next(x for x in available() if x.id == schedule_id)
    c = build_calendar(s, START, weeks=weeks, timing=timing)
    return [e.day for e in c.doses]


def test_teclistamab_label_days_then_weekly() -> None:
    assert _days("teclistamab", weeks=4) == [1, 4, 7, 14, 21, 28]


def test_elranatamab_label_days_then_weekly() -> None:
    assert _days("elranatamab", weeks=4) == [1, 4, 8, 15, 22]


def test_talquetamab_weekly_and_biweekly() -> None:
    assert _days("talquetamab_weekly", weeks=3) == [1, 4, 7, 14, 21]
    assert _days("talquetamab_biweekly", weeks=6) == [1, 4, 7, 10, 24, 38]


def test_linvoseltamab_weekly_weeks_4_to_13_then_every_two_weeks_from_week_14() -> None:
    s = find_schedule("linvoseltamab")
    c = build_calendar(s, START, weeks=20)
    doses = c.doses
    assert [d.day for d in doses[:3]] == [1, 8, 15]
    weekly = [d for d in doses if d.note and d.note.startswith("weekly")]
    assert len(weekly) == 10
    assert [d.week for d in weekly] == list(range(4, 14))
    later = [d for d in doses if d.note and d.note.startswith("every-two-week")]
    assert [d.week for d in later] == [14, 16, 18, 20]
    assert all(d.dose == "200 mg" for d in doses[2:])


def test_conditional_spacing_is_a_check_in_not_a_dose() -> None:
    c = build_calendar(find_schedule("elranatamab"), START, weeks=52)
    checks = [e for e in c.entries if e.kind == "check_in"]
    assert [e.week for e in checks] == [25, 49]
    assert checks[0].date == START + dt.timedelta(weeks=24)
    assert "partial response" in (checks[0].note or "")
    # Doses keep the unconditional weekly schedule until the team decides otherwise.
    gaps = {(b.date - a.date).days for a, b in zip(c.doses[2:], c.doses[3:], strict=False)}
    assert gaps == {7}


def test_teclistamab_spacing_condition_is_stated() -> None:
    c = build_calendar(find_schedule("Tecvayli"), START)
    assert any("complete response" in n for n in c.notes())


def test_earliest_timing_uses_window_minimums() -> None:
    assert _days("teclistamab", weeks=2, timing=Timing.earliest) == [1, 3, 5, 12]
    assert _days("elranatamab", weeks=2, timing=Timing.earliest) == [1, 3, 6, 13]
    assert _days("talquetamab_biweekly", weeks=2, timing=Timing.earliest)[:4] == [1, 3, 5, 7]


def test_window_and_hospital_stay_are_carried() -> None:
    c = build_calendar(find_schedule("teclistamab"), START)
    sud2 = c.doses[1]
    assert sud2.window == (
        "2 to 4 days after the previous dose; may be given up to 7 days after it to let side "
        "effects settle"
    )
    assert sud2.earliest == START + dt.timedelta(days=2)
    assert sud2.latest == START + dt.timedelta(days=7)
    assert sud2.hospital_hours == 48
    assert sud2.hospital_until == sud2.date + dt.timedelta(days=2)
    assert all(d.premedication for d in c.doses[:3])
    assert not any(d.premedication for d in c.doses[3:])


def test_elranatamab_monitoring_is_48_then_24_hours() -> None:
    doses = build_calendar(find_schedule("Elrexfio"), START).doses
    assert [d.hospital_hours for d in doses[:3]] == [48, 24, None]


def test_find_schedule_errors_name_the_field() -> None:
    with pytest.raises(InputError, match="agent"):
        find_schedule("lenalidomide")
    with pytest.raises(InputError, match="variant"):
        find_schedule("talquetamab")
    with pytest.raises(InputError, match="monthly"):
        find_schedule("talquetamab", "monthly")
    with pytest.raises(InputError, match="weeks"):
        build_calendar(find_schedule("teclistamab"), START, weeks=0)


def test_ics_parses_back_with_every_event() -> None:
    c = build_calendar(find_schedule("teclistamab"), START, weeks=3)
    stamp = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    raw = to_ics(c, stamp=stamp)
    assert raw == to_ics(c, stamp=stamp)  # deterministic for a given stamp
    parsed = Calendar.from_ical(raw)
    events = list(parsed.walk("VEVENT"))
    stays = [e for e in events if str(e.get("summary")).startswith("Hospital monitoring")]
    doses = [e for e in events if e not in stays]
    assert len(doses) == len(c.entries)
    assert len(stays) == 3
    assert [e.decoded("dtstart") for e in doses] == [x.date for x in c.entries]
    assert stays[0].decoded("dtend") == START + dt.timedelta(days=3)
    assert len({str(e.get("uid")) for e in events}) == len(events)
    assert all("information, not medical advice" in str(e.get("description")) for e in events)
    alarms = list(parsed.walk("VALARM"))
    assert len(alarms) == 3


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(available()) - 1),
    start=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)),
    weeks=st.integers(min_value=1, max_value=60),
    earliest=st.booleans(),
)
def test_calendar_invariants(index: int, start: dt.date, weeks: int, earliest: bool) -> None:
    s = available()[index]
    c = build_calendar(s, start, weeks=weeks, timing=Timing.earliest if earliest else Timing.label)
    doses = c.doses
    assert doses[0].date == start
    assert len(doses) >= len(s.steps)  # the step-up schedule is always laid out in full
    dates = [d.date for d in doses]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    for d in doses[: len(s.steps)]:
        if d.earliest:
            assert d.earliest <= d.date
        if d.latest:
            assert d.date <= d.latest
    horizon = start + dt.timedelta(weeks=weeks)
    for d in doses[len(s.steps) :]:
        assert d.date < horizon
    mins = [p.min_interval_days for p in s.phases if p.min_interval_days]
    for a, b in zip(doses[len(s.steps) - 1 :], doses[len(s.steps) :], strict=False):
        assert (b.date - a.date).days >= min(mins, default=1)
