"""Current labs against common trial eligibility thresholds (``data/lab_thresholds.yaml``).

The labs are the clinical picture's: older than ``CURRENT_LAB_DAYS`` they are not current
and are reported as such, never compared; an implausible value is never compared either.
Liver tests are compared as multiples of the upper limit of normal (ULN) that the lab
reported with the result; without it the comparison is not made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from myelonav.patient.models import Analyte
from myelonav.picture import ClinicalPicture
from myelonav.visit.content import threshold_content
from myelonav.visit.schemas import LabThreshold

Status = Literal["meets_all", "meets_some", "meets_none", "unknown"]

_ANALYTE = {
    "anc": Analyte.anc,
    "platelets": Analyte.platelets,
    "hemoglobin": Analyte.hemoglobin,
    "bilirubin_uln": Analyte.bilirubin,
    "ast_uln": Analyte.ast,
    "alt_uln": Analyte.alt,
}
_SHOWN_UNIT = {
    Analyte.anc: "x10^9/L",
    Analyte.platelets: "x10^9/L",
    Analyte.hemoglobin: "g/dL",
    Analyte.bilirubin: "mg/dL",
    Analyte.ast: "U/L",
    Analyte.alt: "U/L",
}


@dataclass(frozen=True)
class LabCheck:
    id: str
    label: str
    value: float | None  # in the threshold's unit (x ULN for liver tests)
    shown: str  # the value as measured, with its date, or why it is not known
    rule: str  # e.g. ">= 50 x10^9/L (MUK eight); >= 75 x10^9/L (ReLApsE)"
    status: Status
    citations: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "value": self.value,
            "shown": self.shown,
            "rule": self.rule,
            "status": self.status,
            "citations": self.citations,
        }


def _passes(value: float, comparator: str, limit: float) -> bool:
    return value >= limit if comparator == ">=" else value <= limit


def _value(t: LabThreshold, picture: ClinicalPicture) -> tuple[float | None, str]:
    if t.source == "crcl":
        crcl = picture.fact("crcl_ml_min")
        return (float(crcl.value), crcl.clinical) if crcl.known else (None, crcl.clinical)
    analyte = _ANALYTE[t.source]
    lab = picture.lab(analyte)
    if lab is None or lab.value is None:
        old = picture.stale_labs.get(analyte)
        if old is not None and old.value is not None:
            age = (picture.as_of - old.date).days
            return None, (
                f"{old.value:g} {_SHOWN_UNIT[analyte]} on {old.date}: {age} days old, not current"
            )
        return None, "no usable result in the record"
    measured = f"{lab.value:g} {_SHOWN_UNIT[analyte]} on {lab.date}"
    if t.source.endswith("_uln"):
        if not lab.upper_limit_normal:
            return None, f"{measured}; upper limit of normal not recorded"
        ratio = round(lab.value / lab.upper_limit_normal, 2)
        return ratio, f"{measured} = {ratio:g} x ULN ({lab.upper_limit_normal:g})"
    return lab.value, measured


def lab_checks(picture: ClinicalPicture) -> list[LabCheck]:
    """Each threshold in the data file, judged against the picture's current labs."""
    out: list[LabCheck] = []
    for t in threshold_content().thresholds:
        value, shown = _value(t, picture)
        by_value: dict[float, list[str]] = {}
        for e in t.examples:
            by_value.setdefault(e.value, []).append(e.trial)
        rule = "; ".join(
            f"{t.comparator} {v:g} {t.unit} ({', '.join(trials)})" for v, trials in by_value.items()
        )
        status: Status
        if value is None:
            status = "unknown"
        else:
            passed = [_passes(value, t.comparator, e.value) for e in t.examples]
            status = "meets_all" if all(passed) else "meets_some" if any(passed) else "meets_none"
        cites = sorted({e.citation.short() for e in t.examples})
        out.append(LabCheck(t.id, t.label, value, shown, rule, status, cites))
    return out


STATUS_TEXT: dict[str, str] = {
    "meets_all": "meets the examples",
    "meets_some": "meets some examples",
    "meets_none": "below the examples",
    "unknown": "not known",
}

__all__ = ["STATUS_TEXT", "LabCheck", "lab_checks"]
