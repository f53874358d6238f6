"""Recogniser: laboratory thresholds, converted to canonical units."""

from __future__ import annotations

import re
from typing import Literal

from myelonav.trials.criteria.models import (
    Group,
    LabAtom,
    Node,
    OtherAtom,
    Section,
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
        if c.unit == "" and c.value > 20:
            return None, None  # "creatinine > 177 mol/L": a unit slip, not 177 mg/dL
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


# A CRAB / SLiM definition quoted as its own item ("Renal insufficiency: creatinine clearance
# < 40 mL/min …"): it defines a myeloma-defining event at diagnosis, one of several
# alternatives, not a lab limit the patient must meet today.
_CRAB_DEFINITION = re.compile(
    r"^\W*(?:\d{1,2}\.|[ivx]{1,4}\.|\[?[CRAB]\]?)?\s*(?:hypercalc\w*|renal\s+insufficiency|"
    r"ana?emia|bone\s+lesions?)\s*:|^\W*evidence\s+of\s+end[\s-]organ\s+damage\b[^.;]{0,120}?"
    r"\b(?:specifically|following|defined)\b",
    re.I,
)
# "should fit one of: 1) disease progression; 2) relapsed after CR. The corresponding criteria
# is defined as follows: … plasmacytoma …, or hypercalcemia (calcium > 11.5 mg/dL)": what
# counts as progression, not a plasmacytoma or a calcium level the patient must have today.
_PROGRESSION_DEFINITION = re.compile(
    r"\bcorresponding\s+criteri\w*\s+(?:is|are)\s+defined\b|"
    r"\bprogression\s+should\s+satisfy\b",
    re.I,
)
# A value stated against the normal range ("hemoglobin > 2 g/dL below the lower limit of
# normal", "calcium > 0.25 mmol/L higher than the upper limit of normal"): not an absolute limit.
_RELATIVE_TO_NORMAL = re.compile(
    r"^[^\w<>]{0,3}(?:\([^()]{0,20}\)\s*)?(?:below|above|higher\s+than|lower\s+than|over|under|<|>)\s*"
    r"(?:the\s+)?(?:lower|upper)\s+limit",
    re.I,
)
# Support that may be used to reach a limit ("platelets >= 50 (transfusion allowed)"): the
# limit can still be reached, so a value below it is not a failure. Analytes each one can move.
_SUPPORT = (
    (
        re.compile(
            r"\btransfusions?(?:\s+support)?\s+(?:is\s+|are\s+)?(?:allowed|permitted)\b|"
            r"\bwith\s+or\s+without\s+(?:\w+\s+)?transfusion",
            re.I,
        ),
        frozenset({"platelets", "hemoglobin"}),
        "the limit may be reached with transfusion support (allowed)",
    ),
    (
        re.compile(
            r"\bgrowth\s+factors?(?:\s+support)?\s+(?:is\s+|are\s+)?(?:allowed|permitted)\b|"
            r"\bmay\s+use\s+growth\s+factor",
            re.I,
        ),
        frozenset({"anc"}),
        "the limit may be reached with growth factor support (allowed)",
    ),
)
# Gilbert's syndrome widens the bilirubin limit for the patients who have it; the record does
# not say, so a bilirubin above the limit is not a failure. Numbers inside that clause belong
# to the exception, not to the limit.
_GILBERT = re.compile(r"\bGilbert", re.I)
GILBERT_NOTE = "a wider bilirubin limit applies with Gilbert's syndrome (not recorded)"
SUPPORT_NOTES = frozenset({GILBERT_NOTE, *(note for _, _, note in _SUPPORT)})
SUPPORT_PATTERNS = tuple(pattern for pattern, _, _ in _SUPPORT)


def support_spans(text: str) -> list[tuple[int, int]]:
    """Where transfusion or growth-factor support is allowed (accounted for by the wrap)."""
    return [(m.start(), m.end()) for pattern, _, _ in _SUPPORT for m in pattern.finditer(text)]


def gilbert_spans(seg: str) -> list[tuple[int, int]]:
    """The parenthesis or sentence that carries a Gilbert's-syndrome exception."""
    spans: list[tuple[int, int]] = []
    for m in _GILBERT.finditer(seg):
        open_at = seg.rfind("(", 0, m.start())
        if open_at != -1 and seg.find(")", open_at, m.start()) == -1:
            close = seg.find(")", m.end())
            spans.append((open_at, close + 1 if close != -1 else len(seg)))
            continue
        stop = max(seg.rfind(". ", 0, m.start()), seg.rfind("; ", 0, m.start()))
        end = seg.find(". ", m.end())
        spans.append((stop + 1 if stop != -1 else m.start(), end if end != -1 else len(seg)))
    return spans


def widen_for_carve_outs(tree: Node, text: str, section: Section) -> Node:
    """Wrap each lab limit a carve-out in ``text`` can widen, so failing it reads "ask the
    study team", not "not met".

    Inclusion: ``limit OR unknown`` (met when met, else unknown). Exclusion: ``limit AND
    unknown`` (not excluded when the limit is fine, else unknown). Kleene logic does the rest;
    limits on other analytes in the same item keep deciding on their own. A fragment that only
    states the Gilbert's exception is then accounted for and dropped."""
    if _CRAB_DEFINITION.match(text) or _PROGRESSION_DEFINITION.search(text):
        return OtherAtom(text=text.strip())  # a definition list, whatever segments it split into
    widened: dict[str, str] = {}
    for pattern, analytes, note in _SUPPORT:
        if pattern.search(text):
            widened.update(dict.fromkeys(analytes, note))
    if _GILBERT.search(text):
        widened["bilirubin"] = GILBERT_NOTE
    if not widened:
        return tree
    op: Literal["and", "or"] = "or" if section is Section.inclusion else "and"

    def walk(node: Node) -> Node | None:
        if isinstance(node, Group):
            kept = [k for k in (walk(item) for item in node.items) if k is not None]
            if not kept:
                return None
            return kept[0] if len(kept) == 1 else node.model_copy(update={"items": tuple(kept)})
        if isinstance(node, LabAtom) and node.analyte in widened:
            return Group(op=op, items=(node, OtherAtom(text=widened[node.analyte])))
        if (
            isinstance(node, OtherAtom)
            and "bilirubin" in widened
            and _GILBERT.search(node.text)
            and not _OTHER_CLINICAL.search(_GILBERT_CLAUSE.sub(" ", node.text))
        ):
            return None
        return node

    return walk(tree) or tree


# What a Gilbert's-exception fragment may say besides the exception itself.
_GILBERT_CLAUSE = re.compile(
    r"\b(?:subjects?|patients?|participants?|with|documented|known|confirmed|gilbert\W?s?|"
    r"syndrome|disease|may|can|have|has|a|an|the|bilirubin|total|direct|conjugated|x|uln|of|"
    r"upper|limit|normal|approval|approved|by|medical|monitor|director|primary|therapeutic|"
    r"area|sponsor|investigator|allowed|permitted|if|is|are|or|and|\d+(?:\.\d+)?)\b|[^\w]",
    re.I,
)
_OTHER_CLINICAL = re.compile(r"[A-Za-z]{3,}")
# "Absolute lymphocyte count >= 0.5x10^9/L" beside other limits (CAR-T and CAR-NK studies)
_ALC = re.compile(r"\b(?:absolute\s+)?lymphocyte\s+count\b|\bALC\b", re.I)
ALC_NOTE = "absolute lymphocyte count limit (not in the record)"


def _labs(seg: str) -> list[Node]:
    if _CRAB_DEFINITION.match(seg):
        return [OtherAtom(text=seg.strip())]
    return _lab_atoms(seg)


def _lab_atoms(seg: str) -> list[Node]:
    mentions: list[tuple[int, int, str]] = []
    for pattern, name in _LAB_NAMES:
        for m in pattern.finditer(seg):
            if name == "creatinine" and re.match(
                r"\s*clearance", seg[m.end() : m.end() + 12], re.I
            ):
                continue
            mentions.append((m.start(), m.end(), name))
    if not mentions:
        # a lymphocyte-count limit on its own: the record holds none, so it is a missing fact
        return [OtherAtom(text=ALC_NOTE)] if _ALC.search(seg) and comparisons(seg) else []
    mentions.sort()
    gilbert = gilbert_spans(seg)
    comps = [c for c in comparisons(seg) if not any(a <= c.start < b for a, b in gilbert)]
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
        relative = bool(_RELATIVE_TO_NORMAL.match(seg[comp.end : comp.end + 60]))
        for p in pending:
            if relative:
                atoms.append((p[0], OtherAtom(text=f"{p[2]} relative to the normal range")))
                continue
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
    alc = _ALC.search(seg)
    if alc is not None:
        # the record holds no lymphocyte count: the limit is kept as a question, so the other
        # limits read beside it can still fail the item but can no longer pass it alone
        return [*nodes, OtherAtom(text=ALC_NOTE)]
    # "serum creatinine <= 2 mg/dL or CrCl >= 40 mL/min": alternatives
    if len(nodes) == 2:
        between = seg[atoms[0][0] : atoms[1][0]]
        if re.search(r"\bor\b", between) and not re.search(r"\band\b|;", between):
            return [Group(op="or", items=tuple(nodes))]
    return nodes
