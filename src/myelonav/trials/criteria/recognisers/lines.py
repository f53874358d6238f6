"""Recogniser: number of prior lines of therapy (one or two bounds)."""

from __future__ import annotations

import re
from collections.abc import Callable

from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    Group,
    Node,
    PriorLinesAtom,
)

# "(Note: Induction, bone marrow transplant with or without maintenance therapy is considered
# one regimen)": the protocol counts regimens as IMWG lines
_REGIMEN_IS_LINE = re.compile(
    r"\b(?:considered|counted|count)\s+(?:as\s+)?(?:one|a\s+single|1)\s+(?:regimen|line)\b", re.I
)


_THERAPIES_COUNTED = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six)\s+((?:or\s+more\s+)?(?:prior\s+|previous\s+)?)"
    r"(?:systemic\s+)?(?:anti[\s-]?(?:cancer|myeloma|neoplastic|tumou?r)\s+)?(?:therapies|treatments)\b",
    re.I,
)


def _lines(seg: str) -> list[Node]:
    # "anti-MM lines of therapy" is "anti-myeloma lines of therapy"
    seg = re.sub(r"\banti[\s-]?MM\b", "anti-myeloma", seg, flags=re.I)
    # "at least 2 prior systemic anti-cancer therapies" counts lines of therapy
    seg = _THERAPIES_COUNTED.sub(r"\1 \2lines", seg)
    if re.search(r"\b(?:at|in)\s+(?:their\s+|the\s+)?first\s+relapse\b", seg, re.I):
        return [PriorLinesAtom(min_lines=1, max_lines=1)]  # "myeloma at first relapse"
    if re.search(
        r"\b(?:response|VGPR|CR|PR|remission)\b[^.;]{0,40}?\bafter\s+(?:first[\s-]line\s+)?"
        r"induction\b|\bcompleted\s+\d+\s*(?:to|-)\s*\d+\s+months\b[^.;]{0,30}?\bof\s+initial\s+"
        r"therapy\b|\bafter\s+(?:this|the)\s+initial\s+therapy\b",
        seg,
        re.I,
    ):
        # "VGPR or better after induction (± consolidation, HDT/ASCT)", "has completed 6 to 12
        # months of initial therapy": the first line only
        return [PriorLinesAtom(min_lines=1, max_lines=1)]
    m = lx.LINES.search(seg)
    if m is None:
        return []
    first = m.group(2)

    def num(word: str) -> int:
        return int(word) if word.isdigit() else lx.NUMBER_WORDS[word.lower()]

    n = num(first)
    if re.search(r"\bregimens?\b", m.group(0), re.I) and not _REGIMEN_IS_LINE.search(seg):
        return [a.model_copy(update={"regimens": True}) for a in _bounds(seg, m, n, num)]
    return list(_bounds(seg, m, n, num))


def _bounds(seg: str, m: re.Match[str], n: int, num: Callable[[str], int]) -> list[PriorLinesAtom]:
    op, second, trailing = m.group(1), m.group(3), m.group(4) or ""
    before = seg[max(0, m.start() - 25) : m.start()]
    if second:
        return [PriorLinesAtom(min_lines=n, max_lines=num(second))]
    # "between 1 and 3 prior lines" ("1 \\& 3" in escaped registry markdown): both bounds
    low = re.search(
        r"\bbetween\s+(\d{1,2}|one|two|three|four|five)\s*(?:and|\\?&)\s*$", before, re.I
    )
    if low is not None and op is None:
        bottom = num(low.group(1))
        return [PriorLinesAtom(min_lines=bottom, max_lines=max(bottom, n))]
    if op in {">=", ">"}:
        bottom = n + (1 if op == ">" else 0)
        # "at least 1 prior line of therapy and no more than 3 prior lines of therapy": the
        # upper bound comes in a second phrase
        upper = lx.LINES.search(seg, m.end())
        if upper is not None and upper.group(1) in {"<=", "<"} and not upper.group(3):
            top = num(upper.group(2)) - (1 if upper.group(1) == "<" else 0)
            if top >= bottom:
                return [PriorLinesAtom(min_lines=bottom, max_lines=top)]
        return [PriorLinesAtom(min_lines=bottom)]
    if op in {"<=", "<"}:
        # "at least 1 and no more than 4 prior lines" (">= 1 and <= 4"): both bounds
        low = re.search(r"(>=|>)\s*(\d{1,2})\s+(?:and|but)\s*$", before)
        top = max(0, n - (1 if op == "<" else 0))
        if low is not None:
            bottom = int(low.group(2)) + (1 if low.group(1) == ">" else 0)
            return [PriorLinesAtom(min_lines=bottom, max_lines=max(bottom, top))]
        return [PriorLinesAtom(max_lines=top)]
    if "more" in trailing or "greater" in trailing:
        return [PriorLinesAtom(min_lines=n)]
    if "fewer" in trailing or "less" in trailing:
        return [PriorLinesAtom(max_lines=n)]
    if re.search(r"\b(?:exactly|only)\s*$", before, re.I):
        return [PriorLinesAtom(min_lines=n, max_lines=n)]
    return [PriorLinesAtom(min_lines=n)]


def regimens_as_lines(tree: Node, text: str) -> Node:
    """``tree`` with its line counts read as IMWG lines when the item itself says a regimen is
    a line ("induction, transplant and maintenance is considered one regimen")."""
    if _REGIMEN_IS_LINE.search(text) is None:
        return tree
    if isinstance(tree, Group):
        items = tuple(regimens_as_lines(i, text) for i in tree.items)
        return tree if items == tree.items else tree.model_copy(update={"items": items})
    if isinstance(tree, PriorLinesAtom) and tree.regimens:
        return tree.model_copy(update={"regimens": False})
    return tree
