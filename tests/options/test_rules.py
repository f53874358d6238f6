from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from myelonav.knowledge.schema import Node
from myelonav.options.rules import UNKNOWN, Truth, evaluate

NODE: TypeAdapter[Node] = TypeAdapter(Node)


def node(data: dict[str, Any]) -> Node:
    return NODE.validate_python(data)


PLATELETS_LOW = {"fact": "platelets", "op": "lt", "value": 50}
T1114 = {"fact": "t_11_14", "op": "eq", "value": True}


def test_leaf_on_unknown_fact_is_unknown() -> None:
    assert evaluate(node(PLATELETS_LOW), {"platelets": UNKNOWN}) is Truth.unknown
    assert evaluate(node(PLATELETS_LOW), {}) is Truth.unknown
    assert evaluate(node(PLATELETS_LOW), {"platelets": 48}) is Truth.true
    assert evaluate(node(PLATELETS_LOW), {"platelets": 50}) is Truth.false


def test_is_known_and_is_unknown() -> None:
    assert evaluate(node({"fact": "age", "op": "is_known"}), {"age": 60}) is Truth.true
    assert evaluate(node({"fact": "age", "op": "is_unknown"}), {"age": UNKNOWN}) is Truth.true


def test_sets_and_in() -> None:
    contains = node({"fact": "prior_classes", "op": "contains", "value": "bispecific"})
    assert evaluate(contains, {"prior_classes": frozenset({"bispecific", "imid"})}) is Truth.true
    assert evaluate(contains, {"prior_classes": frozenset()}) is Truth.false
    member = node({"fact": "car_t_relapse_class", "op": "in", "value": ["early", "late"]})
    assert evaluate(member, {"car_t_relapse_class": "late"}) is Truth.true


def test_kleene_connectives() -> None:
    facts = {"platelets": 40, "t_11_14": UNKNOWN}
    assert evaluate(node({"all": [PLATELETS_LOW, T1114]}), facts) is Truth.unknown
    assert evaluate(node({"any": [PLATELETS_LOW, T1114]}), facts) is Truth.true
    facts = {"platelets": 90, "t_11_14": UNKNOWN}
    assert evaluate(node({"all": [PLATELETS_LOW, T1114]}), facts) is Truth.false
    assert evaluate(node({"any": [PLATELETS_LOW, T1114]}), facts) is Truth.unknown
    assert evaluate(node({"not": T1114}), facts) is Truth.unknown


truth_values = st.sampled_from([True, False, UNKNOWN])


@given(truth_values, truth_values)
def test_unknown_never_satisfies_more_than_a_known_value_would(a: Any, b: Any) -> None:
    """Kleene monotonicity: if replacing unknowns by any known value gives both true and
    false, the result must be unknown; a definite result must hold for every completion."""
    tree = node(
        {
            "any": [
                {"all": [T1114, {"fact": "del_17p", "op": "eq", "value": True}]},
                {"not": {"fact": "del_17p", "op": "eq", "value": True}},
            ]
        }
    )
    facts = {"t_11_14": a, "del_17p": b}
    result = evaluate(tree, facts)
    completions = [
        evaluate(tree, {"t_11_14": x, "del_17p": y})
        for x in ([a] if a is not UNKNOWN else [True, False])
        for y in ([b] if b is not UNKNOWN else [True, False])
    ]
    if result is not Truth.unknown:
        assert all(c is result for c in completions)
    else:
        assert len(set(completions)) >= 1
