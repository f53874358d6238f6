"""Recognisers: age and performance status (ECOG, Karnofsky)."""

from __future__ import annotations

import re

from myelonav.trials.criteria.models import (
    AgeAtom,
    Group,
    Node,
    PerformanceAtom,
)


def _slashed(seg: str) -> str:
    """Registry comparators written "</=" and ">/=" as "<=" and ">=" (same length kept)."""
    return seg.replace("</=", " <=").replace(">/=", " >=")


# The age patterns, compiled once (a criterion list has hundreds of items).
_AGE_CUE = re.compile(r"\bage\b|\baged\b|\byears?\b|\byrs?\b", re.I)
_DONOR = re.compile(r"\bdonors?\b", re.I)
_AGE_RANGE = re.compile(
    r"(?:\bage[ds]?\b[^0-9<>]{0,20})?(\d{1,3})\s*(?:-|to|and)\s*(\d{1,3})\s*(?:years?|yrs?)"
    r"(?:\s+(?:of\s+age|old))?",
    re.I,
)
_AGE_BETWEEN = re.compile(r"\bbetween\s+(?:the\s+ages\s+of\s+)?(\d{1,3})\s+and\s+(\d{1,3})", re.I)
_AGE_OR_YEARS = re.compile(r"\bage|\byears?\b", re.I)
_AGE_MIN_AFTER_WORD = re.compile(r"\bage[ds]?\b[^0-9<>]{0,15}(>=|>)\s*(\d{1,3})", re.I)
_AGE_MIN_YEARS = re.compile(r"(>=|>)\s*(\d{1,3})\s*(?:years?|yrs?)(?:\s+(?:of\s+age|old))?", re.I)
_AGE_MAX_AFTER_WORD = re.compile(r"\bage[ds]?\b[^0-9<>]{0,15}(<=|<)\s*(\d{1,3})", re.I)
_AGE_MAX_YEARS = re.compile(r"(<=|<)\s*(\d{1,3})\s*(?:years?|yrs?)\b", re.I)
_YEARS_OR_OLDER = re.compile(
    r"(\d{1,3})\s*(?:years?|yrs?)(?:\s+of\s+age|\s+old)?\s*(?:or|and)\s+(?:older|above|over)", re.I
)
_AGED_OR_OLDER = re.compile(
    r"\bage[ds]?\s+(\d{1,3})\s*(?:years?)?\s*(?:or|and)\s+(?:older|above|over)", re.I
)
_YEARS_OR_YOUNGER = re.compile(
    r"(\d{1,3})\s*(?:years?|yrs?)(?:\s+of\s+age|\s+old)?\s*(?:or|and)\s+(?:younger|under|below)",
    re.I,
)
_AGE_WORDS = re.compile(r"\bage|\bold\b|of age|years", re.I)


def _age(seg: str) -> list[Node]:
    seg = _slashed(seg)
    if not _AGE_CUE.search(seg):
        return []
    if _DONOR.search(seg):
        return []  # "Donor age 16-65 years": the donor's age, not the patient's
    rng = _AGE_RANGE.search(seg)
    between = _AGE_BETWEEN.search(seg)
    m = rng or between
    if m is not None and (rng is None or _AGE_OR_YEARS.search(seg)):
        lo, hi = float(m.group(1)), float(m.group(2))
        if 0 < lo < hi <= 120:
            return [AgeAtom(min_years=lo, max_years=hi)]
    lo_m = _AGE_MIN_AFTER_WORD.search(seg) or _AGE_MIN_YEARS.search(seg)
    hi_m = _AGE_MAX_AFTER_WORD.search(seg) or _AGE_MAX_YEARS.search(seg)
    older = _YEARS_OR_OLDER.search(seg) or _AGED_OR_OLDER.search(seg)
    younger = _YEARS_OR_YOUNGER.search(seg)
    lo_v: float | None = None
    hi_v: float | None = None
    if lo_m is not None:
        lo_v = float(lo_m.group(2)) + (1 if lo_m.group(1) == ">" else 0)
    elif older is not None:
        lo_v = float(older.group(1))
    if hi_m is not None:
        hi_v = float(hi_m.group(2)) - (1 if hi_m.group(1) == "<" else 0)
    elif younger is not None:
        hi_v = float(younger.group(1))
    if lo_v is None and hi_v is None:
        return []
    if lo_v is not None and hi_v is not None and lo_v > hi_v:
        return []  # "65 or older, or under 65 with …": two alternatives, not one range
    if not _AGE_WORDS.search(seg):
        return []
    return [AgeAtom(min_years=lo_v, max_years=hi_v)]


_SCALE_AFTER = re.compile(
    r"\bperformance\s+status\b\s*(?:score\s+)?(?:of\s+)?(<=|<|=)?\s*(\d)\b"
    r"((?:\s*(?:,|-|to|or)\s*\d\b)*)()\s*(?:\(|as\s+per|by|on|according\s+to|using)\s*"
    r"(?:the\s+)?(?:ECOG|Zubrod|SWOG|(?-i:WHO))\b",
    re.I,
)


def _performance(seg: str) -> list[Node]:
    seg = _slashed(seg)
    atoms: list[Node] = []
    ecog = re.search(
        # "WHO" only in capitals: "patients who are relapsed … >= 2 prior lines" is not a scale
        r"\b(?:ECOG|Eastern Cooperative Oncology Group|(?-i:WHO)|Zubrod|SWOG)\b"
        r"(?:[\s\w()/:-]{0,40}?)"
        r"(?:\b(?:PS|score|status|of|grade)\b\s*)?(<=|<|>=|>|=|of)?\s*(\d)\b"
        r"((?:\s*(?:,|-|to|or|and|,\s*or)\s*\d\b)*)(\s*or\s+(?:higher|greater|more|above|worse))?",
        seg,
        re.I,
    )
    if ecog is None:
        # "Performance status of <= 2 as per Zubrod scale": the scale named after the limit
        ecog = _SCALE_AFTER.search(seg)
    if ecog is not None:
        first = int(ecog.group(2))
        rest = [int(x) for x in re.findall(r"\d", ecog.group(3) or "")]
        if max([first, *rest]) > 5:
            ecog = None  # off the 0-5 scale: a registry slip, flagged by residue, not guessed
    if ecog is not None:
        op = ecog.group(1)
        if op in {">=", ">"} or ecog.group(4):
            limit = first + (1 if op == ">" else 0)
            if limit >= 1:
                atoms.append(PerformanceAtom(max_ecog=limit - 1, negate=True))
        elif op == "<":
            atoms.append(PerformanceAtom(max_ecog=max(0, first - 1)))
        else:
            atoms.append(PerformanceAtom(max_ecog=max([first, *rest])))
    kps = re.search(
        r"\b(?:Karnofsky|KPS)\b(?:[\s\w()]{0,30}?)(>=|>|<=|<|of)?\s*(\d{2,3})\s*%?", seg, re.I
    )
    if kps is not None:
        value = int(kps.group(2))
        if kps.group(1) in {"<", "<="}:
            bound = value + (1 if kps.group(1) == "<=" else 0)
            atoms.append(PerformanceAtom(min_karnofsky=min(100, bound), negate=True))
        elif value <= 100:
            atoms.append(PerformanceAtom(min_karnofsky=value + (1 if kps.group(1) == ">" else 0)))
    if len(atoms) == 2:
        return [Group(op="or", items=tuple(atoms))]
    return atoms
