"""Text the parser did not structure (ask the study team) and routine screening items."""

from __future__ import annotations

import re

from myelonav.logic import Truth
from myelonav.patient.vocabulary import vocabulary
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria.models import (
    OtherAtom,
    ScreeningAtom,
)
from myelonav.trials.eligibility.values import Value, Why

_OTHER_TERMS = re.compile(r"\bBCMA\b|\bGPRC5D\b|\bCAR[\s-]?T\b|\bbispecific\b|\bFcRH5\b", re.I)


# A disease stage the record does not hold ("Stage II or III disease according to
# Salmon-Durie", "R-ISS stage I or II"): a missing fact, not a routine question.
_STAGING = re.compile(
    r"\bSalmon[\s-]+Durie\b|\b(?:R-?)?ISS\b(?:\s+stage)?|\bstage\s+(?:I{1,3}|[123])\b", re.I
)


def _other(f: PatientFacts, a: OtherAtom) -> Value:
    """Text we could not structure. If it names something this patient has had, it matters."""
    if _STAGING.search(a.text):
        return Truth.unknown, "disease stage not in the record; ask the study team", Why.missing
    named = {d.id for d in vocabulary().find_in_text(a.text)}
    had = sorted(named & {e.agent for e in f.exposures})
    classes = {c for e in f.exposures for c in e.classes}
    if had:
        return (
            Truth.unknown,
            f"mentions {', '.join(had)}, which you have had; ask the study team",
            Why.missing,
        )
    if _OTHER_TERMS.search(a.text) and classes & {
        "bcma_directed",
        "gprc5d_directed",
        "car_t",
        "bispecific",
    }:
        return (
            Truth.unknown,
            "mentions a therapy type you have had; ask the study team",
            Why.missing,
        )
    return Truth.unknown, "ask the study team", Why.ask


def _screening(a: ScreeningAtom) -> Value:
    return Truth.unknown, "the study team will check", Why.screening
