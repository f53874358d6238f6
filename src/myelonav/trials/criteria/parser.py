"""Eligibility free text → ``ParsedCriteria``: the one entry point is ``parse_criteria``.

Pipeline: ``sections`` splits the text into numbered items (markdown escapes removed, run-on
lists re-broken, headings in any wording) → each item is normalised (units, comparators, example
lists dropped, refractoriness definitions folded) and cut into segments (";", sentences, ", or"
before a new topic) → ``recognisers`` (one small module per concept; ``recognisers.mentions``
finds drugs, classes and targets) turn each segment into atoms → this module composes them into
the and/or tree: inclusion segments combine with *and* unless the text says *or*; exclusion
segments are alternatives (*or*) → ``residue`` records the clinical words no recogniser
accounted for (a criterion with any is never judged "not met"). A segment nothing recognises
becomes screening (routine items) or ``other`` ("ask the study team"). Parsing is pure,
deterministic and never raises; it runs once when a study is stored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from myelonav.patient.vocabulary import vocabulary
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
from myelonav.trials.criteria.recognisers.disease import (
    _antigens,
    _cytogenetics,
    _disease_states,
    _features,
    _measurable,
)
from myelonav.trials.criteria.recognisers.labs import _labs, widen_for_carve_outs
from myelonav.trials.criteria.recognisers.lines import _lines, regimens_as_lines
from myelonav.trials.criteria.recognisers.lists import join_class_list
from myelonav.trials.criteria.recognisers.mentions import _targets, _therapy_mentions, drug_spans
from myelonav.trials.criteria.recognisers.negation import _negated
from myelonav.trials.criteria.recognisers.person import _age, _performance
from myelonav.trials.criteria.recognisers.response import require_response
from myelonav.trials.criteria.recognisers.screening import _screening
from myelonav.trials.criteria.recognisers.therapy import _any_therapy, _class_sets, _exposures
from myelonav.trials.criteria.recognisers.unread import mark_unread_requirements
from myelonav.trials.criteria.recognisers.windows import _time_windows, _transplants
from myelonav.trials.criteria.residue import region_of, unaccounted
from myelonav.trials.criteria.sections import split_sections
from myelonav.trials.criteria.units import (
    normalise,
    normalise_ops,
)


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
        named = {t.upper() for t in re.findall(r"\b(BCMA|GPRC5D|CD19|FcRH5)\b", seg, re.I)}
        return [
            IntervalAtom(
                start="car_t_infusion",
                op="lt",
                days=days,
                negate=_negated(seg, interval.start()),
                target=named.pop() if len(named) == 1 else None,
            )
        ]
    measurable = _measurable(seg)
    if measurable:
        # "previously untreated … with measurable disease": the population still counts
        return measurable + [a for a in _disease_states(seg) if not getattr(a, "negate", False)]
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
        if node.event in ("car_t_infusion", "lymphodepletion"):
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

    main = lx.EXCEPTION.sub(cut, text)
    # "Patients who have received prior BCMA-directed bispecifics or ADCs are not excluded."
    main = _NOT_EXCLUDED.sub(cut, main)
    return main, [f for f in found if f]


_NOT_EXCLUDED = re.compile(
    r"(?:(?<=[.;])|^)\s*(?:patients|participants|subjects)\s+(?:who\s+(?:have\s+)?"
    r"(?:received|had)|with)\s+([^.;]{1,200}?)\s+(?:are|is)\s+not\s+(?:be\s+)?excluded\b()"
    r"[^.;]{0,80}[.;]?",
    re.IGNORECASE,
)


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
            if not _parse_segment(body, section, ()) or _shared_window(segments[-1], sep, body):
                segments[-1] += sep + body
                continue
            explicit_or = True
        segments.append(body)
    return [s.strip(" .;,") for s in segments if s.strip(" .;,")], explicit_or


def _shared_window(left: str, sep: str, right: str) -> bool:
    """ "selinexor, venetoclax, or iberdomide within 4 weeks": the window closing the list
    applies to every drug in it (a list of names before ", or", a window only after it)."""
    return (
        "," in sep
        and lx.TIME_WINDOW.search(left) is None
        and lx.TIME_WINDOW.search(right) is not None
        and len(drug_spans(left)) >= 1
        and len(drug_spans(right)) >= 1
    )


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
    c = _parse_item(text, section)
    return c if c.id == criterion_id else c.model_copy(update={"id": criterion_id})


@lru_cache(maxsize=32768)
def _parse_item(text: str, section: Section) -> Criterion:
    """``parse_criterion`` under a provisional id. Memoised by text and section: registries
    repeat boilerplate criteria word for word across studies (and fuzzed or run-on text
    repeats them within one), the parse is deterministic and a ``Criterion`` is immutable."""
    criterion_id = "I1" if section is Section.inclusion else "E1"
    if len(text) > MAX_ITEM_CHARS:
        return _unread(text, section, criterion_id, "too long to read as one criterion")
    try:
        return _parse_criterion(text, section, criterion_id)
    except (ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        return _unread(text, section, criterion_id, f"could not be read ({type(exc).__name__})")


def clear_caches() -> None:
    """Forget every memoised parse (tests that time the parser from cold)."""
    _parse_item.cache_clear()
    _parse_segment_cached.cache_clear()
    drug_spans.cache_clear()


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
    here = lx.EXCLUDES_HERE.search(text) if listed is Section.inclusion else None
    # "Must have received … ; patients who received only belantamab are not eligible": a
    # requirement with an exclusion after it, neither of which holds alone
    mixed = here is not None and _REQUIRED.search(text[: here.start()]) is not None
    excludes = here is not None and not mixed
    section = Section.exclusion if excludes else listed
    norm = normalise_ops(normalise(text))
    norm = lx.EXAMPLE_TAIL.sub(" ", lx.EXAMPLES.sub(" ", norm))
    # "progression on or within 60 days of the last dose of X" defines refractoriness to X on
    # that therapy's own course; it is not a window counted back from today
    norm = lx.REFRACTORY_DEFINITION.sub(" refractory ", norm)
    norm = join_class_list(norm)  # "including: a PI; an IMiD" → one sentence the recognisers read
    main, exceptions = _exceptions(norm)
    except_groups, leftover = _exception_groups(exceptions)
    measurable = lx.MEASURABLE.search(main)
    glued = _RUN_ON_LIST.search(main, measurable.end()) if measurable else None
    if glued is not None:
        # the definition is read whole; a performance limit glued after it stands alone
        head, tail = main[: glued.start()], main[glued.start() :]
        segments, explicit_or = [head, *_split(tail, section)[0]], False
    elif measurable is not None:
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
        atoms = list(dict.fromkeys(_only_if_lines(seg, atoms)))
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
    tree = require_response(widen_for_carve_outs(tree, norm, section), norm, section)
    tree = regimens_as_lines(tree, norm)
    if section is Section.inclusion:
        tree = mark_unread_requirements(tree)  # not understood ≠ met: unknown, not a question
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
        unaccounted=unaccounted(norm, section, tree, leftover, bool(except_groups))
        + (
            (f"exception or permission: an exclusion inside a requirement: {text.strip()[:120]}",)
            if mixed
            else ()
        ),
        region=region_of(norm),
    )


# A run-on list (one paragraph, no list marks) that holds a measurable-disease definition among
# other limits: split it like any item rather than read it whole as the definition.
_RUN_ON_LIST = re.compile(r"\b(?:ECOG|Eastern\s+Cooperative|performance\s+status)\b", re.I)


# "participants who have received only 1 line … must be lenalidomide refractory": a
# requirement for the one-line patients only, i.e. "more than 1 line, or the requirement"
_ONLY_LINES = re.compile(
    r"\b(?:participants|patients|subjects)\s+(?:who\s+)?(?:have\s+)?(?:received|had)\s+only\s+"
    r"[^.;]{0,80}?\bmust\b",
    re.I,
)


# "For subjects with previous BCMA-targeted therapy, the best response should be …": the
# requirement holds only for those with that exposure ("no such exposure, or the requirement")
_FOR_THOSE_WITH = re.compile(
    r"^\W*for\s+(?:subjects|patients|participants)\s+(?:with|who\s+(?:have\s+)?(?:received|had))\s+"
    r"(?:previous|prior)\b",
    re.I,
)


def _only_if_lines(seg: str, atoms: list[Node]) -> list[Node]:
    if _FOR_THOSE_WITH.search(seg):
        cond = next((a for a in atoms if isinstance(a, ExposureAtom) and not a.negate), None)
        rest = [a for a in atoms if a is not cond]
        if cond is not None and rest:
            then = rest[0] if len(rest) == 1 else Group(op="and", items=tuple(rest))
            return [Group(op="or", items=(cond.model_copy(update={"negate": True}), then))]
        return atoms
    if not _ONLY_LINES.search(seg):
        return atoms
    count = next(
        (
            a
            for a in atoms
            if isinstance(a, PriorLinesAtom) and not a.negate and a.min_lines == a.max_lines
        ),
        None,
    )
    rest = [a for a in atoms if a is not count]
    if count is None or count.min_lines is None or not rest:
        return atoms
    then = rest[0] if len(rest) == 1 else Group(op="and", items=tuple(rest))
    return [Group(op="or", items=(PriorLinesAtom(min_lines=count.min_lines + 1), then))]


_REQUIRED = re.compile(r"\b(?:must|should|required|need\s+to)\b[^.;]{3,}[.;]", re.I)


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


__all__ = ["clear_caches", "drug_spans", "parse_criteria", "parse_criterion"]
