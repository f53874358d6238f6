"""Mentions: drugs (token n-grams looked up in one folded-name table), classes, modalities and
antigen targets in a segment, grouped into targets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from myelonav.patient.vocabulary import fold, vocabulary
from myelonav.trials.criteria import lexicon as lx


@dataclass
class _Mention:
    start: int
    end: int
    classes: frozenset[str]
    drug: str | None = None


def _therapy_mentions(seg: str, skip: Sequence[tuple[int, int]]) -> list[_Mention]:
    raw: list[_Mention] = []

    def free(a: int, b: int) -> bool:
        return not any(a < e and s < b for s, e in skip)

    for table in (lx.ANTIGENS, lx.MODALITIES, lx.CLASSES):
        for pattern, cls in table:
            for m in pattern.finditer(seg):
                if free(m.start(), m.end()):
                    raw.append(_Mention(m.start(), m.end(), frozenset({cls})))
    for start, end, drug_id in drug_spans(seg):
        if free(start, end) and not _covered(raw, start, end):
            raw.append(_Mention(start, end, frozenset(), drug_id))
    raw.sort(key=lambda x: (x.start, -x.end))
    # drop mentions nested in an earlier one ("CAR T" inside "CAR T-cell")
    out: list[_Mention] = []
    for mention in raw:
        if out and mention.start < out[-1].end:
            if mention.drug is None and out[-1].drug is None:
                out[-1] = _Mention(
                    out[-1].start, max(out[-1].end, mention.end), out[-1].classes | mention.classes
                )
            continue
        out.append(mention)
    return out


_TOKEN = re.compile(r"[A-Za-z0-9]+")
_MAX_NAME_TOKENS = 4


@cache
def _name_index() -> dict[str, str]:
    """Folded drug name → canonical id, for every name in the vocabulary."""
    voc = vocabulary()
    return {fold(name): drug.id for drug in voc.drugs.values() for name in drug.names}


@lru_cache(maxsize=65536)
def drug_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, drug id) of every vocabulary drug named in ``text``, longest name first.

    Token n-grams are folded and looked up, which is much faster than one large regex and
    matches the vocabulary's own folding ("ide-cel", "ide cel", "IDECEL")."""
    index = _name_index()
    # tokens are alphanumeric, so folding an n-gram is lower-casing and joining its tokens
    tokens = [(m.start(), m.end(), m.group(0).lower()) for m in _TOKEN.finditer(text)]
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        for n in range(min(_MAX_NAME_TOKENS, len(tokens) - i), 0, -1):
            key = "".join(t[2] for t in tokens[i : i + n])
            drug_id = index.get(key)
            if drug_id is not None:
                found.append((tokens[i][0], tokens[i + n - 1][1], drug_id))
                i += n
                break
        else:
            i += 1
    return tuple(found)


def _covered(mentions: Iterable[_Mention], start: int, end: int) -> bool:
    return any(m.start <= start and end <= m.end for m in mentions)


_ANTIGEN_CLASSES = frozenset({"bcma_directed", "gprc5d_directed", "fcrh5_directed"})
_MODALITY_CLASSES = frozenset({"car_t", "bispecific", "adc"})


@dataclass
class _Target:
    start: int
    end: int
    groups: list[tuple[str, ...]]
    drugs: list[str]
    sep_before: str = ""


def _targets(seg: str, mentions: list[_Mention]) -> list[_Target]:
    """Merge adjacent mentions ("BCMA-directed" + "CAR T") into targets with their separators."""
    items: list[tuple[int, int, set[str], list[str], str]] = []
    for mention in mentions:
        if items:
            gap = seg[items[-1][1] : mention.start]
            if lx.TARGETED_WORDS.match(gap) or re.fullmatch(
                # "BCMA-directed monoclonal antibody", "bispecific antibody targeting GPRC5D"
                r"[\s\-]*(?:(?:(?:monoclonal\s+)?antibod\w+|(?:cell\s+)?(?:therap\w+|treatments?|"
                r"products?|agents?))\s+(?=directed|targeted|targeting|against))?"
                r"(?:directed(?:\s+(?:against|at|to))?|targeted|targeting|against)?\s*"
                r"(?:monoclonal\s+)?(?:antibod\w+\s*)?",
                gap,
                re.I,
            ):
                last = items[-1]
                merged = last[2] | set(mention.classes)
                drugs = [*last[3], *([mention.drug] if mention.drug else [])]
                items[-1] = (last[0], mention.end, merged, drugs, last[4])
                continue
            sep = gap
        else:
            sep = ""
        items.append(
            (
                mention.start,
                mention.end,
                set(mention.classes),
                [mention.drug] if mention.drug else [],
                sep,
            )
        )
    targets: list[_Target] = []
    inherited: str | None = None
    for start, end, classes, drugs, sep in items:
        antigens = classes & _ANTIGEN_CLASSES
        modalities = classes & _MODALITY_CLASSES
        others = classes - _ANTIGEN_CLASSES - _MODALITY_CLASSES
        groups: list[tuple[str, ...]] = []
        if antigens and modalities:
            groups += [tuple(sorted({*antigens, m})) for m in sorted(modalities)]
            inherited = next(iter(sorted(antigens)))
        elif antigens:
            groups += [(a,) for a in sorted(antigens)]
            inherited = next(iter(sorted(antigens)))
        elif modalities:
            short_sep = re.fullmatch(
                r"\s*(?:(?:therap\w*|treatments?|agents?)\s*)?(?:\(|,|or|and|/|and/or|,\s*or|,\s*and)?"
                r"\s*(?:an?\s+)?",
                sep or "",
                re.I,
            )
            if inherited and short_sep:
                groups += [tuple(sorted({inherited, m})) for m in sorted(modalities)]
            else:
                groups += [(m,) for m in sorted(modalities)]
                inherited = None
        groups += [(o,) for o in sorted(others)]
        targets.append(_Target(start, end, groups, drugs, sep))
    return targets
