"""Records to gather for a second opinion: what the record already holds, what is missing.

Computed from the record, item by item (the wording is in ``data/checklist.yaml``). A
status says what myelonav holds, not that the paper report is in hand: the visiting team
still wants the reports themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from myelonav.patient.models import Analyte, PatientRecord, StopReason
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.visit.content import checklist_content
from myelonav.visit.schemas import Check

Status = Literal["held", "partial", "missing", "none_recorded"]

STATUS_TEXT: dict[str, str] = {
    "held": "myelonav has it",
    "partial": "partly held",
    "missing": "missing",
    "none_recorded": "none recorded",
}


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    title: str
    gather: str
    why: str
    status: Status
    holds: list[str] = field(default_factory=list)  # what the record already has
    missing: list[str] = field(default_factory=list)  # what is not in the record

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


Result = tuple[Status, list[str], list[str]]


def _status(holds: list[str], missing: list[str]) -> Status:
    if not missing:
        return "held"
    return "partial" if holds else "missing"


def _pathology(r: PatientRecord, as_of: dt.date) -> Result:
    holds, missing = [], []
    fish = [f for f in r.cytogenetics if f.date is None or f.date <= as_of]
    if fish:
        dates = sorted({f.date.isoformat() for f in fish if f.date})
        holds.append(f"{len(fish)} FISH/cytogenetic result(s)"
                     + (f" dated {', '.join(dates)}" if dates else " (undated)"))
    else:
        missing.append("FISH or cytogenetic results")
    marrow = r.latest(Analyte.marrow_plasma_cells, as_of)
    if marrow is not None:
        holds.append(f"marrow plasma cells {marrow.value:g}% on {marrow.date}"
                     if marrow.value is not None else f"marrow result on {marrow.date}")
    else:
        missing.append("bone marrow biopsy result")
    last = r.last_car_t()
    if last is not None and fish and not any(f.date and f.date > last.infusion_date for f in fish):
        missing.append("FISH after the CAR T (only earlier results are recorded)")
    return _status(holds, missing), holds, missing


def _car_t(r: PatientRecord, as_of: dt.date) -> Result:
    episodes = [c for c in r.car_t if c.infusion_date <= as_of]
    if not episodes:
        return "none_recorded", [], ["no CAR T in the record"]
    holds, missing = [], []
    for c in episodes:
        holds.append(f"{c.product}, infused {c.infusion_date}")
        for label, value in (("target", c.target_antigen), ("worst CRS grade", c.crs_max_grade),
                             ("worst ICANS grade", c.icans_max_grade),
                             ("best response", c.best_response)):
            if value is None:
                missing.append(f"{label} for {c.product}")
            else:
                shown = value.value if hasattr(value, "value") else value
                holds.append(f"{label}: {shown}")
        if c.progression_date is not None:
            holds.append(f"progression on {c.progression_date}")
    return _status(holds, missing), holds, missing


def _lines(r: PatientRecord, as_of: dt.date) -> Result:
    lines = [ln for ln in r.therapy_lines if ln.start is None or ln.start <= as_of]
    if not lines:
        return "missing", [], ["no past treatments in the record"]
    holds = [f"{len(lines)} regimen(s) recorded"]
    missing = []
    for ln in lines:
        name = ln.regimen or " + ".join(ln.agents)
        gaps = [what for what, absent in (
            ("start date", ln.start is None),
            ("stop date", ln.end is None and ln.stop_reason is not StopReason.ongoing),
            ("best response", ln.best_response is None),
            ("why it stopped", ln.stop_reason is StopReason.unknown),
        ) if absent]
        if gaps:
            missing.append(f"{name}: {', '.join(gaps)}")
    return _status(holds, missing), holds, missing


_RECENT = (
    ("blood counts", (Analyte.hemoglobin, Analyte.anc, Analyte.platelets)),
    ("kidney test (creatinine)", (Analyte.creatinine,)),
    ("liver tests", (Analyte.bilirubin, Analyte.ast, Analyte.alt)),
    ("M-protein or free light chains", (Analyte.serum_m_protein, Analyte.kappa_flc,
                                        Analyte.lambda_flc)),
)


def _recent_labs(r: PatientRecord, as_of: dt.date) -> Result:
    holds, missing = [], []
    since = as_of - dt.timedelta(days=CURRENT_LAB_DAYS)
    for label, analytes in _RECENT:
        dates = [lab.date for a in analytes if (lab := r.latest(a, as_of)) is not None]
        recent = [d for d in dates if d >= since]
        if len(recent) == len(analytes) or (label.startswith("M-protein") and recent):
            holds.append(f"{label} from {max(recent)}")
        elif dates:
            missing.append(f"{label} from the last {CURRENT_LAB_DAYS} days (latest {max(dates)})")
        else:
            missing.append(f"{label}")
    return _status(holds, missing), holds, missing


def _imaging(r: PatientRecord, as_of: dt.date) -> Result:
    sites = [s for s in r.disease_sites if s.date is None or s.date <= as_of]
    if not sites:
        return "missing", [], ["scan reports (none in the record)"]
    holds = [" ".join(p for p in (s.kind.value.replace("_", " "), s.location,
                                  f"({s.date or 'undated'})") if p)
             for s in sites]
    return "partial", holds, ["the scan reports themselves (myelonav holds only the findings)"]


def _transplant(r: PatientRecord, as_of: dt.date) -> Result:
    done = [t for t in r.transplants if t.date is None or t.date <= as_of]
    if not done:
        return "none_recorded", [], [
            "no transplant in the record; bring the records if you had one"]
    holds = [f"{t.kind.value} transplant ({t.date or 'date unknown'})" for t in done]
    missing = [f"best response after the {t.kind.value} transplant" for t in done
               if t.best_response is None]
    return _status(holds, missing), holds, missing


def _antigen(r: PatientRecord, as_of: dt.date) -> Result:
    bcma = [c for c in r.car_t if c.infusion_date <= as_of and c.target_antigen == "BCMA"]
    if not bcma:
        return "none_recorded", [], ["no BCMA-directed CAR T in the record"]
    last = bcma[-1]
    status = last.antigen_status_at_relapse
    if status is None:
        return "missing", [], ["BCMA result at relapse"]
    if status.value == "not_tested":
        return "missing", [], ["BCMA was not tested at relapse"]
    when = f" on {last.antigen_status_date}" if last.antigen_status_date else ""
    return "held", [f"BCMA {status.value}{when}"], []


def _medicines(r: PatientRecord, as_of: dt.date) -> Result:
    current = [ln for ln in r.therapy_lines
               if (ln.start is None or ln.start <= as_of)
               and (ln.stop_reason is StopReason.ongoing or ln.end is None or ln.end >= as_of)]
    missing = ["medicines other than myeloma treatment (myelonav does not keep them)"]
    if current:
        return "partial", [f"current myeloma treatment: {ln.regimen or ' + '.join(ln.agents)}"
                           for ln in current], missing
    return "missing", [], missing


_CHECKS: dict[Check, Callable[[PatientRecord, dt.date], Result]] = {
    Check.pathology_fish: _pathology,
    Check.car_t_summary: _car_t,
    Check.therapy_lines: _lines,
    Check.recent_labs: _recent_labs,
    Check.imaging: _imaging,
    Check.transplant: _transplant,
    Check.antigen_testing: _antigen,
    Check.medicines: _medicines,
}


def build_checklist(record: PatientRecord, as_of: dt.date) -> list[ChecklistItem]:
    items = []
    for t in checklist_content().items:
        status, holds, missing = _CHECKS[t.check](record, as_of)
        items.append(ChecklistItem(t.id, t.title, t.gather, t.why, status, holds, missing))
    return items


def render_text(items: list[ChecklistItem]) -> str:
    mark = {"held": "[x]", "partial": "[~]", "missing": "[ ]", "none_recorded": "[-]"}
    out = ["Records to bring to a second opinion", ""]
    for item in items:
        out.append(f"{mark[item.status]} {item.title} - {STATUS_TEXT[item.status]}")
        out.append(f"    {item.gather}")
        for h in item.holds:
            out.append(f"    have: {h}")
        for m in item.missing:
            out.append(f"    need: {m}")
    return "\n".join(out) + "\n"


def render_markdown(items: list[ChecklistItem], *, sample: bool = False) -> str:
    out = ["# Records to bring to a second opinion", ""]
    if sample:
        out += ["**SAMPLE** - a fictional patient written for myelonav.", ""]
    for item in items:
        box = "x" if item.status == "held" else " "
        out.append(f"- [{box}] **{item.title}** ({STATUS_TEXT[item.status]}): {item.gather}")
        out += [f"  - have: {h}" for h in item.holds]
        out += [f"  - need: {m}" for m in item.missing]
    return "\n".join(out) + "\n"


__all__ = ["STATUS_TEXT", "ChecklistItem", "build_checklist", "render_markdown", "render_text"]
