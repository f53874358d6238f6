"""Recogniser: laboratory thresholds, converted to canonical units."""

from __future__ import annotations

import re

from myelonav.trials.criteria.models import (
    Group,
    LabAtom,
    Node,
)
from myelonav.trials.criteria.units import (
    Comparison,
    bilirubin_mg_dl,
    comparisons,
    count_to_1e9_per_l,
    creatinine_mg_dl,
    hemoglobin_g_dl,
)

_LAB_NAMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\babsolute neutrophil(?:s)?(?: count)?\b|\bANC\b|\bneutrophils?(?: count)?\b", re.I
        ),
        "anc",
    ),
    (re.compile(r"\bplatelets?(?: count)?\b|\bPLT\b", re.I), "platelets"),
    (re.compile(r"\bha?emoglobin\b|\bHgb\b|\bHb\b", re.I), "hemoglobin"),
    (re.compile(r"\bcreatinine clearance\b|\bCrCl\b|\bCLcr\b|\bCrCL\b", re.I), "crcl"),
    (re.compile(r"\beGFR\b|\b(?:estimated )?glomerular filtration rate\b|\bGFR\b", re.I), "egfr"),
    (
        re.compile(r"\bserum creatinine\b(?! clearance)|\bcreatinine\b(?! clearance)", re.I),
        "creatinine",
    ),
    (re.compile(r"\b(?:total |serum )?bilirubin\b", re.I), "bilirubin"),
    (re.compile(r"\bAST\b|\baspartate (?:amino)?transferase\b|\bSGOT\b", re.I), "ast"),
    (re.compile(r"\bALT\b|\balanine (?:amino)?transferase\b|\bSGPT\b", re.I), "alt"),
    (re.compile(r"\b(?:corrected )?(?:serum )?calcium\b", re.I), "calcium"),
)


def _lab_value(analyte: str, c: Comparison) -> tuple[float | None, float | None]:
    """(value in canonical unit, ULN multiple) or (None, None) when the unit does not fit."""
    if c.is_uln:
        return None, c.value
    if analyte in {"anc", "platelets"}:
        if c.unit in {"g/dl", "mg/dl", "ml/min", "%", "u/l", "iu/l"}:
            return None, None
        return count_to_1e9_per_l(c.value, c.unit, platelets=analyte == "platelets"), None
    if analyte == "hemoglobin":
        return (
            (hemoglobin_g_dl(c.value, c.unit), None)
            if c.unit in {"", "g/dl", "g/l", "mmol/l"}
            else (None, None)
        )
    if analyte in {"crcl", "egfr"}:
        return (c.value, None) if c.unit.startswith("ml/min") or c.unit == "" else (None, None)
    if analyte == "creatinine":
        return (
            (creatinine_mg_dl(c.value, c.unit), None)
            if c.unit in {"", "mg/dl", "umol/l"}
            else (None, None)
        )
    if analyte == "bilirubin":
        return (
            (bilirubin_mg_dl(c.value, c.unit), None)
            if c.unit in {"", "mg/dl", "umol/l"}
            else (None, None)
        )
    if analyte in {"ast", "alt"}:
        return (c.value, None) if c.unit in {"u/l", "iu/l"} else (None, None)
    if analyte == "calcium":
        return (c.value, None) if c.unit in {"", "mg/dl"} else (None, None)
    return None, None


def _labs(seg: str) -> list[Node]:
    mentions: list[tuple[int, int, str]] = []
    for pattern, name in _LAB_NAMES:
        for m in pattern.finditer(seg):
            if name == "creatinine" and re.match(
                r"\s*clearance", seg[m.end() : m.end() + 12], re.I
            ):
                continue
            mentions.append((m.start(), m.end(), name))
    if not mentions:
        return []
    mentions.sort()
    comps = comparisons(seg)
    atoms: list[tuple[int, Node]] = []
    pending: list[tuple[int, int, str]] = []
    ci = 0
    for mention in mentions:
        pending.append(mention)
        # the comparison that follows this mention, before the next mention
        nxt = next((m for m in mentions if m[0] > mention[0]), None)
        comp = next((c for c in comps[ci:] if c.start >= mention[1]), None)
        if comp is None:
            continue
        if nxt is not None and nxt[0] < comp.start:
            gap = seg[mention[1] : nxt[0]]
            if re.fullmatch(r"\s*(?:and|or|/|,|and/or)\s*(?:total\s+|serum\s+)?", gap, re.I):
                continue  # "AST and ALT <= 2.5 x ULN": share the comparison
            pending = [p for p in pending if p is not mention]
            continue
        for p in pending:
            value, uln = _lab_value(p[2], comp)
            if value is None and uln is None:
                continue
            op = "ge" if comp.op == "eq" else comp.op
            atoms.append((p[0], LabAtom(analyte=p[2], op=op, value=value, uln_multiple=uln)))
        pending = []
        ci = comps.index(comp) + 1
    if not atoms:
        return []
    nodes = [a for _, a in atoms]
    # "serum creatinine <= 2 mg/dL or CrCl >= 40 mL/min": alternatives
    if len(nodes) == 2:
        between = seg[atoms[0][0] : atoms[1][0]]
        if re.search(r"\bor\b", between) and not re.search(r"\band\b|;", between):
            return [Group(op="or", items=tuple(nodes))]
    return nodes
