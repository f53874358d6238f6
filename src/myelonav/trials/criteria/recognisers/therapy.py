"""Recognisers: exposure and refractoriness to targets, class sets (triple-class, penta), any
prior therapy."""

from __future__ import annotations

import re

from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    ExposureAtom,
    Group,
    Node,
    Section,
)
from myelonav.trials.criteria.recognisers.mentions import _Target
from myelonav.trials.criteria.recognisers.negation import _negated

# "relapsed and/or refractory to at least 2 regimens, including an IMiD …": relapsed after
# OR refractory to; the named classes are exposure, not refractoriness
_RELAPSED_OR_REFRACTORY = re.compile(
    r"\brelapsed\s*(?:and\s*/\s*or|/|or)\s*(?:were\s+|was\s+)?refractory\b", re.I
)


def _exposures(
    seg: str, section: Section, targets: list[_Target], except_groups: tuple[tuple[str, ...], ...]
) -> list[Node]:
    if not targets:
        return []
    stripped = _RELAPSED_OR_REFRACTORY.sub(" ", lx.RRMM_PHRASE.sub(" ", seg))
    refractory = bool(lx.REFRACTORY.search(stripped))
    not_allowed = bool(lx.NOT_ALLOWED.search(seg))
    allowed = bool(lx.ALLOWED.search(seg)) and not not_allowed
    if allowed and section is Section.exclusion:
        return []
    runs: list[list[_Target]] = [[targets[0]]]
    for t in targets[1:]:
        is_or = bool(re.search(r"\bor\b", t.sep_before, re.I))
        # "both a BCMA bispecific and a BCMA CAR T": every one, even in an exclusion
        both = bool(re.search(r"\bboth\b", seg[: t.start], re.I)) and bool(
            re.search(r"\band\b", t.sep_before, re.I)
        )
        if (
            (section is Section.exclusion and not both)
            or is_or
            or re.search(r"\bor\b", seg[t.end : t.end + 8], re.I)
        ):
            runs[-1].append(t)
        else:
            runs.append([t])
    # inclusion "a PI, an IMiD, or an anti-CD38": a final "or" makes the whole list alternatives
    if (
        section is Section.inclusion
        and len(runs) > 1
        and re.search(r"\bor\b", targets[-1].sep_before, re.I)
    ):
        runs = [[t for run in runs for t in run]]
    nodes: list[Node] = []
    for run in runs:
        groups = tuple(dict.fromkeys(g for t in run for g in t.groups))
        drugs = tuple(dict.fromkeys(d for t in run for d in t.drugs))
        negate = _negated(seg, run[0].start, run[-1].end) or (
            not_allowed and section is Section.inclusion
        )
        nodes.append(
            ExposureAtom(
                groups=groups,
                drugs=drugs,
                except_groups=except_groups,
                refractory=refractory,
                allowed=allowed and section is Section.inclusion,
                negate=negate and not allowed,
            )
        )
    return nodes


def _class_sets(seg: str) -> list[Node]:
    """Triple-class / penta / quad / double exposure or refractoriness."""
    refractory = bool(
        lx.REFRACTORY.search(_RELAPSED_OR_REFRACTORY.sub(" ", lx.RRMM_PHRASE.sub(" ", seg)))
    )
    specs: list[tuple[tuple[str, int], ...]] = [
        spec
        for pattern, spec in (
            (lx.PENTA, (("proteasome_inhibitor", 2), ("imid", 2), ("anti_cd38", 1))),
            (lx.QUAD, (("proteasome_inhibitor", 2), ("imid", 2))),
            (lx.TRIPLE_CLASS, (("proteasome_inhibitor", 1), ("imid", 1), ("anti_cd38", 1))),
            (lx.DOUBLE, (("proteasome_inhibitor", 1), ("imid", 1))),
        )
        if pattern.search(seg)
    ]
    if not specs:
        return []
    sets = [
        Group(
            op="and",
            items=tuple(
                ExposureAtom(groups=((cls,),), refractory=refractory, min_agents=n)
                for cls, n in spec
            ),
        )
        for spec in specs
    ]
    if len(sets) > 1 and re.search(r"\bor\b", seg, re.I):
        # "penta-drug refractory or triple-class refractory": either set will do
        return [Group(op="or", items=tuple(sets))]
    return [sets[0]]


_NAMED_OBJECT = re.compile(
    r"\s+(?:with|using|of|by)\s+(?!(?:any|an?|the|anti[\s-]?myeloma|systemic|chemotherapy|"
    r"cytotoxic|one|two|three|at)\b)[A-Za-z]",
    re.IGNORECASE,
)


def _any_therapy(seg: str) -> list[Node]:
    if not lx.EXPOSURE_CONTEXT.search(seg):
        return []
    m = lx.ANY_THERAPY.search(seg)
    if m is None:
        return []
    # "previous treatment with bisphosphonates": a named treatment the lexicon does not know is
    # not "any anti-myeloma therapy"
    if _NAMED_OBJECT.match(seg, m.end()):
        return []
    return [ExposureAtom(any_therapy=True, negate=_negated(seg, m.start()))]
