"""Eligibility free text → ``ParsedCriteria``: the one entry point is ``parse_criteria``.

Each numbered item is cut into segments (";", sentences, ", or" before a new topic). Inclusion
segments combine with *and* unless the text says *or*; exclusion segments are alternatives
(any one disqualifies), so they combine with *or*. Recognisers turn each segment into atoms;
negation is scoped to the words just before a mention ("no prior …", "BCMA-naive").
Parenthetical examples ("including …", "e.g. …") are dropped; exception clauses ("other than
CAR T", "… is allowed") are carved out of exposure targets, or kept as text when they cannot be.
A segment nothing recognises becomes screening (routine items) or ``other`` ("ask the study
team"). Parsing is pure and deterministic: it runs once when a study is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from myelonav.patient.vocabulary import fold, vocabulary
from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    AgeAtom,
    AntigenAtom,
    Criterion,
    CriterionKind,
    CytogeneticAtom,
    DiseaseStateAtom,
    ExposureAtom,
    FeatureAtom,
    Group,
    IntervalAtom,
    LabAtom,
    MeasurableAtom,
    Node,
    OtherAtom,
    ParsedCriteria,
    PerformanceAtom,
    PriorLinesAtom,
    ScreeningAtom,
    Section,
    TimeSinceAtom,
    TransplantAtom,
)
from myelonav.trials.criteria.residue import region_of, unaccounted
from myelonav.trials.criteria.sections import split_sections
from myelonav.trials.criteria.units import (
    Comparison,
    bilirubin_mg_dl,
    comparisons,
    count_to_1e9_per_l,
    creatinine_mg_dl,
    hemoglobin_g_dl,
    normalise,
    normalise_ops,
)

_NEG_CUE = re.compile(
    r"(?:\b(?:no|not|without|never|none|non|excluding)\b|\bmust not\b|\bha(?:s|ve) not\b|"
    r"\bhas never\b|\bfree of\b|\babsence of\b)[^,;]*$",
    re.IGNORECASE,
)
_NAIVE_AFTER = re.compile(r"^[\s\-]*na[iï]ve\b", re.IGNORECASE)
_THERAPY_FOR = re.compile(r"(?:therap\w*|treatment)\s+for\s+[\w\s/,-]*$", re.IGNORECASE)


def _negated(text: str, start: int, end: int | None = None) -> bool:
    window = text[max(0, start - 45) : start]
    window = re.split(r"[,;:]|\band\b|\bor\b(?! more)", window)[-1]
    if _NEG_CUE.search(window):
        return True
    return end is not None and bool(_NAIVE_AFTER.match(text[end : end + 12]))


# --------------------------------------------------------------------------- recognisers


def _age(seg: str) -> list[Node]:
    if not re.search(r"\bage\b|\baged\b|\byears?\b|\byrs?\b", seg, re.I):
        return []
    rng = re.search(
        r"(?:\bage[ds]?\b[^0-9<>]{0,20})?(\d{1,3})\s*(?:-|to|and)\s*(\d{1,3})\s*(?:years?|yrs?)"
        r"(?:\s+(?:of\s+age|old))?",
        seg,
        re.I,
    )
    between = re.search(
        r"\bbetween\s+(?:the\s+ages\s+of\s+)?(\d{1,3})\s+and\s+(\d{1,3})", seg, re.I
    )
    m = rng or between
    if m is not None and (rng is None or re.search(r"\bage|\byears?\b", seg, re.I)):
        lo, hi = float(m.group(1)), float(m.group(2))
        if 0 < lo < hi <= 120:
            return [AgeAtom(min_years=lo, max_years=hi)]
    lo_m = re.search(r"\bage[ds]?\b[^0-9<>]{0,15}(>=|>)\s*(\d{1,3})", seg, re.I) or re.search(
        r"(>=|>)\s*(\d{1,3})\s*(?:years?|yrs?)(?:\s+(?:of\s+age|old))?", seg, re.I
    )
    hi_m = re.search(r"\bage[ds]?\b[^0-9<>]{0,15}(<=|<)\s*(\d{1,3})", seg, re.I) or re.search(
        r"(<=|<)\s*(\d{1,3})\s*(?:years?|yrs?)\b", seg, re.I
    )
    older = re.search(
        r"(\d{1,3})\s*(?:years?|yrs?)(?:\s+of\s+age|\s+old)?\s*(?:or|and)\s+(?:older|above|over)",
        seg,
        re.I,
    ) or re.search(
        r"\bage[ds]?\s+(\d{1,3})\s*(?:years?)?\s*(?:or|and)\s+(?:older|above|over)", seg, re.I
    )
    younger = re.search(
        r"(\d{1,3})\s*(?:years?|yrs?)(?:\s+of\s+age|\s+old)?\s*(?:or|and)\s+(?:younger|under|below)",
        seg,
        re.I,
    )
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
    if not re.search(r"\bage|\bold\b|of age|years", seg, re.I):
        return []
    return [AgeAtom(min_years=lo_v, max_years=hi_v)]


def _performance(seg: str) -> list[Node]:
    atoms: list[Node] = []
    ecog = re.search(
        r"\b(?:ECOG|Eastern Cooperative Oncology Group|WHO|Zubrod)\b(?:[\s\w()/-]{0,40}?)"
        r"(?:\b(?:PS|score|status|of|grade)\b\s*)?(<=|<|>=|>|=|of)?\s*(\d)\b"
        r"((?:\s*(?:,|-|to|or|and|,\s*or)\s*\d\b)*)(\s*or\s+(?:higher|greater|more|above|worse))?",
        seg,
        re.I,
    )
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


def _measurable(seg: str) -> list[Node]:
    if not lx.MEASURABLE.search(seg):
        return []
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
    urine = re.search(r"\burine\b[^;:]{0,40}?(>=|>)\s*(\d+(?:\.\d+)?)\s*mg\s*/\s*24", seg, re.I)
    flc = re.search(
        r"\b(?:free light chain|FLC)s?\b[^;:0-9]{0,40}?(>=|>)\s*(\d+(?:\.\d+)?)\s*(mg/dL|mg/L)",
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
    f = float(flc.group(2)) / (10.0 if flc.group(3).lower() == "mg/l" else 1.0) if flc else None
    return [MeasurableAtom(serum_g_dl=s, urine_mg_24h=u, flc_mg_dl=f, negate=negate)]


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


def _lines(seg: str) -> list[Node]:
    m = lx.LINES.search(seg)
    if m is None:
        return []
    op, first, second, trailing = m.group(1), m.group(2), m.group(3), m.group(4) or ""

    def num(word: str) -> int:
        return int(word) if word.isdigit() else lx.NUMBER_WORDS[word.lower()]

    n = num(first)
    before = seg[max(0, m.start() - 25) : m.start()]
    if second:
        return [PriorLinesAtom(min_lines=n, max_lines=num(second))]
    if op in {">=", ">"}:
        return [PriorLinesAtom(min_lines=n + (1 if op == ">" else 0))]
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
                r"[\s\-]*(?:directed|targeted|targeting)?\s*(?:monoclonal\s+)?(?:antibod\w+\s*)?",
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


def _exposures(
    seg: str, section: Section, targets: list[_Target], except_groups: tuple[tuple[str, ...], ...]
) -> list[Node]:
    if not targets:
        return []
    stripped = lx.RRMM_PHRASE.sub(" ", seg)
    refractory = bool(lx.REFRACTORY.search(stripped))
    not_allowed = bool(lx.NOT_ALLOWED.search(seg))
    allowed = bool(lx.ALLOWED.search(seg)) and not not_allowed
    if allowed and section is Section.exclusion:
        return []
    runs: list[list[_Target]] = [[targets[0]]]
    for t in targets[1:]:
        is_or = bool(re.search(r"\bor\b", t.sep_before, re.I))
        if (
            section is Section.exclusion
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
    refractory = bool(lx.REFRACTORY.search(lx.RRMM_PHRASE.sub(" ", seg)))
    spec: tuple[tuple[str, int], ...]
    if lx.PENTA.search(seg):
        spec = (("proteasome_inhibitor", 2), ("imid", 2), ("anti_cd38", 1))
    elif lx.QUAD.search(seg):
        spec = (("proteasome_inhibitor", 2), ("imid", 2))
    elif lx.TRIPLE_CLASS.search(seg):
        spec = (("proteasome_inhibitor", 1), ("imid", 1), ("anti_cd38", 1))
    elif lx.DOUBLE.search(seg):
        spec = (("proteasome_inhibitor", 1), ("imid", 1))
    else:
        return []
    items = tuple(
        ExposureAtom(groups=((cls,),), refractory=refractory, min_agents=n) for cls, n in spec
    )
    return [Group(op="and", items=items)]


def _time_windows(
    seg: str, section: Section, targets: list[_Target]
) -> tuple[list[Node], set[int]]:
    """Time windows with their events; returns atoms and the targets they consumed."""
    windows = list(lx.TIME_WINDOW.finditer(seg))
    if not windows:
        return [], set()
    events: list[
        tuple[int, int, str, tuple[tuple[str, ...], ...], tuple[str, ...], int | None]
    ] = []
    for i, t in enumerate(targets):
        classes = {c for g in t.groups for c in g}
        if "car_t" in classes:
            events.append((t.start, t.end, "car_t_infusion", (), (), i))
            rest = tuple(g for g in t.groups if "car_t" not in g)
            if rest or t.drugs:
                events.append((t.start, t.end, "exposure", rest, tuple(t.drugs), i))
        else:
            events.append((t.start, t.end, "exposure", tuple(t.groups), tuple(t.drugs), i))
    for pattern, name in (
        (lx.ALLO, "allogeneic_transplant"),
        (lx.AUTO, "autologous_transplant"),
        (lx.RADIOTHERAPY, "radiotherapy"),
        (lx.ANY_THERAPY, "last_therapy"),
    ):
        for m in pattern.finditer(seg):
            if not any(s <= m.start() < e for s, e, *_ in events):
                events.append((m.start(), m.end(), name, (), (), None))
    if not any(e[2] in {"allogeneic_transplant", "autologous_transplant"} for e in events):
        for m in lx.TRANSPLANT.finditer(seg):
            events.append((m.start(), m.end(), "any_transplant", (), (), None))
    if not events:
        return [], set()
    events.sort(key=lambda e: e[0])
    atoms: list[Node] = []
    used: set[int] = set()
    prev_end = 0
    for w in windows:
        if not _window_cue(seg, w):
            continue
        amount = w.group(2)
        n = float(amount) if amount[0].isdigit() else float(lx.NUMBER_WORDS.get(amount.lower(), 12))
        days = round(n * lx.UNIT_DAYS[w.group(3)[0].lower()])
        before = seg[max(0, w.start() - 12) : w.start()]
        prefix = w.group(0).lower()
        after_text = seg[w.end() : w.end() + 20].lower()
        if (
            w.group(1) in {"<", "<="}
            or prefix.startswith("within")
            or re.search(r"\bin the (?:past|last)\s*$", before, re.I)
        ):
            op = "lt"
        elif w.group(1) in {">", ">="} or re.match(r"\s*or (?:more|longer|greater)", after_text):
            op = "ge"
        else:
            op = "lt" if section is Section.exclusion else "ge"
        near = [e for e in events if prev_end <= e[0] < w.start()]
        if not near:
            near = [e for e in events if e[0] >= w.end()][:1]
        if not near:
            near = [e for e in events if e[0] < w.start()][-1:]
        prev_end = w.end()
        for start, end, event, groups, drugs, ti in near:
            if event == "exposure" and not groups and not drugs:
                continue
            gap = seg[end : w.start()] if end <= w.start() else seg[w.end() : start]
            if lx.TEST_WORDS.search(gap):
                # "... expresses BCMA on a biopsy within 60 days": the window dates the test
                continue
            negate = _negated(seg, start, end) or _negated(seg, w.start())
            atoms.append(
                TimeSinceAtom(
                    event=event, op=op, days=days, groups=groups, drugs=drugs, negate=negate
                )
            )
            if ti is not None:
                used.add(ti)
    return atoms, used


_CUE_AFTER = re.compile(
    r"^\s*(?:or (?:more|longer|greater)\s*)?(?:\b(?:since|after|from|before|prior to|preceding|"
    r"of (?:the )?(?:first|start|initiation|enrol|randomi|screening|study)|ago|post)\b)",
    re.IGNORECASE,
)


def _window_cue(seg: str, w: re.Match[str]) -> bool:
    """A duration is a time window only when worded as one ("within 14 days", "90 days since")."""
    if re.search(r"\d\s*-\s*$", seg[: w.start()]) or re.match(
        r"\s*(?:of age|old)\b", seg[w.end() :], re.I
    ):
        return False
    if w.group(1) or w.group(0).lower().startswith("within"):
        return True
    return bool(_CUE_AFTER.match(seg[w.end() : w.end() + 40])) or bool(
        re.search(
            r"\b(?:in the (?:past|last)|for)\s*$", seg[max(0, w.start() - 15) : w.start()], re.I
        )
    )


def _transplants(seg: str) -> list[Node]:
    if not lx.EXPOSURE_CONTEXT.search(seg) and not re.search(
        r"\bundergone\b|\brecipients?\b", seg, re.I
    ):
        return []
    atoms: list[Node] = []
    for pattern, kind in ((lx.ALLO, "allogeneic"), (lx.AUTO, "autologous")):
        m = pattern.search(seg)
        if m is not None and re.search(r"transplant|SCT|HCT|stem cell", seg, re.I):
            atoms.append(TransplantAtom(kind=kind, negate=_negated(seg, m.start())))
    if not atoms:
        m = lx.TRANSPLANT.search(seg)
        if m is not None and not re.search(r"\beligible\b|\bineligible\b|\bcandidate\b", seg, re.I):
            atoms.append(TransplantAtom(kind="any", negate=_negated(seg, m.start())))
    return atoms


def _features(seg: str) -> list[Node]:
    atoms: list[Node] = []
    for pattern, feature in ((lx.CNS, "cns"), (lx.PCL, "pcl"), (lx.NON_SECRETORY, "non_secretory")):
        m = pattern.search(seg)
        if m is not None:
            atoms.append(FeatureAtom(feature=feature, negate=_negated(seg, m.start())))
    m = lx.EMD.search(seg)
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
    atoms: list[Node] = []
    for pattern, abn in lx.CYTOGENETICS:
        m = pattern.search(seg)
        if m is not None:
            atoms.append(CytogeneticAtom(abnormality=abn.value, negate=_negated(seg, m.start())))
    if len(atoms) > 1:
        return [Group(op="or", items=tuple(atoms))]
    return atoms


def _disease_states(seg: str) -> list[Node]:
    atoms: list[Node] = []
    for pattern, state in lx.DISEASE_STATES:
        for m in pattern.finditer(seg):
            if _THERAPY_FOR.search(seg[max(0, m.start() - 50) : m.start()]):
                continue
            atoms.append(DiseaseStateAtom(states=(state,), negate=_negated(seg, m.start())))
            break
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
        merged = DiseaseStateAtom(states=states)
        atoms = [merged] + [a for a in atoms if a not in positive]
    return atoms


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


def _screening(seg: str) -> list[Node]:
    for pattern, topic in lx.SCREENING:
        if pattern.search(seg):
            return [ScreeningAtom(topic=topic)]
    return []


def _parse_segment(
    seg: str, section: Section, except_groups: tuple[tuple[str, ...], ...]
) -> list[Node]:
    """Atoms for one segment (already normalised), possibly empty."""
    return list(_parse_segment_cached(seg, section, except_groups))


@lru_cache(maxsize=65536)
def _parse_segment_cached(
    seg: str, section: Section, except_groups: tuple[tuple[str, ...], ...]
) -> tuple[Node, ...]:
    return tuple(_parse_segment_uncached(seg, section, except_groups))


def _parse_segment_uncached(
    seg: str, section: Section, except_groups: tuple[tuple[str, ...], ...]
) -> list[Node]:
    if lx.CONTRACEPTION_TOPIC.search(seg):
        return []  # a screening item (pregnancy / contraception), whatever numbers it has
    interval = lx.CAR_T_INTERVAL.search(seg)
    if interval is not None:
        n = interval.group(1)
        count = int(n) if n.isdigit() else lx.NUMBER_WORDS[n.lower()]
        days = count * lx.UNIT_DAYS[interval.group(2)[0].lower()]
        return [
            IntervalAtom(
                start="car_t_infusion",
                op="lt",
                days=days,
                negate=_negated(seg, interval.start()),
            )
        ]
    measurable = _measurable(seg)
    if measurable:
        return measurable
    atoms: list[Node] = []
    antigen_atoms, antigen_spans = _antigens(seg)
    atoms += _performance(seg)
    atoms += _age(seg)
    atoms += _labs(seg)
    lines = _lines(seg)
    atoms += lines
    atoms += _disease_states(seg)
    atoms += _features(seg)
    atoms += antigen_atoms
    atoms += _cytogenetics(seg)
    class_sets = _class_sets(seg)
    atoms += class_sets
    has_context = bool(lx.EXPOSURE_CONTEXT.search(seg))
    toxicity = bool(lx.TOXICITY.search(seg))  # "CRS after prior CAR T": the therapy qualifies
    procedural = bool(lx.PROCEDURAL.search(seg))
    wanted = (has_context or lx.TIME_WINDOW.search(seg)) and not toxicity and not procedural
    mentions = _therapy_mentions(seg, antigen_spans) if wanted else []
    targets = _targets(seg, mentions)
    time_atoms, used = _time_windows(seg, section, targets)
    atoms += time_atoms
    if has_context and not class_sets and not toxicity and not procedural:
        remaining = [t for i, t in enumerate(targets) if i not in used]
        # inclusion "progression after CAR T or a bispecific, last dose >= 4 weeks ago":
        # the window does not replace the requirement to have had it
        if section is Section.inclusion and used and not lx.ALLOWED.search(seg):
            first = min(targets[i].start for i in used)
            if lx.REQUIRE_CUE.search(seg[:first]):
                remaining = targets
        atoms += _exposures(seg, section, remaining, except_groups)
        if not targets and not lines and not time_atoms:
            atoms += _any_therapy(seg)
    if not any(isinstance(a, TimeSinceAtom) and "transplant" in a.event for a in time_atoms):
        atoms += _transplants(seg)
    if (
        not atoms
        and re.search(r"\bmultiple myeloma\b", seg, re.I)
        and lx.MYELOMA_DIAGNOSIS.search(seg)
    ):
        atoms.append(DiseaseStateAtom(states=("active_mm", "rrmm", "ndmm", "smoldering")))
    return atoms


# --------------------------------------------------------------------------- criterion


def _kind_of(node: Node) -> list[CriterionKind]:
    if isinstance(node, Group):
        return [k for item in node.items for k in _kind_of(item)]
    K = CriterionKind
    if isinstance(node, AgeAtom):
        return [K.age]
    if isinstance(node, PerformanceAtom):
        return [K.performance_status]
    if isinstance(node, MeasurableAtom):
        return [K.measurable_disease]
    if isinstance(node, PriorLinesAtom):
        return [K.prior_lines]
    if isinstance(node, ExposureAtom):
        return [_exposure_kind(node.groups, node.drugs, node.any_therapy)]
    if isinstance(node, TimeSinceAtom):
        if node.event == "car_t_infusion":
            return [K.car_t_timing]
        if "transplant" in node.event:
            return [K.transplant]
        return [K.washout]
    if isinstance(node, IntervalAtom):
        return [K.car_t_timing]
    if isinstance(node, TransplantAtom):
        return [K.transplant]
    if isinstance(node, LabAtom):
        return [K.lab]
    if isinstance(node, FeatureAtom):
        return [
            {
                "cns": K.cns,
                "pcl": K.plasma_cell_leukemia,
                "extramedullary": K.extramedullary,
                "non_secretory": K.non_secretory,
            }[node.feature]
        ]
    if isinstance(node, AntigenAtom):
        return [K.antigen_expression]
    if isinstance(node, CytogeneticAtom):
        return [K.cytogenetics]
    if isinstance(node, DiseaseStateAtom):
        return [K.disease_state]
    if isinstance(node, ScreeningAtom):
        return [K(lx.SCREENING_KIND.get(node.topic, "screening"))]
    return [K.other]


def _exposure_kind(
    groups: tuple[tuple[str, ...], ...], drugs: tuple[str, ...], any_therapy: bool
) -> CriterionKind:
    K = CriterionKind
    classes = {c for g in groups for c in g}
    voc = vocabulary()
    for d in drugs:
        drug = voc.resolve(d)
        if drug is not None:
            classes |= drug.classes
    if "bcma_directed" in classes:
        return K.prior_bcma
    if "car_t" in classes:
        return K.prior_car_t
    if "gprc5d_directed" in classes:
        return K.prior_gprc5d
    if "bispecific" in classes:
        return K.prior_bispecific
    if any_therapy:
        return K.prior_therapy
    if classes & {"proteasome_inhibitor", "imid", "anti_cd38"} and not drugs:
        return K.class_exposure
    return K.prior_agent


def _exceptions(text: str) -> tuple[str, list[str]]:
    found: list[str] = []

    def cut(m: re.Match[str]) -> str:
        found.append((m.group(1) or m.group(2) or "").strip())
        return " "

    return lx.EXCEPTION.sub(cut, text), [f for f in found if f]


def _split(text: str, section: Section) -> tuple[list[str], bool]:
    """Segments and whether an explicit "or" joined any of them."""
    protected = _protect_parens(text)
    parts = re.split(r"(;\s*or\s+|,\s+or\s+|;\s*|\.\s+(?=[A-Z(]))", protected)
    parts = [p.replace("\x00", ";").replace("\x01", ".") for p in parts]
    segments: list[str] = [parts[0]]
    explicit_or = False
    for i in range(1, len(parts), 2):
        sep, body = parts[i], parts[i + 1]
        if "or" in sep:
            # ", or <more of the same list>": keep together unless the right side stands alone
            if not _parse_segment(body, section, ()):
                segments[-1] += sep + body
                continue
            explicit_or = True
        segments.append(body)
    return [s.strip(" .;,") for s in segments if s.strip(" .;,")], explicit_or


def _protect_parens(text: str) -> str:
    """Hide ";" and ". " inside parentheses so "t(11;14)" is not cut in two."""
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if depth and ch == ";":
            out.append("\x00")
        elif depth and ch == ".":
            out.append("\x01")
        else:
            out.append(ch)
    return "".join(out)


def _exception_groups(exceptions: list[str]) -> tuple[tuple[tuple[str, ...], ...], list[str]]:
    groups: list[tuple[str, ...]] = []
    leftover: list[str] = []
    for text in exceptions:
        targets = _targets(text, _therapy_mentions(text, []))
        found = [g for t in targets for g in t.groups]
        voc = vocabulary()
        found += [(f"drug:{d}",) for t in targets for d in t.drugs if voc.resolve(d)]
        if found:
            groups += found
        else:
            leftover.append(text)
    return tuple(dict.fromkeys(groups)), leftover


# An item longer than this is not one criterion but a flattened list or pasted text; it is
# shown as "ask the study team" rather than read (keeps parsing time bounded).
MAX_ITEM_CHARS = 3000


def parse_criterion(text: str, section: Section, criterion_id: str) -> Criterion:
    """One item of eligibility text → a ``Criterion`` with its and/or tree.

    Never raises on odd text: anything a recogniser cannot represent (a number off its scale,
    an overflowing value) leaves the item as "ask the study team" with the reason shown."""
    if len(text) > MAX_ITEM_CHARS:
        return _unread(text, section, criterion_id, "too long to read as one criterion")
    try:
        return _parse_criterion(text, section, criterion_id)
    except (ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        return _unread(text, section, criterion_id, f"could not be read ({type(exc).__name__})")


def _unread(text: str, section: Section, criterion_id: str, why: str) -> Criterion:
    short = text.strip()[:MAX_ITEM_CHARS] or "(empty)"
    return Criterion(
        id=criterion_id,
        section=section,
        text=text.strip(),
        tree=OtherAtom(text=short),
        kinds=(CriterionKind.other,),
        unaccounted=(why,),
    )


def _parse_criterion(text: str, listed: Section, criterion_id: str) -> Criterion:
    # an exclusion written inside the inclusion list is parsed and judged as an exclusion
    excludes = listed is Section.inclusion and bool(lx.EXCLUDES_HERE.search(text))
    section = Section.exclusion if excludes else listed
    norm = normalise_ops(normalise(text))
    norm = lx.EXAMPLE_TAIL.sub(" ", lx.EXAMPLES.sub(" ", norm))
    # "progression on or within 60 days of the last dose of X" defines refractoriness to X on
    # that therapy's own course; it is not a window counted back from today
    norm = lx.REFRACTORY_DEFINITION.sub(" refractory ", norm)
    main, exceptions = _exceptions(norm)
    except_groups, leftover = _exception_groups(exceptions)
    if lx.MEASURABLE.search(main):
        segments, explicit_or = [main], False
    else:
        segments, explicit_or = _split(main, section)
    nodes: list[Node] = []
    car_t_named = bool(lx.CAR_T_EVENT.search(main))
    for seg in segments:
        if car_t_named and lx.INFUSION.search(seg) and not lx.CAR_T_EVENT.search(seg):
            seg = lx.INFUSION.sub(
                "CAR T infusion", seg
            )  # "…CAR T…; the infusion must be ≥ 12 weeks ago"
        atoms = _parse_segment(seg, section, except_groups)
        if (
            atoms
            and explicit_or
            and len(segments) > 1
            and lx.QUALIFIER.search(seg[_first_atom_end(seg) :])
        ):
            atoms = [*atoms, OtherAtom(text=seg)]
        if not atoms:
            atoms = _screening(seg) or [OtherAtom(text=seg)]
        atoms = list(dict.fromkeys(atoms))
        op = "and"
        if (
            section is Section.exclusion
            and len(atoms) > 1
            and re.search(r"\bor\b", seg)
            and not re.search(r"\band\b", seg)
            and not any(getattr(a, "negate", False) for a in atoms)
        ):
            op = "or"  # "auto-SCT within 100 days or allo-SCT within 6 months": either excludes
        nodes.append(atoms[0] if len(atoms) == 1 else Group(op=op, items=tuple(atoms)))
    nodes = list(dict.fromkeys(_drop_redundant_other(nodes, len(segments))))
    if not nodes:
        nodes = [_screening(norm)[0] if _screening(norm) else OtherAtom(text=text.strip())]
    if len(nodes) == 1:
        tree = nodes[0]
    else:
        op = "or" if section is Section.exclusion or explicit_or else "and"
        tree = Group(op=op, items=tuple(nodes))
    kinds = list(dict.fromkeys(_kind_of(tree)))
    if len(kinds) > 1 and CriterionKind.other in kinds:
        kinds.remove(CriterionKind.other)
        kinds.append(CriterionKind.other)
    return Criterion(
        id=criterion_id,
        section=listed,
        excludes=excludes,
        text=text.strip(),
        tree=tree,
        kinds=tuple(kinds),
        exception="; ".join(leftover) or None,
        unaccounted=unaccounted(norm, section, tree, leftover, bool(except_groups)),
        region=region_of(norm),
    )


def _first_atom_end(seg: str) -> int:
    m = re.search(r"\d\s*(?:years?|yrs?|%|g/dL|mL/min|x\s*10\S*)", seg, re.I)
    return m.end() if m else 0


def _drop_redundant_other(nodes: list[Node], count: int) -> list[Node]:
    """In a criterion that parsed, a trailing unparsed fragment with no content words is noise."""
    if count < 2:
        return nodes
    kept: list[Node] = []
    for node in nodes:
        if isinstance(node, OtherAtom) and len(re.findall(r"[A-Za-z]{4,}", node.text)) < 2:
            continue
        kept.append(node)
    return kept


def parse_criteria(text: str) -> ParsedCriteria:
    """Parse a study's eligibility text (``eligibilityCriteria``) into structured criteria."""
    split = split_sections(text or "")
    criteria: list[Criterion] = []
    for item in split.items:
        prefix = "I" if item.section is Section.inclusion else "E"
        criteria.append(parse_criterion(item.full_text, item.section, f"{prefix}{item.number}"))
    return ParsedCriteria(criteria=tuple(criteria), unsectioned=split.unsectioned)


__all__ = ["parse_criteria", "parse_criterion"]
