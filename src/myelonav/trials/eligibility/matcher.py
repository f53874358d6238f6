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
from myelonav.trials.eligibility.compiled import Code, Plan, current_tables
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


class _Explained(Sequence[tuple[Criterion, Result, str]]):
    """A study's criteria with their results, and the patient fact shown beside each, built
    on first use: ranking thousands of studies needs only the results, and a page shows a few
    dozen trials. The facts come from the reference evaluation (``Matcher.tree``)."""

    __slots__ = ("_criteria", "_head", "_matcher", "_pids", "_rows")

    def __init__(
        self,
        matcher: Evaluator,
        head: tuple[tuple[Criterion, Result, str | None], ...],
        plan: Plan,
    ) -> None:
        self._matcher = matcher
        self._head = head
        self._criteria = plan.criteria
        self._pids = plan.pids
        self._rows: tuple[tuple[Criterion, Result, str], ...] | None = None

    def _all(self) -> tuple[tuple[Criterion, Result, str], ...]:
        rows = self._rows
        if rows is None:
            m = self._matcher
            results = m._res
            rows = self._rows = (
                *(
                    (c, r, shown if shown is not None else m._judge_registry(c)[1])
                    for c, r, shown in self._head
                ),
                *(
                    (c, results[pid] or m._result(pid), m.judge(c)[1])
                    for c, pid in zip(self._criteria, self._pids, strict=True)
                ),
            )
        return rows

    def __len__(self) -> int:
        return len(self._head) + len(self._criteria)

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
        self._slots: dict[int, tuple[Truth, Why | None]] = {}
        self._res: list[Result | None] = []  # by program id; None = not yet computed
        home = facts.record.demographics.country
        self._home = None if home is None else home.upper()

    # ------------------------------------------------------------------ compiled path
    def _slot_value(self, slot: int) -> tuple[Truth, Why | None]:
        kind, payload, needs = self._tables.slots[slot]
        if kind == "screening":
            truth, _, why = _screening(payload)
        elif kind == "other":
            truth, _, why = other_value(self.facts, *payload)
        else:  # each slot is a distinct atom: no need for the reference memo's hashing
            truth, _, why = self._atom(payload, needs)
        value = self._slots[slot] = (truth, why)
        return value

    def _value(self, code: Code) -> tuple[Truth, Why | None]:
        if isinstance(code, int):
            hit = self._slots.get(code)
            return hit if hit is not None else self._slot_value(code)
        is_and, items = code
        parts = [self._value(item) for item in items]
        truths = [p[0] for p in parts]
        value = all_of(truths) if is_and else any_of(truths)
        if value is not Truth.unknown:
            return value, None
        why = max(
            (p[1] or Why.missing for p in parts if p[0] is Truth.unknown),
            key=_WHY_RANK.__getitem__,
        )
        return value, why

    def _grow(self, top: int) -> None:
        missing = top + 1 - len(self._res)
        if missing > 0:
            self._res.extend([None] * max(missing, len(self._tables.programs) - len(self._res)))

    def _result(self, pid: int) -> Result:
        """A program's result (``_judge`` and ``outcome`` without the facts shown)."""
        self._grow(pid)
        need_true, region, flags, regional, code = self._tables.programs[pid]
        if region is not None and self._home is not None:
            if self._home != region:
                self._res[pid] = Result.met
                return Result.met
            flags = regional
        value, why = self._value(code)
        if value is Truth.unknown:
            result = (
                Result.screening
                if why is Why.screening
                else Result.ask
                if why is Why.ask and not flags[1]
                else Result.unknown
            )
        else:
            met = (value is Truth.true) == need_true
            unaccounted, both_ways = flags
            if met and not both_ways:
                result = Result.met
            elif unaccounted:
                result = Result.unknown
            else:
                result = Result.met if met else Result.not_met
        self._res[pid] = result
        return result

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


# a parse judged: its plan, ids not met, ids unknown, texts to ask about
_Body = tuple[Plan, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
# the registry criteria judged: (criterion, result, fact if fixed), then the same three lists
_Head = tuple[
    tuple[tuple[Criterion, Result, str | None], ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
]


class Matcher:
    """One patient's matcher: an ``Evaluator`` and the judgements of parses and studies,
    memoised per object. (Judgements refer to the evaluator, never to the matcher, so a
    query's results hold no reference cycle and are freed as soon as they are dropped.)"""

    def __init__(self, facts: PatientFacts) -> None:
        self.facts = facts
        self.evaluator = Evaluator(facts)
        # id(parse) -> (parse, its judgement); the parse is held so its id cannot be reused
        self._parses: dict[int, tuple[ParsedCriteria, _Body]] = {}
        self._heads: dict[tuple[int, int], tuple[object, object, _Head]] = {}
        # (id(condition), id(age), id(parse)) -> (the three, the study's judgement)
        self._studies: dict[tuple[int, int, int], tuple[object, object, object, ParsedJudgement]]
        self._studies = {}

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

    def _body(self, parsed: ParsedCriteria) -> _Body:
        """Every criterion of one stored parse, judged once per parse object (stores share one
        parse between studies with the same text, and a parse is immutable): its plan and the
        ids not met, the ids unknown, the texts to ask about."""
        hit = self._parses.get(id(parsed))
        if hit is not None and hit[0] is parsed:
            return hit[1]
        e = self.evaluator
        plan = e._tables.plan(parsed)
        res = e._res
        if plan.top >= len(res):
            e._grow(plan.top)
        results = plan.get(res)
        if None in results:
            for pid in plan.pids:
                if res[pid] is None:
                    e._result(pid)
            results = plan.get(res)
        not_met, unknown, ask = Result.not_met, Result.unknown, Result.ask
        body = (
            plan,
            tuple(compress(plan.ids, [r is not_met for r in results]))
            if not_met in results
            else (),
            tuple(compress(plan.ids, [r is unknown for r in results]))
            if unknown in results
            else (),
            tuple(compress(plan.texts, [r is ask for r in results])) if ask in results else (),
        )
        self._parses[id(parsed)] = (parsed, body)
        return body

    def judge_parsed(self, parsed: ParsedCriteria) -> ParsedJudgement:
        plan, failing, unknown, ask = self._body(parsed)
        return ParsedJudgement(_Explained(self.evaluator, (), plan), failing, unknown, ask)

    def _head(self, condition: Criterion | None, age: Criterion | None) -> _Head:
        """The registry's condition and age criteria judged, once per pair of objects (the
        builders share them between studies)."""
        hit = self._heads.get((id(condition), id(age)))
        if hit is not None and hit[0] is condition and hit[1] is age:
            return hit[2]
        e = self.evaluator
        rows: list[tuple[Criterion, Result, str | None]] = []
        if condition is not None and isinstance(condition.tree, OtherAtom):
            rows.append((condition, Result.not_met, _NOT_MYELOMA))
        elif condition is not None:
            rows.append((condition, e.result_of(condition), None))
        if age is not None:
            rows.append((age, e.result_of(age), None))
        head: _Head = (
            tuple(rows),
            tuple(c.id for c, r, _ in rows if r is Result.not_met),
            tuple(c.id for c, r, _ in rows if r is Result.unknown),
            tuple(c.text for c, r, _ in rows if r is Result.ask),
        )
        self._heads[(id(condition), id(age))] = (condition, age, head)
        return head

    def judge_study(
        self, condition: Criterion | None, age: Criterion | None, parsed: ParsedCriteria
    ) -> ParsedJudgement:
        """The registry's condition and age criteria, then the parsed ones. Memoised per
        distinct (condition, age, parse) objects."""
        key = (id(condition), id(age), id(parsed))
        hit = self._studies.get(key)
        if hit is not None and hit[0] is condition and hit[1] is age and hit[2] is parsed:
            return hit[3]
        rows, h_failing, h_unknown, h_ask = self._head(condition, age)
        plan, failing, unknown, ask = self._body(parsed)
        value = ParsedJudgement(
            _Explained(self.evaluator, rows, plan),
            h_failing + failing if h_failing else failing,
            h_unknown + unknown if h_unknown else unknown,
            h_ask + ask if h_ask else ask,
        )
        self._studies[key] = (condition, age, parsed, value)
        return value
