"""The one three-valued logic every engine uses (options rules, trial eligibility, question
triggers, symptom triage).

Kleene's strong three-valued logic: ``all`` is false if any part is false, else unknown if
any part is unknown, else true; ``any`` is true if any part is true, else unknown if any
part is unknown, else false; ``not`` flips true and false and keeps unknown. An unknown fact
can therefore never make a rule look satisfied, nor make a requirement look failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Final, Protocol, runtime_checkable


class Truth(Enum):
    true = "true"
    false = "false"
    unknown = "unknown"

    @staticmethod
    def of(value: bool | None) -> Truth:
        """``None`` (not known) is unknown."""
        if value is None:
            return Truth.unknown
        return Truth.true if value else Truth.false

    def negate(self) -> Truth:
        if self is Truth.unknown:
            return self
        return Truth.false if self is Truth.true else Truth.true

    def __invert__(self) -> Truth:
        return self.negate()

    def __and__(self, other: Truth) -> Truth:
        return all_of((self, other))

    def __or__(self, other: Truth) -> Truth:
        return any_of((self, other))

    @property
    def known(self) -> bool:
        return self is not Truth.unknown


class _Unknown:
    """The value of a fact the engine could not compute from the record."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final[Any] = _Unknown()


def all_of(parts: Iterable[Truth]) -> Truth:
    """Kleene conjunction (true for no parts)."""
    result = Truth.true
    for part in parts:
        if part is Truth.false:
            return Truth.false
        if part is Truth.unknown:
            result = Truth.unknown
    return result


def any_of(parts: Iterable[Truth]) -> Truth:
    """Kleene disjunction (false for no parts)."""
    result = Truth.false
    for part in parts:
        if part is Truth.true:
            return Truth.true
        if part is Truth.unknown:
            result = Truth.unknown
    return result


# --------------------------------------------------------------------------- rule trees
# A rule tree is all/any/not over leaves {fact, op, value}. The node classes live with the
# data that uses them (knowledge.schema for options and question triggers); evaluation
# lives here, once.


@runtime_checkable
class LeafNode(Protocol):
    fact: str
    op: str
    value: Any


@runtime_checkable
class AllTree(Protocol):
    all: Sequence[Any]


@runtime_checkable
class AnyTree(Protocol):
    any: Sequence[Any]


@runtime_checkable
class NotTree(Protocol):
    not_: Any


def compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "le":
        return bool(actual <= expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "in":
        return actual in expected
    if op == "contains":
        return expected in actual
    raise ValueError(f"unknown op {op!r}")


def evaluate_leaf(leaf: LeafNode, facts: Mapping[str, Any]) -> Truth:
    actual = facts.get(leaf.fact, UNKNOWN)
    if leaf.op == "is_known":
        return Truth.of(actual is not UNKNOWN)
    if leaf.op == "is_unknown":
        return Truth.of(actual is UNKNOWN)
    if actual is UNKNOWN:
        return Truth.unknown
    return Truth.of(compare(leaf.op, actual, leaf.value))


def evaluate(node: Any, facts: Mapping[str, Any]) -> Truth:
    """The truth of a rule tree over the facts (``UNKNOWN`` marks a fact not known)."""
    if isinstance(node, AllTree):
        return all_of(evaluate(child, facts) for child in node.all)
    if isinstance(node, AnyTree):
        return any_of(evaluate(child, facts) for child in node.any)
    if isinstance(node, NotTree):
        return evaluate(node.not_, facts).negate()
    if isinstance(node, LeafNode):
        return evaluate_leaf(node, facts)
    raise TypeError(f"not a rule node: {type(node).__name__}")


def deciding_facts(node: Any, facts: Mapping[str, Any]) -> list[str]:
    """The facts that make the tree come out as it does (for a true tree: why it is true)."""
    truth = evaluate(node, facts)
    out: list[str] = []

    def walk(n: Any, want: Truth) -> None:
        if isinstance(n, NotTree):
            walk(n.not_, want.negate())
        elif isinstance(n, AllTree | AnyTree):
            children = n.all if isinstance(n, AllTree) else n.any
            # a conjunction is true (a disjunction false) through every child, else through
            # the first child that decides it
            every = (want is Truth.true) == isinstance(n, AllTree)
            for child in children:
                if evaluate(child, facts) is want:
                    walk(child, want)
                    if not every:
                        return
        elif isinstance(n, LeafNode) and n.fact not in out:
            out.append(n.fact)

    walk(node, truth)
    return out


__all__ = [
    "UNKNOWN",
    "Truth",
    "all_of",
    "any_of",
    "compare",
    "deciding_facts",
    "evaluate",
    "evaluate_leaf",
]
