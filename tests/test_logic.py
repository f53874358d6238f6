"""The one three-valued logic (Kleene) shared by every engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from myelonav.logic import UNKNOWN, Truth, all_of, any_of, deciding_facts, evaluate

truths = st.sampled_from(list(Truth))


@dataclass
class Leaf:
    fact: str
    op: str
    value: Any = None


@dataclass
class All:
    all: list[Any]


@dataclass
class AnyOf:
    any: list[Any]


@dataclass
class Not:
    not_: Any


@given(st.lists(truths))
def test_kleene_tables(parts: list[Truth]) -> None:
    conj, disj = all_of(parts), any_of(parts)
    assert (conj is Truth.false) == (Truth.false in parts)
    assert (conj is Truth.true) == all(p is Truth.true for p in parts)
    assert (disj is Truth.true) == (Truth.true in parts)
    assert (disj is Truth.false) == all(p is Truth.false for p in parts)
    # De Morgan holds in Kleene logic
    assert all_of(parts).negate() is any_of(p.negate() for p in parts)


def test_unknown_never_satisfies_a_leaf() -> None:
    facts = {"ecog": UNKNOWN, "age": 70}
    assert evaluate(Leaf("ecog", "le", 2), facts) is Truth.unknown
    assert evaluate(Not(Leaf("ecog", "le", 2)), facts) is Truth.unknown
    assert evaluate(Leaf("ecog", "is_unknown"), facts) is Truth.true
    assert evaluate(Leaf("missing", "eq", 1), facts) is Truth.unknown
    assert evaluate(All([Leaf("age", "ge", 18), Leaf("ecog", "le", 2)]), facts) is Truth.unknown
    assert evaluate(AnyOf([Leaf("age", "ge", 18), Leaf("ecog", "le", 2)]), facts) is Truth.true
    assert evaluate(All([Leaf("age", "lt", 18), Leaf("ecog", "le", 2)]), facts) is Truth.false


def test_deciding_facts_name_what_made_the_rule_true() -> None:
    facts = {"a": True, "b": False, "c": True}
    tree = All([Leaf("a", "eq", True), AnyOf([Leaf("b", "eq", True), Leaf("c", "eq", True)])])
    assert evaluate(tree, facts) is Truth.true
    assert deciding_facts(tree, facts) == ["a", "c"]
    assert deciding_facts(Not(Leaf("b", "eq", True)), facts) == ["b"]
