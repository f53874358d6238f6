"""Negation scoped to the words just before a mention ("no prior …", "BCMA-naive")."""

from __future__ import annotations

import re

_NEG_CUE = re.compile(
    r"(?:\b(?:no|not|without|never|none|non|excluding)\b|\bmust not\b|\bha(?:s|ve) not\b|"
    r"\bhas never\b|\bfree of\b|\babsence of\b|\bna[iï]ve\s+(?:to|for)\b)[^,;]*$",
    re.IGNORECASE,
)
_NAIVE_AFTER = re.compile(r"^[\s\-]*na[iï]ve\b", re.IGNORECASE)
_WITH_OR_WITHOUT = re.compile(r"\bwith\s*(?:/|\bor\b)\s*without\b", re.IGNORECASE)
_THERAPY_FOR = re.compile(r"(?:therap\w*|treatment)\s+for\s+[\w\s/,-]*$", re.IGNORECASE)


def _negated(text: str, start: int, end: int | None = None) -> bool:
    window = text[max(0, start - 45) : start]
    # "with/without consolidative chemotherapy", "with or without maintenance": optional, not absent
    window = _WITH_OR_WITHOUT.sub(" ", window)
    window = re.split(r"[,;:]|\band\b|\bor\b(?! more)", window)[-1]
    if _NEG_CUE.search(window):
        return True
    return end is not None and bool(_NAIVE_AFTER.match(text[end : end + 12]))
