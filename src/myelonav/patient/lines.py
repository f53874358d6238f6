"""Lines of therapy by IMWG grouping.

IMWG consensus (Rajkumar et al., Blood 2015;126:921-2, "Multiple myeloma: IMWG consensus on
lines of therapy"): a line is one or more complete cycles of a single agent or combination,
or a *planned* sequence of regimens such as induction followed by autologous transplant and
consolidation / maintenance. A new line starts when the planned treatment is changed because
of progression, relapse or toxicity. CAR T (with its bridging and lymphodepletion) counts as
one line.

A regimen here continues the previous line when the previous regimen *completed as planned*
(not stopped for progression or toxicity), the gap is at most ``PLANNED_GAP_DAYS``, and the
regimen is a transplant, follows a transplant, or is maintenance with agents taken from the
previous regimen.

Treatment of CAR T toxicity is supportive care, not a line (and, in ``clinical.car_t``, does not
close the CAR T response window): a regimen made only of CRS/ICANS drugs (tocilizumab,
siltuximab, anakinra, corticosteroids) that is either labelled as given for CRS/ICANS, holds no
corticosteroid (the anti-cytokine antibodies have no anti-myeloma use), or starts within
``CRS_ICANS_WINDOW_DAYS`` after an infusion. ASTCT (Lee DW, et al. Biol Blood Marrow Transplant
2019;25:625-38) manages CRS with tocilizumab +/- corticosteroids and ICANS with
corticosteroids; onset is within days to a few weeks of infusion (cilta-cel label: delayed
neurotoxicity up to about a month), hence the window (myelonav convention).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from myelonav.patient.models import PatientRecord, StopReason, TherapyLine

PLANNED_GAP_DAYS = 180
CRS_ICANS_WINDOW_DAYS = 30

ANTI_CYTOKINE_AGENTS = frozenset({"tocilizumab", "siltuximab", "anakinra"})
CORTICOSTEROIDS = frozenset(
    {"dexamethasone", "methylprednisolone", "prednisone", "prednisolone", "hydrocortisone"}
)
_TOXICITY_TEXT = re.compile(r"\b(?:crs|icans|cytokine release|neurotox)", re.IGNORECASE)


def is_car_t_supportive_care(line: TherapyLine, record: PatientRecord) -> bool:
    """True when ``line`` is CRS/ICANS treatment after CAR T rather than anti-myeloma therapy."""
    agents = set(line.agents)
    if not agents or not agents <= ANTI_CYTOKINE_AGENTS | CORTICOSTEROIDS:
        return False
    if not agents & CORTICOSTEROIDS:
        return True
    if line.regimen and _TOXICITY_TEXT.search(line.regimen):
        return True
    if line.start is None:
        return False
    return any(
        0 <= (line.start - c.infusion_date).days <= CRS_ICANS_WINDOW_DAYS for c in record.car_t
    )


@dataclass
class Line:
    """One IMWG line: the regimens and procedures it is made of."""

    number: int
    start: dt.date | None
    parts: list[str] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    car_t: bool = False
    transplant: bool = False
    refractory: bool | None = None
    after_car_t: bool = False


@dataclass
class _Step:
    start: dt.date | None
    end: dt.date | None
    label: str
    agents: frozenset[str]
    kind: str  # "regimen" | "transplant" | "car_t"
    stop: StopReason
    refractory: bool | None
    after_car_t: bool


def _steps(record: PatientRecord) -> list[_Step]:
    steps = [
        _Step(
            ln.start,
            ln.end,
            ln.regimen or " + ".join(ln.agents),
            frozenset(ln.agents),
            "regimen",
            ln.stop_reason,
            ln.refractory,
            ln.after_car_t,
        )
        for ln in record.therapy_lines
        if not is_car_t_supportive_care(ln, record)
    ]
    steps += [
        _Step(
            t.date,
            t.date,
            f"{t.kind.value} transplant",
            frozenset(),
            "transplant",
            StopReason.completed,
            None,
            False,
        )
        for t in record.transplants
    ]
    steps += [
        _Step(
            c.infusion_date,
            c.infusion_date,
            f"CAR T ({c.product})",
            frozenset({c.product, *c.bridging_agents}),
            "car_t",
            StopReason.unknown,
            None,
            False,
        )
        for c in record.car_t
    ]
    return sorted(steps, key=lambda s: (s.start or dt.date.min, s.kind != "regimen"))


def _continues(prev: _Step, step: _Step) -> bool:
    if prev.kind == "car_t" or step.kind == "car_t":
        return False
    if prev.stop is not StopReason.completed:
        return False
    if prev.end is None or step.start is None:
        return False
    if (step.start - prev.end).days > PLANNED_GAP_DAYS:
        return False
    if step.kind == "transplant" or prev.kind == "transplant":
        return True
    return bool(step.agents) and step.agents <= prev.agents


def imwg_lines(record: PatientRecord, as_of: dt.date | None = None) -> list[Line]:
    """The record's lines of therapy, grouped as IMWG counts them, oldest first."""
    lines: list[Line] = []
    prev: _Step | None = None
    for step in _steps(record):
        if as_of is not None and step.start is not None and step.start > as_of:
            continue
        if prev is not None and lines and _continues(prev, step):
            line = lines[-1]
        else:
            line = Line(number=len(lines) + 1, start=step.start)
            lines.append(line)
        line.parts.append(step.label)
        line.agents |= step.agents
        line.car_t |= step.kind == "car_t"
        line.transplant |= step.kind == "transplant"
        line.after_car_t |= step.after_car_t
        if step.refractory is not None:
            line.refractory = step.refractory
        prev = step
    return lines


def count_prior_lines(record: PatientRecord, as_of: dt.date | None = None) -> int:
    """IMWG lines so far; never fewer than the reported lines before CAR T plus the CAR T
    line and every line after it (for records without the detailed history)."""
    lines = imwg_lines(record, as_of)
    reported = record.lines_before_car_t_reported
    if reported is None:
        return len(lines)
    first_car_t = next((i for i, ln in enumerate(lines) if ln.car_t), None)
    from_car_t = 0 if first_car_t is None else len(lines) - first_car_t
    return max(len(lines), reported + from_car_t)


__all__ = [
    "ANTI_CYTOKINE_AGENTS",
    "CORTICOSTEROIDS",
    "CRS_ICANS_WINDOW_DAYS",
    "PLANNED_GAP_DAYS",
    "Line",
    "count_prior_lines",
    "imwg_lines",
    "is_car_t_supportive_care",
]
