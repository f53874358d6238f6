"""Recognisers: measurable disease, disease features, antigen expression, cytogenetics and
disease state."""

from __future__ import annotations

import re

from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    AntigenAtom,
    CytogeneticAtom,
    DiseaseStateAtom,
    FeatureAtom,
    Group,
    MeasurableAtom,
    Node,
)
from myelonav.trials.criteria.recognisers.negation import _THERAPY_FOR, _negated


def _measurable(seg: str) -> list[Node]:
    if not lx.MEASURABLE.search(seg):
        return []
    if re.search(r"\bMRD\b|\bminimal\s+residual\b|\bno\s+limitations?\b", seg, re.I):
        return []  # "measurable MRD in bone marrow": residual disease, not IMWG measurable disease
    negate = bool(lx.NON_MEASURABLE.search(seg))
    serum = re.search(
        r"\bserum\b[^;:]{0,40}?\b(?:M[\s-]?(?:protein|spike|component)|monoclonal protein|"
        r"paraprotein)[^;:0-9]{0,20}?(>=|>)\s*(\d+(?:\.\d+)?)\s*(g/dL|g/L)",
        seg,
        re.I,
    ) or re.search(
        r"\b(?:M[\s-]?(?:protein|spike))\b[^;:0-9]{0,20}?(>=|>)\s*(\d+(?:\.\d+)?)\s*(g/dL|g/L)",
        seg,
        re.I,
    )
    # "mg/24 h", and "mg in a 24-hour collection" / "mg per 24 hours"
    urine = re.search(
        r"\burin(?:e|ary)\b[^;:]{0,40}?(>=|>)\s*(\d+(?:\.\d+)?)\s*mg\s*(?:/\s*|(?:in|per)\s+(?:an?\s+)?)24",
        seg,
        re.I,
    )
    flc = re.search(
        r"\b(?:free light chain|FLC)s?\b[^;:0-9]{0,40}?(>=|>)\s*(\d+(?:\.\d+)?)\s*"
        r"mg\s*/\s*(dL|L)\b",
        seg,
        re.I,
    )
    if not (serum or urine or flc):
        # IMWG 2016 measurable disease (Kumar et al., Lancet Oncol 2016;17:e328-46)
        return [MeasurableAtom(serum_g_dl=1.0, urine_mg_24h=200.0, flc_mg_dl=10.0, negate=negate)]
    s = (
        float(serum.group(2)) / (10.0 if serum.group(3).lower() == "g/l" else 1.0)
        if serum
        else None
    )
    u = float(urine.group(2)) if urine else None
    f = float(flc.group(2)) / (10.0 if flc.group(3).lower() == "l" else 1.0) if flc else None
    return [MeasurableAtom(serum_g_dl=s, urine_mg_24h=u, flc_mg_dl=f, negate=negate)]


_BIOPSY_SITE = re.compile(
    r"\b(?:from|on|in)\s+(?:either\s+)?(?:(?:the\s+)?bone\s+marrow\s+or\s+)?(?:an?\s+)?"
    r"(?:extramedullary\s+)?plasmacytomas?\b",
    re.I,
)


def _features(seg: str) -> list[Node]:
    atoms: list[Node] = []
    for pattern, feature in ((lx.CNS, "cns"), (lx.PCL, "pcl"), (lx.NON_SECRETORY, "non_secretory")):
        m = pattern.search(seg)
        if m is not None:
            atoms.append(FeatureAtom(feature=feature, negate=_negated(seg, m.start())))
    m = lx.EMD.search(seg)
    site = _BIOPSY_SITE.search(seg)
    if m is not None and site is not None and site.start() <= m.start() < site.end():
        m = None  # "BCMA detected on marrow or a plasmacytoma": where the sample comes from
    if m is not None and not lx.SOLITARY.search(seg):
        atoms.append(
            FeatureAtom(
                feature="extramedullary",
                paraskeletal=bool(lx.PARASKELETAL.search(seg)),
                negate=_negated(seg, m.start()),
            )
        )
    return atoms


def _antigens(seg: str) -> tuple[list[Node], list[tuple[int, int]]]:
    atoms: list[Node] = []
    spans: list[tuple[int, int]] = []
    for m in lx.ANTIGEN_EXPRESSION.finditer(seg):
        antigen = (m.group(1) or m.group(2) or m.group(3) or m.group(4)).upper()
        negative = bool(m.group(3)) or _negated(seg, m.start())
        atom = AntigenAtom(
            antigen=antigen,
            after_latest_relapse=bool(lx.AFTER_RELAPSE.search(seg)),
            negate=negative,
        )
        if atom not in atoms:
            atoms.append(atom)
        spans.append((m.start(), m.end()))
    return atoms, spans


def _cytogenetics(seg: str) -> list[Node]:
    if lx.CYTOGENETICS_ANY.search(seg) is None:
        return []
    atoms: list[Node] = []
    for pattern, abn in lx.CYTOGENETICS:
        m = pattern.search(seg)
        if m is not None:
            atoms.append(CytogeneticAtom(abnormality=abn.value, negate=_negated(seg, m.start())))
    if len(atoms) > 1:
        return [Group(op="or", items=tuple(atoms))]
    return atoms


_ATTRIBUTED_TO = re.compile(
    r"\b(?:attribut\w+|due|related|secondary|caused)\s+(?:to|by)\s+(?:the\s+)?(?:underlying\s+)?$",
    re.I,
)


# "Relapsed or refractory disease as defined below: …" (the item opens with the population)
_RR_DISEASE = re.compile(
    r"^\W*(?:relapsed\s*(?:and/or|/|or|and)\s*refractory|relapsed|refractory)\s+(?:disease|MM)\b",
    re.I,
)


def _disease_states(seg: str) -> list[Node]:
    atoms: list[Node] = []
    for pattern, state in lx.DISEASE_STATES:
        for m in pattern.finditer(seg):
            if _THERAPY_FOR.search(seg[max(0, m.start() - 50) : m.start()]):
                continue
            if _ATTRIBUTED_TO.search(seg[max(0, m.start() - 40) : m.start()]):
                continue  # "organ damage attributed to the underlying SMM": a cause, not a state
            atoms.append(DiseaseStateAtom(states=(state,), negate=_negated(seg, m.start())))
            break
    if _RR_DISEASE.match(seg) and not lx.RRMM_PHRASE.search(seg):
        atoms.append(DiseaseStateAtom(states=("rrmm",)))
    if lx.RRMM_PHRASE.search(seg) and not any(
        isinstance(a, DiseaseStateAtom) and "ndmm" in a.states for a in atoms
    ):
        rr = lx.RRMM_PHRASE.search(seg)
        assert rr is not None
        atoms.append(DiseaseStateAtom(states=("rrmm",), negate=_negated(seg, rr.start())))
    # "smoldering myeloma or MGUS": one population, any of the states
    positive = [a for a in atoms if isinstance(a, DiseaseStateAtom) and not a.negate]
    if len(positive) > 1:
        states = tuple(dict.fromkeys(st for a in positive for st in a.states))
        if "ndmm" in states:
            # "previously untreated, symptomatic myeloma": one population qualified, not two
            states = tuple(st for st in states if st != "active_mm")
        merged = DiseaseStateAtom(states=states)
        atoms = [merged] + [a for a in atoms if a not in positive]
    return atoms
