"""Recogniser: routine screening items the study team checks."""

from __future__ import annotations

from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    Node,
    ScreeningAtom,
)


def _screening(seg: str) -> list[Node]:
    for pattern, topic in lx.SCREENING:
        if pattern.search(seg):
            return [ScreeningAtom(topic=topic)]
    return []
