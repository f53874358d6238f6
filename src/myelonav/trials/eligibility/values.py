"""An atom's value: three-valued truth (``myelonav.logic.Truth``), the patient fact shown,
and why it is unknown."""

from __future__ import annotations

from enum import StrEnum

from myelonav.logic import Truth


class Why(StrEnum):
    """Why a criterion or atom is unknown (the truth itself is three-valued: ``logic.Truth``).

    ``missing``: a fact the record does not hold; ``ask``: text (or a part of it) the parser did
    not understand, so ask the study team; ``screening``: a routine item the study team checks.
    When parts are combined, ``missing`` outranks ``ask``, which outranks ``screening``.
    """

    missing = "missing"
    ask = "ask"
    screening = "screening"


_WHY_RANK = {Why.missing: 2, Why.ask: 1, Why.screening: 0}


Eval = tuple[Truth, str]
# an atom's value: truth, the patient fact, and why it is unknown (None when known)
Value = tuple[Truth, str, Why | None]
_UNKNOWN_PREFIX = "unknown: "


def _tri(value: bool) -> Truth:
    return Truth.of(value)
