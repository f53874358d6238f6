"""Three-valued evaluation of the knowledge base's rule trees.

A leaf on an unknown fact is unknown. ``all`` is false if any child is false, else unknown if
any child is unknown, else true; ``any`` is true if any child is true, else unknown if any is
unknown, else false; ``not`` flips true and false and keeps unknown. This is Kleene's strong
three-valued logic, so an unknown fact can never make a rule look satisfied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from myelonav.knowledge.schema import AllNode, AnyNode, Leaf, Node, NotNode
from myelonav.logic import UNKNOWN, Truth, all_of, any_of


def _compare(op: str, actual: Any, expected: Any) -> bool:
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
    raise ValueError(f"unknown op {op!r}")  # the schema makes this unreachable


def evaluate_leaf(leaf: Leaf, facts: Mapping[str, Any]) -> Truth:
    actual = facts.get(leaf.fact, UNKNOWN)
    if leaf.op == "is_known":
        return Truth.of(actual is not UNKNOWN)
    if leaf.op == "is_unknown":
        return Truth.of(actual is UNKNOWN)
    if actual is UNKNOWN:
        return Truth.unknown
    return Truth.of(_compare(leaf.op, actual, leaf.value))


def evaluate(node: Node, facts: Mapping[str, Any]) -> Truth:
    """The truth of a rule tree over the facts (``UNKNOWN`` marks a fact not known)."""
    if isinstance(node, Leaf):
        return evaluate_leaf(node, facts)
    if isinstance(node, AllNode):
        return all_of([evaluate(child, facts) for child in node.all])
    if isinstance(node, AnyNode):
        return any_of([evaluate(child, facts) for child in node.any])
    if isinstance(node, NotNode):
        return evaluate(node.not_, facts).negate()
    raise TypeError(f"not a rule node: {type(node).__name__}")


def unknown_facts(node: Node, facts: Mapping[str, Any]) -> list[str]:
    """The unknown facts a tree reads, in order, without repeats."""
    from myelonav.knowledge.schema import iter_leaves

    seen: list[str] = []
    for leaf in iter_leaves(node):
        if facts.get(leaf.fact, UNKNOWN) is UNKNOWN and leaf.fact not in seen:
            seen.append(leaf.fact)
    return seen


__all__ = ["UNKNOWN", "Truth", "evaluate", "evaluate_leaf", "unknown_facts"]
