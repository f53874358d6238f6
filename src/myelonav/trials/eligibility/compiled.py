"""Criteria compiled for matching at registry scale.

A criterion's result for a patient depends only on its section, its region note, whether it
has text not understood, and the values of its atoms. Compiling keeps just that:

* each distinct atom gets a *slot* (an int). Atoms are keyed by value; text the parser did not
  structure (``OtherAtom``) is keyed by what its evaluator reads - the vocabulary drugs it names
  and whether it names a therapy type - not by its wording, and every screening item shares one
  slot. The patient's value of each slot (truth, why unknown, as one small int) is computed
  once per patient: that is the patient's fact vector over every atom family;
* each criterion becomes a *program*: (needs true, region, flags of what was not understood,
  and/or code over slots). Many distinct texts compile to the same program, so a patient's
  result is computed once per program, by folding small ints, no strings built;
* each study becomes a *study plan*: its registry condition and age criteria and its parsed
  criteria as one tuple of program ids, so its results are one ``itemgetter`` call over the
  patient's result codes (a ``bytearray``), and its ids not met, unknown and to ask about are
  picked in C (``Matcher.judge_study``);
* the patient fact shown beside each result is built only for the trials whose criteria are
  read (``TrialMatch.criteria``), by the reference evaluators.

The tables are process-wide (a registry's criteria compile once per process, not per query),
keyed by the identity of the criterion objects the store shares between studies; they start
over when they outgrow ``_MAX_CRITERIA``. Results are exactly the reference evaluation's
(``tests/trials/test_match_equivalence.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from myelonav.trials.criteria.models import (
    Criterion,
    FeatureAtom,
    Group,
    Node,
    OtherAtom,
    ParsedCriteria,
    ScreeningAtom,
    Section,
)
from myelonav.trials.criteria.residue import BOTH_WAYS, REGION
from myelonav.trials.eligibility.text import other_key

_MAX_CRITERIA = 400_000

# "applies to" flags: (any part not understood, a part that blocks "met" as well)
Flags = tuple[bool, bool]
# and/or code over slots: a slot, or (is_and, parts)
Code = int | tuple[bool, tuple[Any, ...]]
# (needs true, region, flags, flags without the region note, code)
Program = tuple[bool, str | None, Flags, Flags, Code]


def _flags(unaccounted: tuple[str, ...]) -> Flags:
    return bool(unaccounted), any(u.startswith(BOTH_WAYS) for u in unaccounted)


def _reader(pids: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Reads the results at ``pids`` from a patient's results in one call."""
    if len(pids) > 1:
        return itemgetter(*pids)
    if pids:
        only = pids[0]
        return lambda results: (results[only],)
    return lambda results: ()


class Plan:
    """A parse's criteria as programs: ``get(results)`` reads every criterion's result from a
    patient's results (indexed by program) in one call."""

    __slots__ = ("criteria", "get", "ids", "pids", "texts", "top")

    def __init__(self, criteria: tuple[Criterion, ...], pids: tuple[int, ...]) -> None:
        self.criteria = criteria
        self.pids = pids
        self.ids = tuple(c.id for c in criteria)
        self.texts = tuple(c.text for c in criteria)
        self.top = max(pids, default=-1)
        self.get = _reader(pids)


class StudyPlan:
    """A study's criteria in order - the registry's condition and age criteria, then the
    parse's - as programs: ``results(res)`` reads every criterion's result from a patient's
    results (indexed by program) in one call. A condition that is not myeloma at all is not
    met whatever the patient (``fixed``): it has no program, its result is prefixed."""

    __slots__ = ("criteria", "fixed", "get", "ids", "pids", "registry", "texts", "top")

    def __init__(
        self, criteria: tuple[Criterion, ...], pids: tuple[int, ...], registry: int, fixed: bool
    ) -> None:
        self.criteria = criteria
        self.pids = pids
        self.registry = registry  # how many leading criteria come from registry fields
        self.fixed = fixed
        self.ids = tuple(c.id for c in criteria)
        self.texts = tuple(c.text for c in criteria)
        self.top = max(pids, default=-1)
        self.get = _reader(pids)


class Tables:
    """Slots and programs, shared by every matcher built while they are current."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # slot -> (kind, payload, needs true): kind "atom" (payload the atom), "other"
        # (payload other_key) or "screening"
        self.slots: list[tuple[str, Any, bool]] = []
        self._slot_of: dict[object, int] = {}
        self._slot_by_id: dict[tuple[int, bool], tuple[Node, int]] = {}
        self.programs: list[Program] = []
        self._program_of: dict[Program, int] = {}
        self._criteria: dict[int, tuple[Criterion, int]] = {}
        self._plans: dict[int, tuple[ParsedCriteria, Plan]] = {}
        self._studies: dict[tuple[int, int, int], tuple[object, object, object, StudyPlan]] = {}

    def __len__(self) -> int:
        return len(self._criteria) + len(self._plans) + len(self._studies)

    def plan(self, parsed: ParsedCriteria) -> Plan:
        """The programs of a parse's criteria, in order (once per parse object)."""
        hit = self._plans.get(id(parsed))
        if hit is not None and hit[0] is parsed:
            return hit[1]
        plan = Plan(parsed.criteria, tuple(self.program_id(c) for c in parsed.criteria))
        self._plans[id(parsed)] = (parsed, plan)
        return plan

    def study_plan(
        self, condition: Criterion | None, age: Criterion | None, parsed: ParsedCriteria
    ) -> StudyPlan:
        """The programs of a study's criteria (once per (condition, age, parse) objects)."""
        key = (id(condition), id(age), id(parsed))
        hit = self._studies.get(key)
        if hit is not None and hit[0] is condition and hit[1] is age and hit[2] is parsed:
            return hit[3]
        registry = tuple(c for c in (condition, age) if c is not None)
        fixed = condition is not None and isinstance(condition.tree, OtherAtom)
        counted = registry[1:] if fixed else registry
        pids = (
            *(self.program_id(c) for c in counted),
            *self.plan(parsed).pids,
        )
        plan = StudyPlan((*registry, *parsed.criteria), pids, len(registry), fixed)
        self._studies[key] = (condition, age, parsed, plan)
        return plan

    def program_id(self, c: Criterion) -> int:
        """The program of a criterion (compiled on first sight of this object)."""
        hit = self._criteria.get(id(c))
        if hit is not None and hit[0] is c:
            return hit[1]
        with self.lock:
            pid = self._compile(c)
            self._criteria[id(c)] = (c, pid)
        return pid

    def _compile(self, c: Criterion) -> int:
        need_true = c.section is Section.inclusion and not c.excludes
        unaccounted = c.unaccounted
        filtered = tuple(u for u in unaccounted if not u.startswith(REGION))
        program: Program = (
            need_true,
            c.region,
            _flags(unaccounted),
            _flags(filtered),
            self._code(c.tree, need_true),
        )
        pid = self._program_of.get(program)
        if pid is None:
            pid = self._program_of[program] = len(self.programs)
            self.programs.append(program)
        return pid

    def _code(self, node: Node, need_true: bool) -> Code:
        if isinstance(node, Group):
            return (node.op == "and", tuple(self._code(i, need_true) for i in node.items))
        return self._slot(node, need_true)

    def _slot(self, node: Node, need_true: bool) -> int:
        by_id = self._slot_by_id.get((id(node), need_true))
        if by_id is not None and by_id[0] is node:
            return by_id[1]
        entry: tuple[str, Any, bool]
        key: object
        if isinstance(node, ScreeningAtom):
            entry = key = ("screening", None, False)
        elif isinstance(node, OtherAtom):
            entry = key = ("other", other_key(node.text), False)
        else:
            # only a feature's answer depends on whether the criterion needs it true
            needs = need_true if isinstance(node, FeatureAtom) else False
            entry = ("atom", node, needs)
            key = (node, needs)
        slot = self._slot_of.get(key)
        if slot is None:
            slot = self._slot_of[key] = len(self.slots)
            self.slots.append(entry)
        self._slot_by_id[(id(node), need_true)] = (node, slot)
        return slot


_tables = Tables()
_tables_lock = threading.Lock()


def current_tables() -> Tables:
    """The tables new matchers use; replaced (not cleared: running matchers keep theirs) when
    they hold more criteria than any registry has."""
    global _tables
    with _tables_lock:
        if len(_tables) > _MAX_CRITERIA:
            _tables = Tables()
        return _tables


def reset_tables() -> None:
    global _tables
    with _tables_lock:
        _tables = Tables()


__all__ = ["Code", "Plan", "Program", "StudyPlan", "Tables", "current_tables", "reset_tables"]
