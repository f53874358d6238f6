"""The CLI's clinical calculators for one profile, for the clinician voice of the web app.

IMWG response series after the last CAR T, ISS / R-ISS / R2-ISS, renal function (Cockcroft-
Gault, CKD-EPI 2021), ASTCT CRS and ICANS grading, and step-up dosing calendars: the same
functions ``myelonav response|stage|renal|grade|calendar`` call, so page and CLI agree. Each
calculator that cannot run says why (the missing input), never a blank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from myelonav.clinical import astct, renal, staging
from myelonav.clinical.car_t import car_t_facts
from myelonav.commands.clinical import SOURCES
from myelonav.errors import MyelonavError
from myelonav.patient.models import PatientRecord


@dataclass
class Outcome:
    """One calculator's result lines, or why it could not run."""

    title: str
    lines: list[str] = field(default_factory=list)
    problem: str | None = None
    source: str | None = None


def _response(record: PatientRecord, as_of: dt.date) -> Outcome:
    out = Outcome("IMWG response after the last CAR T", source=SOURCES["imwg"])
    episode = record.last_car_t()
    if episode is None:
        out.problem = "no CAR T episode in the record"
        return out
    try:
        facts = car_t_facts(record, episode, as_of=as_of)
    except MyelonavError as exc:
        out.problem = exc.message
        return out
    out.lines.append(f"{facts.product}, infused {facts.infusion_date.isoformat()}")
    if facts.response is not None:
        for a in facts.response.assessments:
            missing = f" [missing: {'; '.join(a.missing_labels)}]" if a.missing_labels else ""
            out.lines.append(f"{a.date.isoformat()}: {a.category.value} ({a.rule_text}){missing}")
    best = facts.best_response or facts.best_response_recorded
    out.lines.append(f"Best response: {best.value if best else 'unknown'}")
    if facts.not_evaluable:
        out.lines.append(f"Not evaluable: {facts.not_evaluable}")
    if facts.progression_date:
        out.lines.append(
            f"Progression {facts.progression_date.isoformat()} ({facts.progression_source}), "
            f"{facts.time_to_progression_months} months after infusion"
        )
    out.lines.append(f"Relapse class: {facts.relapse_class.value.replace('_', ' ')}")
    out.lines += [f"Differs from the record: {d}" for d in facts.disagreements]
    return out


def _staging(record: PatientRecord, as_of: dt.date) -> Outcome:
    out = Outcome(
        "Staging at diagnosis (ISS, R-ISS, R2-ISS)",
        source="; ".join(SOURCES[k] for k in ("iss", "r_iss", "r2_iss")),
    )
    try:
        inputs = staging.inputs_from_record(record, as_of=as_of)
    except MyelonavError as exc:
        out.problem = exc.message
        return out
    for label, fn in (("ISS", staging.iss), ("R-ISS", staging.r_iss), ("R2-ISS", staging.r2_iss)):
        try:
            stage = fn(inputs)
            out.lines.append(f"{label}: {stage.label} ({'; '.join(stage.reasons)})")
        except MyelonavError as exc:
            out.lines.append(f"{label}: cannot stage: {exc.message}")
    out.lines.append("Describes risk at diagnosis, not after relapse.")
    return out


def _renal(record: PatientRecord, as_of: dt.date) -> Outcome:
    out = Outcome(
        "Kidney function", source=f"{SOURCES['cockcroft_gault']}; {SOURCES['ckd_epi_2021']}"
    )
    try:
        result = renal.renal_from_record(record, as_of=as_of)
    except MyelonavError as exc:
        out.problem = exc.message
        return out
    out.lines.append(f"Creatinine from {result.creatinine_date.isoformat()}")
    if result.cockcroft_gault:
        out.lines.append(f"CrCl (Cockcroft-Gault): {result.cockcroft_gault.value:.0f} mL/min")
    if result.ckd_epi_2021:
        out.lines.append(f"eGFR (CKD-EPI 2021): {result.ckd_epi_2021.value:.0f} mL/min/1.73 m²")
    out.lines += [f"Not computed: {p}" for p in result.problems]
    return out


def _recorded_grades(record: PatientRecord) -> Outcome:
    out = Outcome("CRS and ICANS recorded after the last CAR T")
    episode = record.last_car_t()
    if episode is None:
        out.problem = "no CAR T episode in the record"
        return out
    for label, grade in (("CRS", episode.crs_max_grade), ("ICANS", episode.icans_max_grade)):
        out.lines.append(
            f"Worst {label}: " + ("not recorded" if grade is None else f"grade {grade}")
        )
    return out


def _number(params: Mapping[str, str], name: str) -> float | None:
    raw = params.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise MyelonavError(f"enter a number (got {raw[:20]!r})", location=name) from None


def _enum(params: Mapping[str, str], name: str, kind: Any) -> Any:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise MyelonavError("choose one of the listed answers", location=name) from None


def crs_from_params(params: Mapping[str, str]) -> Outcome | None:
    """ASTCT CRS grade from the form (None when the form was not used)."""
    if params.get("calc") != "crs":
        return None
    out = Outcome("CRS grade (ASTCT)", source=SOURCES["astct"])
    try:
        grade = astct.crs_grade(
            max_temperature_c=_number(params, "temperature"),
            hypotension=_enum(params, "hypotension", astct.Hypotension) or astct.Hypotension.none,
            oxygen=_enum(params, "oxygen", astct.OxygenSupport) or astct.OxygenSupport.none,
            fever_masked=params.get("fever_masked") == "on",
        )
    except MyelonavError as exc:
        out.problem = f"{exc.location}: {exc.message}" if exc.location else exc.message
        return out
    out.lines = [f"Grade {grade.grade}", *grade.reasons]
    return out


def icans_from_params(params: Mapping[str, str]) -> Outcome | None:
    """ASTCT ICANS grade (adults) from the form (None when the form was not used)."""
    if params.get("calc") != "icans":
        return None
    out = Outcome("ICANS grade (ASTCT, adults)", source=SOURCES["astct"])
    try:
        ice = _number(params, "ice")
        grade = astct.icans_grade(
            ice=int(ice) if ice is not None else None,
            consciousness=_enum(params, "consciousness", astct.Consciousness)
            or astct.Consciousness.normal,
            seizure=_enum(params, "seizure", astct.Seizure) or astct.Seizure.none,
            motor=_enum(params, "motor", astct.Motor) or astct.Motor.none,
            edema=_enum(params, "edema", astct.Edema) or astct.Edema.none,
        )
    except MyelonavError as exc:
        out.problem = f"{exc.location}: {exc.message}" if exc.location else exc.message
        return out
    out.lines = [f"Grade {grade.grade}", *grade.reasons]
    return out


def calendar_from_params(params: Mapping[str, str]) -> Outcome | None:
    """A step-up dosing calendar (None when the form was not used)."""
    if params.get("calc") != "calendar":
        return None
    from myelonav.support import calendar as cal

    out = Outcome("Step-up dosing calendar")
    try:
        schedule = next((s for s in cal.available() if s.id == params.get("schedule")), None)
        if schedule is None:
            raise MyelonavError("choose a schedule", location="schedule")
        raw = params.get("start", "").strip()
        try:
            start = dt.date.fromisoformat(raw)
        except ValueError:
            raise MyelonavError(
                "enter the first dose date as YYYY-MM-DD", location="start"
            ) from None
        calendar = cal.build_calendar(schedule, start, weeks=4)
    except MyelonavError as exc:
        out.problem = f"{exc.location}: {exc.message}" if exc.location else exc.message
        return out
    out.title = f"{schedule.brand} ({schedule.drug}, {schedule.variant}) from {start.isoformat()}"
    out.source = "; ".join(c.label for c in schedule.citations) or None
    for e in calendar.entries:
        dose = f" {e.dose}" if e.dose else ""
        stay = f"; in hospital until {e.hospital_until.isoformat()}" if e.hospital_until else ""
        out.lines.append(f"{e.date.isoformat()} (week {e.week}): {e.title}{dose}{stay}")
    out.lines += calendar.notes()
    return out


def schedule_choices() -> list[tuple[str, str]]:
    from myelonav.support import calendar as cal

    return [(s.id, f"{s.brand} ({s.variant.replace('_', ' ')})") for s in cal.available()]


def record_tools(record: PatientRecord, as_of: dt.date) -> list[Outcome]:
    """The calculators that read the profile."""
    return [
        _response(record, as_of),
        _recorded_grades(record),
        _staging(record, as_of),
        _renal(record, as_of),
    ]


__all__ = [
    "Outcome",
    "calendar_from_params",
    "crs_from_params",
    "icans_from_params",
    "record_tools",
    "schedule_choices",
]
