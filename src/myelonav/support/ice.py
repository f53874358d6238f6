"""ICE-based self-check for caregivers: the 10-point ICE items from the ASTCT consensus.

The ICE score is a clinician's tool; here it helps a caregiver notice change early. Any
score below 10 is a neurological change and goes through triage as a red flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from myelonav import DISCLAIMER
from myelonav.clinical.astct import ice_grade
from myelonav.errors import InputError
from myelonav.support.content import triage_rules
from myelonav.support.schemas import IceBand, IceSpec
from myelonav.support.triage import SymptomReport, TriageResult, triage


def ice_spec() -> IceSpec:
    return triage_rules().ice


@dataclass(frozen=True)
class IceResult:
    score: int
    items: dict[str, int]
    band: IceBand
    triage: TriageResult

    def to_dict(self) -> dict[str, Any]:
        spec = ice_spec()
        return {
            "score": self.score,
            "out_of": 10,
            "items": self.items,
            "meaning": self.band.meaning,
            "astct_icans_grade_from_ice": ice_grade(self.score),
            "triage": self.triage.to_dict(),
            "citations": [c.model_dump(exclude_none=True) for c in spec.citations],
            "last_reviewed": spec.last_reviewed.isoformat(),
            "disclaimer": DISCLAIMER,
        }


def score_ice(
    answers: Mapping[str, int], *, on_bispecific: bool = False, recent_car_t: bool = False
) -> IceResult:
    """Score the five ICE items (points earned per item) and triage the result."""
    spec = ice_spec()
    known = {i.id: i for i in spec.items}
    unknown = set(answers) - set(known)
    if unknown:
        raise InputError(f"unknown ICE item(s): {', '.join(sorted(unknown))}", location="ice")
    items: dict[str, int] = {}
    for item in spec.items:
        if item.id not in answers:
            raise InputError(f"missing: {item.task} (0-{item.points} points)", location=item.id)
        value = answers[item.id]
        if not 0 <= value <= item.points:
            raise InputError(f"must be 0 to {item.points}, got {value}", location=item.id)
        items[item.id] = value
    score = sum(items.values())
    band = next(b for b in spec.bands if b.min_score <= score <= b.max_score)
    report = SymptomReport(ice_score=score, on_bispecific=on_bispecific, recent_car_t=recent_car_t)
    return IceResult(score=score, items=items, band=band, triage=triage(report))


__all__ = ["IceResult", "ice_spec", "score_ice"]
