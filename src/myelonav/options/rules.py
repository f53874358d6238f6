"""Three-valued evaluation of the knowledge base's rule trees (``myelonav.logic`` evaluates).

A leaf on an unknown fact is unknown. ``all`` is false if any child is false, else unknown if
any child is unknown, else true; ``any`` is true if any child is true, else unknown if any is
unknown, else false; ``not`` flips true and false and keeps unknown. This is Kleene's strong
three-valued logic, so an unknown fact can never make a rule look satisfied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from myelonav.knowledge.schema import Node
from myelonav.logic import UNKNOWN, Truth, evaluate, evaluate_leaf


def unknown_facts(node: Node, facts: Mapping[str, Any]) -> list[str]:
    """The unknown facts a tree reads, in order, without repeats."""
    from myelonav.knowledge.schema import iter_leaves

    seen: list[str] = []
    for leaf in iter_leaves(node):
        if facts.get(leaf.fact, UNKNOWN) is UNKNOWN and leaf.fact not in seen:
            seen.append(leaf.fact)
    return seen


__all__ = ["UNKNOWN", "Truth", "evaluate", "evaluate_leaf", "unknown_facts"]
