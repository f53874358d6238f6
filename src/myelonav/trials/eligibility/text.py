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


def other_key(text: str) -> tuple[frozenset[str], bool]:
    """What the judgement of un-structured text reads from it: the vocabulary drugs it names
    and whether it names a therapy type (BCMA, GPRC5D, CAR T, bispecific, FcRH5)."""
    named = frozenset(d.id for d in vocabulary().find_in_text(text))
    return named, bool(_OTHER_TERMS.search(text))


def other_value(f: PatientFacts, named: frozenset[str], names_type: bool) -> Value:
    """Text we could not structure. If it names something this patient has had, it matters."""
    had = sorted(named & {e.agent for e in f.exposures})
    if had:
        return (
            Truth.unknown,
            f"mentions {', '.join(had)}, which you have had; ask the study team",
            Why.missing,
        )
    if names_type and {c for e in f.exposures for c in e.classes} & {
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


def _other(f: PatientFacts, a: OtherAtom) -> Value:
    return other_value(f, *other_key(a.text))


def _screening(a: ScreeningAtom) -> Value:
    return Truth.unknown, "the study team will check", Why.screening
