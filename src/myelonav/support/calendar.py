"""Step-up dosing calendars for the approved bispecific antibodies, with iCalendar export.

Dates come from a start date and the label's table (``schedules.yaml``). Labels give
windows ("2 to 4 days after the previous dose"); ``Timing.label`` places each dose on the
label's table day, ``Timing.earliest`` on the earliest day the window allows. Every dose
carries its window so the patient sees how much the real dates may move.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from icalendar import Alarm, Calendar, Event

from myelonav import DISCLAIMER
from myelonav.errors import InputError
from myelonav.patient.vocabulary import vocabulary
from myelonav.support.content import schedules
from myelonav.support.schemas import Schedule, StepKind

MAX_WEEKS = 104


class Timing(StrEnum):
    label = "label"
    earliest = "earliest"


@dataclass(frozen=True)
class CalendarEntry:
    """One dated item: a dose, or a check-in where a label rule may space doses out."""

    date: dt.date
    kind: str  # step_up | first_treatment | treatment | check_in
    title: str
    dose: str | None
    week: int
    day: int
    window: str | None = None
    earliest: dt.date | None = None
    latest: dt.date | None = None
    hospital_hours: int | None = None
    premedication: bool = False
    note: str | None = None

    @property
    def hospital_until(self) -> dt.date | None:
        if not self.hospital_hours:
            return None
        return self.date + dt.timedelta(days=math.ceil(self.hospital_hours / 24))

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "title": self.title,
            "dose": self.dose,
            "week": self.week,
            "day": self.day,
            "window": self.window,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "latest": self.latest.isoformat() if self.latest else None,
            "hospital_hours": self.hospital_hours,
            "hospital_until": self.hospital_until.isoformat() if self.hospital_until else None,
            "premedication": self.premedication,
            "note": self.note,
        }


@dataclass(frozen=True)
class DosingCalendar:
    schedule: Schedule
    start: dt.date
    timing: Timing
    weeks: int
    entries: list[CalendarEntry] = field(default_factory=list)

    @property
    def doses(self) -> list[CalendarEntry]:
        return [e for e in self.entries if e.kind != "check_in"]

    def notes(self) -> list[str]:
        s = self.schedule
        basis = (
            "label table day"
            if self.timing is Timing.label
            else "earliest day the label window allows"
        )
        out = [
            f"Premedication: {s.premedication}",
            f"Monitoring: {s.monitoring}",
            f"Dates use the {basis}; "
            "your team sets the real dates and may move them for side effects.",
        ]
        for opt in s.spacing_options:
            if opt.from_week is None:
                out.append(
                    f"Spacing out: every {opt.interval_days // 7} weeks only with {opt.condition}."
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        s = self.schedule
        return {
            "agent": s.drug,
            "brand": s.brand,
            "schedule": s.id,
            "variant": s.variant,
            "route": s.route,
            "dose_basis": s.dose_basis,
            "start": self.start.isoformat(),
            "timing": self.timing.value,
            "weeks": self.weeks,
            "entries": [e.to_dict() for e in self.entries],
            "notes": self.notes(),
            "citations": [c.model_dump(exclude_none=True) for c in s.citations],
            "last_reviewed": s.last_reviewed.isoformat(),
            "disclaimer": DISCLAIMER,
        }


def available() -> list[Schedule]:
    return list(schedules().schedules)


def find_schedule(agent: str, variant: str | None = None) -> Schedule:
    """The schedule for an agent name (any spelling the vocabulary knows) and variant."""
    drug = vocabulary().resolve(agent)
    drug_id = drug.id if drug is not None else agent.strip().lower()
    matches = [s for s in schedules().schedules if s.drug == drug_id]
    if not matches:
        known = ", ".join(sorted({s.drug for s in schedules().schedules}))
        raise InputError(f"no step-up schedule for {agent!r}; known: {known}", location="agent")
    if variant is None:
        if len(matches) > 1:
            names = ", ".join(s.variant for s in matches)
            raise InputError(
                f"{drug_id} has more than one schedule; choose --variant ({names})",
                location="variant",
            )
        return matches[0]
    for s in matches:
        if s.variant == variant:
            return s
    names = ", ".join(s.variant for s in matches)
    raise InputError(
        f"{drug_id} has no {variant!r} schedule; choose one of: {names}", location="variant"
    )


def _week(start: dt.date, date: dt.date) -> int:
    return (date - start).days // 7 + 1


def build_calendar(
    schedule: Schedule, start: dt.date, *, weeks: int = 12, timing: Timing = Timing.label
) -> DosingCalendar:
    """All doses from ``start`` through ``weeks`` weeks (the step-up schedule always in full)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"must be between 1 and {MAX_WEEKS}", location="weeks")
    entries: list[CalendarEntry] = []
    prev: dt.date | None = None
    prev_day = 1
    for step in schedule.steps:
        earliest = latest = None
        if prev is None:
            date = start
        else:
            gap = step.day - prev_day
            if timing is Timing.earliest and step.min_days_after_previous is not None:
                gap = step.min_days_after_previous
            date = prev + dt.timedelta(days=gap)
            if step.min_days_after_previous is not None:
                earliest = prev + dt.timedelta(days=step.min_days_after_previous)
            longest = step.max_delay_days or step.max_days_after_previous
            if longest is not None:
                latest = prev + dt.timedelta(days=longest)
        entries.append(
            CalendarEntry(
                date=date,
                kind=step.kind.value,
                title=f"{schedule.brand} {step.label}",
                dose=step.dose,
                week=_week(start, date),
                day=(date - start).days + 1,
                window=step.window_text(),
                earliest=earliest,
                latest=latest,
                hospital_hours=step.hospital_monitoring_hours,
                premedication=step.premedication,
            )
        )
        prev, prev_day = date, step.day
    assert prev is not None and schedule.steps[-1].kind is StepKind.first_treatment
    horizon = start + dt.timedelta(weeks=weeks)
    # The first dose of a phase follows the previous dose by the previous phase's interval
    # (e.g. linvoseltamab: last weekly dose in week 13, first every-2-week dose in week 14).
    gap = schedule.phases[0].interval_days
    for phase in schedule.phases:
        window = (
            f"at least {phase.min_interval_days} days after the previous dose"
            if phase.min_interval_days
            else None
        )
        given = 0
        while phase.doses is None or given < phase.doses:
            date = prev + dt.timedelta(days=gap)
            if date >= horizon:
                break
            entries.append(
                CalendarEntry(
                    date=date,
                    kind="treatment",
                    title=f"{schedule.brand} treatment dose",
                    dose=phase.dose,
                    week=_week(start, date),
                    day=(date - start).days + 1,
                    window=window,
                    note=phase.name,
                )
            )
            prev, gap, given = date, phase.interval_days, given + 1
        if phase.doses is None or given < phase.doses:
            break  # reached the horizon
    for opt in schedule.spacing_options:
        if opt.from_week is None:
            continue
        date = start + dt.timedelta(weeks=opt.from_week - 1)
        if date < horizon:
            entries.append(
                CalendarEntry(
                    date=date,
                    kind="check_in",
                    title=f"{schedule.brand}: ask whether doses can be spaced out",
                    dose=None,
                    week=opt.from_week,
                    day=(date - start).days + 1,
                    note=(
                        f"From week {opt.from_week} the label allows dosing every "
                        f"{opt.interval_days // 7} weeks with {opt.condition}. Until your team "
                        "says so, keep the current schedule."
                    ),
                )
            )
    entries.sort(key=lambda e: (e.date, e.kind == "check_in"))
    return DosingCalendar(
        schedule=schedule, start=start, timing=timing, weeks=weeks, entries=entries
    )


def _description(cal: DosingCalendar, entry: CalendarEntry) -> str:
    lines: list[str] = []
    if entry.dose:
        lines.append(f"Dose: {entry.dose} ({cal.schedule.route}).")
    if entry.window:
        lines.append(f"Allowed timing: {entry.window}.")
    if entry.earliest or entry.latest:
        lo = entry.earliest.isoformat() if entry.earliest else "?"
        hi = entry.latest.isoformat() if entry.latest else "?"
        lines.append(f"Date range the label allows: {lo} to {hi}.")
    if entry.premedication:
        lines.append(f"Premedication: {cal.schedule.premedication}")
    if entry.hospital_hours:
        lines.append(
            f"Plan to stay in hospital about {entry.hospital_hours} hours after this dose."
        )
    if entry.note:
        lines.append(entry.note)
    lines.append(
        "Fever of 38 C (100.4 F) or more, confusion, trouble speaking or breathing: call your "
        "team now or 911."
    )
    lines.append(f"Source: {cal.schedule.citations[0].short()}")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def to_ics(cal: DosingCalendar, *, stamp: dt.datetime | None = None) -> bytes:
    """Render the calendar as iCalendar (RFC 5545) with all-day events and reminders."""
    stamp = stamp or dt.datetime.now(dt.UTC)
    ical = Calendar()
    ical.add("prodid", "-//myelonav//step-up dosing calendar//EN")
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("x-wr-calname", f"{cal.schedule.brand} dosing (myelonav)")
    for i, entry in enumerate(cal.entries):
        ev = Event()
        ev.add("uid", f"{cal.schedule.id}-{cal.start.isoformat()}-{i}@myelonav")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", entry.date)
        ev.add("dtend", entry.date + dt.timedelta(days=1))
        ev.add("summary", entry.title + (f" ({entry.dose})" if entry.dose else ""))
        ev.add("description", _description(cal, entry))
        ev.add("categories", [entry.kind])
        if entry.kind == "check_in":
            ev.add("transp", "TRANSPARENT")
        if entry.premedication or entry.kind in ("step_up", "first_treatment"):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Tomorrow: {entry.title}. Bring your wallet card.")
            alarm.add("trigger", dt.timedelta(hours=-6))
            ev.add_component(alarm)
        ical.add_component(ev)
        if entry.hospital_until is not None:
            stay = Event()
            stay.add("uid", f"{cal.schedule.id}-{cal.start.isoformat()}-{i}-stay@myelonav")
            stay.add("dtstamp", stamp)
            stay.add("dtstart", entry.date)
            stay.add("dtend", entry.hospital_until + dt.timedelta(days=1))
            stay.add("summary", f"Hospital monitoring after {entry.title}")
            stay.add(
                "description",
                f"{cal.schedule.monitoring}\nSource: {cal.schedule.citations[0].short()}\n"
                f"{DISCLAIMER}",
            )
            stay.add("categories", ["hospital_monitoring"])
            ical.add_component(stay)
    data: bytes = ical.to_ical()
    return data


__all__ = [
    "CalendarEntry",
    "DosingCalendar",
    "Timing",
    "available",
    "build_calendar",
    "find_schedule",
    "to_ics",
]
