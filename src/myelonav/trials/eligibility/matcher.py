"""One patient's matcher: evaluates atoms (one evaluator per atom family), trees (Kleene) and
criteria, memoised per query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from myelonav.trials.eligibility.disease import (
    _antigen,
    _cytogenetic,
    _disease_state,
    _feature,
    _measurable,
)
from myelonav.trials.eligibility.labs import _lab
from myelonav.trials.eligibility.person import _age, _performance
from myelonav.trials.eligibility.text import _other, _screening
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


class Matcher:
    """Evaluates criteria for one patient on one date.

    Everything it answers is memoised for the query: each distinct atom (by value), each
    distinct criterion text per section, each parse object and each (condition, age, parse)
    triple, so a study costs a few lookups once its criteria have been seen. Memoised answers
    are exactly what evaluating afresh gives (tests/trials/test_match_equivalence.py).
    """

    def __init__(self, facts: PatientFacts) -> None:
        self.facts = facts
        self._cache: dict[tuple[object, bool], Value] = {}
        self._by_id: dict[tuple[int, bool], tuple[Node, Value]] = {}
        # criterion text -> answer, one table per section (the parser is deterministic, so equal
        # text in the same section means an equal tree; str hashes are cached)
        self._inclusion: dict[str, tuple[Result, str]] = {}
        self._exclusion: dict[str, tuple[Result, str]] = {}
        # id(parse) -> (parse, its judgement); the parse is held so its id cannot be reused
        self._parses: dict[int, tuple[ParsedCriteria, ParsedJudgement]] = {}
        # (id(condition), id(age), id(parse)) -> (the three, the study's judgement)
        self._studies: dict[tuple[int, int, int], tuple[object, object, object, ParsedJudgement]]
        self._studies = {}
        self._registry: dict[int, tuple[Criterion, tuple[Result, str]]] = {}

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

    def judge_parsed(self, parsed: ParsedCriteria) -> ParsedJudgement:
        """Every criterion of one stored parse, judged once per parse object (stores share one
        parse between studies with the same text, and a parse is immutable)."""
        hit = self._parses.get(id(parsed))
        if hit is not None and hit[0] is parsed:
            return hit[1]
        inclusion, exclusion = self._inclusion, self._exclusion
        incl = Section.inclusion
        not_met, unknown_, ask_ = Result.not_met, Result.unknown, Result.ask
        judged: list[tuple[Criterion, Result, str]] = []
        failing: list[str] = []
        unknown: list[str] = []
        ask: list[str] = []
        for c in parsed.criteria:
            text = c.text
            table = inclusion if c.section is incl else exclusion
            answer = table.get(text)
            if answer is None:
                answer = table[text] = self._judge(c)
            result = answer[0]
            judged.append((c, result, answer[1]))
            if result is not_met:
                failing.append(c.id)
            elif result is unknown_:
                unknown.append(c.id)
            elif result is ask_:
                ask.append(text)
        value = ParsedJudgement(tuple(judged), tuple(failing), tuple(unknown), tuple(ask))
        self._parses[id(parsed)] = (parsed, value)
        return value

    def judge(self, c: Criterion) -> tuple[Result, str]:
        table = self._inclusion if c.section is Section.inclusion else self._exclusion
        hit = table.get(c.text)
        if hit is None:
            hit = table[c.text] = self._judge(c)
        return hit

    def judge_study(
        self, condition: Criterion | None, age: Criterion | None, parsed: ParsedCriteria
    ) -> ParsedJudgement:
        """The registry's condition and age criteria, then the parsed ones. Memoised per
        distinct (condition, age, parse) objects: the first two are shared between studies."""
        key = (id(condition), id(age), id(parsed))
        hit = self._studies.get(key)
        if hit is not None and hit[0] is condition and hit[1] is age and hit[2] is parsed:
            return hit[3]
        body = self.judge_parsed(parsed)
        head: list[tuple[Criterion, Result, str]] = []
        if condition is not None and isinstance(condition.tree, OtherAtom):
            head.append((condition, Result.not_met, _NOT_MYELOMA))
        elif condition is not None:
            head.append((condition, *self._judge_registry(condition)))
        if age is not None:
            head.append((age, *self._judge_registry(age)))
        value = body
        if head:
            failing, unknown, ask = [], [], []
            for c, r, _ in head:
                if r is Result.not_met:
                    failing.append(c.id)
                elif r is Result.unknown:
                    unknown.append(c.id)
                elif r is Result.ask:
                    ask.append(c.text)
            value = ParsedJudgement(
                (*head, *body.judged),
                (*failing, *body.failing) if failing else body.failing,
                (*unknown, *body.unknown) if unknown else body.unknown,
                (*ask, *body.ask) if ask else body.ask,
            )
        self._studies[key] = (condition, age, parsed, value)
        return value

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
