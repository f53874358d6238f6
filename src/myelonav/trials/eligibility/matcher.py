"""One patient's matcher: evaluates atoms (one evaluator per atom family), trees (Kleene) and
criteria, memoised per query."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import compress
from typing import Any, overload

from myelonav.logic import Truth, all_of, any_of
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria.models import (
    AgeAtom,
    AntigenAtom,
    Criterion,
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
from myelonav.trials.criteria.residue import REGION
from myelonav.trials.eligibility.compiled import Code, Flags, StudyPlan, current_tables
from myelonav.trials.eligibility.disease import (
    _antigen,
    _cytogenetic,
    _disease_state,
    _feature,
    _measurable,
)
from myelonav.trials.eligibility.labs import _lab
from myelonav.trials.eligibility.person import _age, _performance
from myelonav.trials.eligibility.text import _other, _screening, other_value
from myelonav.trials.eligibility.therapy import (
    _exposure,
    _interval,
    _lines,
    _time_since,
    _transplant,
)
from myelonav.trials.eligibility.values import _WHY_RANK, Eval, Value, Why
from myelonav.trials.eligibility.verdict import (
    _NOT_MYELOMA,
    CriterionResult,
    ParsedJudgement,
    Result,
    outcome,
)

# One evaluator per atom family: atom type → (facts, atom) → (truth, fact shown).
_EVALUATORS: dict[type, Callable[[PatientFacts, Any], Eval]] = {
    AgeAtom: _age,
    PerformanceAtom: _performance,
    MeasurableAtom: _measurable,
    PriorLinesAtom: _lines,
    ExposureAtom: _exposure,
    TimeSinceAtom: _time_since,
    TransplantAtom: _transplant,
    IntervalAtom: _interval,
    LabAtom: _lab,
    AntigenAtom: _antigen,
    CytogeneticAtom: _cytogenetic,
    DiseaseStateAtom: _disease_state,
}


# a program's result and its code: ints compare and hash in C, enum members in Python
_C_NOT_MET, _C_UNKNOWN, _C_ASK = 1, 2, 3
_UNSET = 255  # not computed yet
_FIXED = bytes([_C_NOT_MET])  # a condition that is not myeloma at all
# code -> a byte table that keeps 1 where that code is and 0 elsewhere (``bytes.translate``):
# selectors for ``itertools.compress``, with no Python call per criterion
_ONLY = {c: bytes(int(i == c) for i in range(256)) for c in (_C_NOT_MET, _C_UNKNOWN, _C_ASK)}
_MET = (Result.met, 0)
_NOT_MET = (Result.not_met, _C_NOT_MET)
_UNKNOWN = (Result.unknown, _C_UNKNOWN)
_ASK = (Result.ask, _C_ASK)
_SCREENING = (Result.screening, 4)

# a tree's value as a small int: truth, and why it is unknown (``Why``), in the order that
# makes Kleene "and" the least part
_V_FALSE, _V_MISSING, _V_ASK, _V_SCREENING, _V_TRUE = range(5)
_OR = (_V_FALSE, _V_SCREENING, _V_ASK, _V_MISSING, _V_TRUE)  # "or" order; its own inverse


def _outcome_row(need_true: bool, flags: Flags) -> tuple[tuple[Result, int], ...]:
    """A criterion's result for each value code of its tree (``outcome`` without facts)."""
    unaccounted, both_ways = flags
    row = []
    for v in range(5):
        if v == _V_MISSING:
            row.append(_UNKNOWN)
        elif v == _V_ASK:
            # a structured part may be misread either way: unknown, not a routine question
            row.append(_UNKNOWN if both_ways else _ASK)
        elif v == _V_SCREENING:
            row.append(_SCREENING)
        else:
            met = (v == _V_TRUE) == need_true
            if met and not both_ways:
                row.append(_MET)
            elif unaccounted:
                row.append(_UNKNOWN)
            else:
                row.append(_MET if met else _NOT_MET)
    return tuple(row)


_OUTCOMES = {
    (need, (unaccounted, both)): _outcome_row(need, (unaccounted, both))
    for need in (False, True)
    for unaccounted in (False, True)
    for both in (False, True)
}


class _Explained(Sequence[tuple[Criterion, Result, str]]):
    """A study's criteria with their results, and the patient fact shown beside each, built
    on first use: ranking thousands of studies needs only the results, and a page shows a few
    dozen trials. The facts come from the reference evaluation (``Matcher.tree``)."""

    __slots__ = ("_matcher", "_plan", "_rows")

    def __init__(self, matcher: Evaluator, plan: StudyPlan) -> None:
        self._matcher = matcher
        self._plan = plan
        self._rows: tuple[tuple[Criterion, Result, str], ...] | None = None

    def _all(self) -> tuple[tuple[Criterion, Result, str], ...]:
        rows = self._rows
        if rows is None:
            m = self._matcher
            results = m._res
            plan = self._plan
            pids = iter(plan.pids)
            out: list[tuple[Criterion, Result, str]] = []
            for i, c in enumerate(plan.criteria):
                if i == 0 and plan.fixed:
                    out.append((c, Result.not_met, _NOT_MYELOMA))
                    continue
                pid = next(pids)
                result = results[pid] or m._result(pid)
                fact = m._judge_registry(c)[1] if i < plan.registry else m.judge(c)[1]
                out.append((c, result, fact))
            rows = self._rows = tuple(out)
        return rows

    def __len__(self) -> int:
        return len(self._plan.criteria)

    @overload
    def __getitem__(self, i: int) -> tuple[Criterion, Result, str]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[tuple[Criterion, Result, str]]: ...

    def __getitem__(
        self, i: int | slice
    ) -> tuple[Criterion, Result, str] | Sequence[tuple[Criterion, Result, str]]:
        return self._all()[i]

    def __iter__(self) -> Iterator[tuple[Criterion, Result, str]]:
        return iter(self._all())


class Evaluator:
    """Evaluates criteria for one patient on one date.

    Results come from compiled criteria (``eligibility.compiled``): the value of each distinct
    atom once per patient (the fact vector), each distinct program once, each parse object and
    each (condition, age, parse) triple once, so a study costs a few look-ups once its criteria
    have been seen. The patient facts shown beside results are built only when a study's
    criteria are read (``TrialMatch.criteria``), by the reference evaluation below (``tree``,
    ``atom``, ``judge``), memoised per distinct atom and per criterion text. Both give exactly
    what evaluating afresh gives (tests/trials/test_match_equivalence.py).
    """

    def __init__(self, facts: PatientFacts) -> None:
        self.facts = facts
        self._cache: dict[tuple[object, bool], Value] = {}
        self._by_id: dict[tuple[int, bool], tuple[Node, Value]] = {}
        # criterion text -> answer, one table per section (the parser is deterministic, so equal
        # text in the same section means an equal tree; str hashes are cached)
        self._inclusion: dict[str, tuple[Result, str]] = {}
        self._exclusion: dict[str, tuple[Result, str]] = {}
        self._registry: dict[int, tuple[Criterion, tuple[Result, str]]] = {}
        # the compiled path: slot -> (truth, why unknown), program -> result
        self._tables = current_tables()
        self._vals = bytearray()  # slot -> value code (``_V_*``), ``_UNSET`` if not yet
        self._res: list[Result | None] = []  # by program id; None = not yet computed
        self._codes = bytearray()  # the same as small ints (``_MET`` ...), ``_UNSET`` if not yet
        home = facts.record.demographics.country
        self._home = None if home is None else home.upper()

    # ------------------------------------------------------------------ compiled path
    def _slot_value(self, slot: int) -> int:
        """A slot's value code (``_V_*``), computed once per patient."""
        kind, payload, needs = self._tables.slots[slot]
        if kind == "screening":
            truth, _, why = _screening(payload)
        elif kind == "other":
            truth, _, why = other_value(self.facts, *payload)
        else:  # each slot is a distinct atom: no need for the reference memo's hashing
            truth, _, why = self._atom(payload, needs)
        if truth is Truth.true:
            v = _V_TRUE
        elif truth is Truth.false:
            v = _V_FALSE
        else:
            v = _V_SCREENING if why is Why.screening else _V_ASK if why is Why.ask else _V_MISSING
        if slot >= len(self._vals):
            self._vals.extend(bytes([_UNSET]) * (len(self._tables.slots) - len(self._vals)))
        self._vals[slot] = v
        return v

    def _fold(self, code: Code) -> int:
        """The value code of an and/or tree over slots: Kleene logic with the reason for an
        unknown (missing outranks ask, which outranks screening), as ``tree`` gives it.
        With the codes ordered false < missing < ask < screening < true, "and" is the least
        part; "or" is the greatest part in the swapped order (``_OR``)."""
        if isinstance(code, int):
            vals = self._vals
            v = vals[code] if code < len(vals) else _UNSET
            return v if v != _UNSET else self._slot_value(code)
        is_and, items = code
        fold = self._fold
        if is_and:
            return min([fold(item) for item in items], default=_V_TRUE)
        return _OR[max([_OR[fold(item)] for item in items], default=_V_FALSE)]

    def _grow(self, top: int) -> None:
        missing = top + 1 - len(self._res)
        if missing > 0:
            more = max(missing, len(self._tables.programs) - len(self._res))
            self._res.extend([None] * more)
            self._codes.extend(bytes([_UNSET]) * more)

    def _result(self, pid: int) -> Result:
        """A program's result (``_judge`` and ``outcome`` without the facts shown)."""
        if pid >= len(self._res):
            self._grow(pid)
        need_true, region, flags, regional, code = self._tables.programs[pid]
        if region is not None and self._home is not None:
            if self._home != region:
                self._res[pid], self._codes[pid] = _MET
                return Result.met
            flags = regional
        pair = _OUTCOMES[need_true, flags][self._fold(code)]
        self._res[pid], self._codes[pid] = pair
        return pair[0]

    def result_of(self, c: Criterion) -> Result:
        """A criterion's result by the compiled path."""
        pid = self._tables.program_id(c)
        hit = self._res[pid] if pid < len(self._res) else None
        return hit if hit is not None else self._result(pid)

    # ------------------------------------------------------------------ reference path
    def atom(self, node: Node, need_true: bool) -> Value:
        # by identity first (the parser shares atoms between texts; hashing a model is slow),
        # then by value
        seen = self._by_id.get((id(node), need_true))
        if seen is not None and seen[0] is node:
            return seen[1]
        key = (node, need_true)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._atom(node, need_true)
        self._by_id[(id(node), need_true)] = (node, hit)
        return hit

    def _atom(self, node: Node, need_true: bool) -> Value:
        f = self.facts
        if isinstance(node, ScreeningAtom):
            return _screening(node)
        if isinstance(node, OtherAtom):
            return _other(f, node)
        if isinstance(node, Group):  # pragma: no cover - handled by tree()
            raise TypeError("Group")
        if isinstance(node, FeatureAtom):
            tri, fact = _feature(f, node, need_true != node.negate)
        else:
            evaluate = _EVALUATORS.get(type(node))
            if evaluate is None:  # pragma: no cover - Group handled by tree()
                raise TypeError(type(node).__name__)
            tri, fact = evaluate(f, node)
        if node.negate:
            tri = tri.negate()
        return tri, fact, None if tri.known else Why.missing

    def tree(
        self, node: Node, need_true: bool
    ) -> tuple[Truth, Why | None, list[tuple[Truth, str]]]:
        """Value of a tree (Kleene, ``myelonav.logic``), why it is unknown, and the
        (truth, fact) of each atom that decided it."""
        if not isinstance(node, Group):
            truth, fact, atom_why = self.atom(node, need_true)
            return truth, atom_why, [(truth, fact)]
        parts = [self.tree(item, need_true) for item in node.items]
        truths = [p[0] for p in parts]
        value = all_of(truths) if node.op == "and" else any_of(truths)
        why: Why | None = None
        if value is Truth.unknown:
            why = max(
                (p[1] or Why.missing for p in parts if p[0] is Truth.unknown),
                key=_WHY_RANK.__getitem__,
            )
        everything = [fact for p in parts for fact in p[2]]
        if why in (Why.ask, Why.screening) or (node.op == "and" and value is Truth.true):
            return value, why, everything
        deciding = [fact for p in parts if p[0] is value and p[1] is why for fact in p[2]]
        return value, why, deciding or everything

    def criterion(self, c: Criterion) -> CriterionResult:
        result, fact = self.judge(c)
        return CriterionResult(
            id=c.id,
            section=c.section,
            text=c.text,
            kind=c.kind,
            kinds=list(c.kinds),
            result=result,
            patient_fact=fact,
            exception=c.exception,
        )

    def judge(self, c: Criterion) -> tuple[Result, str]:
        table = self._inclusion if c.section is Section.inclusion else self._exclusion
        hit = table.get(c.text)
        if hit is None:
            hit = table[c.text] = self._judge(c)
        return hit

    def _judge_registry(self, c: Criterion) -> tuple[Result, str]:
        """A criterion built from registry fields. Unlike parsed criteria, equal text does not
        mean an equal tree here (the condition criterion's text names the conditions, its tree
        also reads the title), so these are cached per object; the builders are memoised on
        every field they read, so equal inputs give the same object."""
        hit = self._registry.get(id(c))
        if hit is not None and hit[0] is c:
            return hit[1]
        answer = self._judge(c)
        self._registry[id(c)] = (c, answer)
        return answer

    def _judge(self, c: Criterion) -> tuple[Result, str]:
        need_true = c.section is Section.inclusion and not c.excludes
        if c.region is not None:
            home = self.facts.record.demographics.country
            if home is not None and home.upper() != c.region:
                return Result.met, f"applies only to participants in {c.region} (you: {home})"
            if home is not None:
                # the note applies: judge it as written, without the region caveat
                c = c.model_copy(
                    update={
                        "unaccounted": tuple(u for u in c.unaccounted if not u.startswith(REGION))
                    }
                )
        value, why, facts = self.tree(c.tree, need_true)
        return outcome(c, need_true, value, why, facts)


class Matcher:
    """One patient's matcher: an ``Evaluator`` and the judgements of parses and studies,
    memoised per object. (Judgements refer to the evaluator, never to the matcher, so a
    query's results hold no reference cycle and are freed as soon as they are dropped.)"""

    def __init__(self, facts: PatientFacts) -> None:
        self.facts = facts
        self.evaluator = Evaluator(facts)

    def atom(self, node: Node, need_true: bool) -> Value:
        return self.evaluator.atom(node, need_true)

    def tree(
        self, node: Node, need_true: bool
    ) -> tuple[Truth, Why | None, list[tuple[Truth, str]]]:
        return self.evaluator.tree(node, need_true)

    def judge(self, c: Criterion) -> tuple[Result, str]:
        return self.evaluator.judge(c)

    def criterion(self, c: Criterion) -> CriterionResult:
        return self.evaluator.criterion(c)

    def result_of(self, c: Criterion) -> Result:
        return self.evaluator.result_of(c)

    def judge_parsed(self, parsed: ParsedCriteria) -> ParsedJudgement:
        return self.judge_study(None, None, parsed)

    def judge_study(
        self, condition: Criterion | None, age: Criterion | None, parsed: ParsedCriteria
    ) -> ParsedJudgement:
        """The registry's condition and age criteria, then the parsed ones: each criterion's
        result read from the patient's program results (``StudyPlan``), the ids not met, the
        ids unknown, the texts to ask about."""
        e = self.evaluator
        plan = e._tables.study_plan(condition, age, parsed)
        codes = e._codes
        if plan.top >= len(codes):
            e._grow(plan.top)
        found = bytes(plan.get(codes))
        if _UNSET in found:
            for pid in plan.pids:
                if codes[pid] == _UNSET:
                    e._result(pid)
            found = bytes(plan.get(codes))
        if plan.fixed:
            found = _FIXED + found
        ids = plan.ids
        return ParsedJudgement(
            _Explained(e, plan),
            tuple(compress(ids, found.translate(_ONLY[_C_NOT_MET]))) if _C_NOT_MET in found else (),
            tuple(compress(ids, found.translate(_ONLY[_C_UNKNOWN]))) if _C_UNKNOWN in found else (),
            tuple(compress(plan.texts, found.translate(_ONLY[_C_ASK]))) if _C_ASK in found else (),
        )
