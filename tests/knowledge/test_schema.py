"""The option schema rejects what a curator could get wrong."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from myelonav.knowledge.schema import (
    FACTS,
    AllNode,
    Citation,
    Evidence,
    Leaf,
    Node,
    NotNode,
    Option,
    SafetyData,
    fact_table,
    iter_leaves,
)

CITE: dict[str, Any] = {"source": "N Engl J Med", "year": 2022, "pmid": "35661166"}
NODE: TypeAdapter[Any] = TypeAdapter(Node)


def minimal() -> dict[str, Any]:
    """A small valid option document (as YAML would load it)."""
    return {
        "schema": "myelonav.option/1",
        "id": "example",
        "name": "Example",
        "category": "bispecific",
        "agents": ["teclistamab"],
        "targets": ["BCMA"],
        "summary_patient": "A shot under the skin.",
        "summary_clinician": "BCMA x CD3 bispecific.",
        "how_it_works_patient": "It brings T cells to myeloma cells.",
        "who_it_is_for": "Adults after four lines.",
        "evidence": [
            {
                "study": "S",
                "design": "phase_2",
                "population": "P",
                "post_bcma_car_t": "no",
                "post_bispecific": "no",
                "n": 100,
                "orr_pct": 60.0,
                "cr_or_better_pct": 30.0,
                "median_pfs_months": "not_reached",
                "citation": dict(CITE),
            }
        ],
        "safety": {"key_risks_patient": "Fever.", "data": []},
        "logistics": {
            "route": "subcutaneous",
            "step_up_dosing": True,
            "hospital_stay": "Two days.",
            "duration": "continuous",
            "rems": True,
            "list_price": None,
        },
        "approval": [{"status": "investigational"}],
        "rules": [
            {
                "id": "r1",
                "effect": "caution",
                "when": {"fact": "platelets", "op": "lt", "value": 50},
                "reason_patient": "Low platelets.",
                "reason_clinician": "Platelets < 50.",
                "basis": "clinical_practice",
            }
        ],
        "last_reviewed": dt.date(2026, 11, 25),
    }


def rejects(doc: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Option.model_validate(doc)
    assert fragment in str(info.value)


def test_minimal_document_is_valid() -> None:
    option = Option.model_validate(minimal())
    assert option.id == "example"
    assert option.evidence[0].figures() == {
        "orr_pct": 60.0,
        "cr_or_better_pct": 30.0,
        "median_pfs_months": "not_reached",
    }
    assert option.rules[0].facts() == {"platelets"}


@pytest.mark.parametrize(
    "path",
    [(), ("evidence", 0), ("evidence", 0, "citation"), ("safety",), ("logistics",), ("rules", 0)],
)
def test_unknown_keys_fail_everywhere(path: tuple[Any, ...]) -> None:
    doc = minimal()
    target: Any = doc
    for part in path:
        target = target[part]
    target["surprise"] = 1
    rejects(doc, "Extra inputs are not permitted")


@pytest.mark.parametrize("figure", ["orr_pct", "cr_or_better_pct", "median_os_months", "n"])
def test_uncited_evidence_figure_fails(figure: str) -> None:
    doc = minimal()
    entry = doc["evidence"][0]
    for key in ("n", "orr_pct", "cr_or_better_pct", "median_pfs_months", "citation"):
        del entry[key]
    entry[figure] = 12
    rejects(doc, "need a citation")


def test_evidence_without_figures_needs_no_citation() -> None:
    entry = Evidence.model_validate(
        {
            "study": "Case report",
            "design": "case_series",
            "population": "one patient",
            "post_bcma_car_t": "yes",
            "post_bispecific": "no",
        }
    )
    assert entry.figures() == {}


def test_uncited_safety_figure_fails() -> None:
    doc = minimal()
    doc["safety"]["data"] = [{"study": "S", "crs_pct": 50}]
    rejects(doc, "need a citation")


@pytest.mark.parametrize("value", [-0.1, 100.1, 250])
def test_percentages_outside_0_100_fail(value: float) -> None:
    doc = minimal()
    doc["evidence"][0]["orr_pct"] = value
    rejects(doc, "orr_pct")
    doc = minimal()
    doc["safety"]["data"] = [{"study": "S", "icans_pct": value, "citation": CITE}]
    rejects(doc, "icans_pct")


@given(st.floats(min_value=0, max_value=100))
def test_any_percentage_in_range_is_accepted(value: float) -> None:
    data = SafetyData.model_validate({"study": "S", "crs_pct": value, "citation": CITE})
    assert data.figures() == {"crs_pct": value}


def test_cr_cannot_exceed_orr_and_grade3_cannot_exceed_any_grade() -> None:
    doc = minimal()
    doc["evidence"][0]["cr_or_better_pct"] = 70.0
    rejects(doc, "cannot exceed orr_pct")
    doc = minimal()
    doc["safety"]["data"] = [
        {"study": "S", "crs_pct": 10, "crs_grade3plus_pct": 20, "citation": CITE}
    ]
    rejects(doc, "cannot exceed crs_pct")


def test_citation_needs_an_identifier_and_well_formed_ids() -> None:
    with pytest.raises(ValidationError, match="at least one of pmid, doi, url or abstract"):
        Citation.model_validate({"source": "Blood", "year": 2023})
    with pytest.raises(ValidationError, match="doi"):
        Citation.model_validate({"source": "Blood", "year": 2023, "doi": "doi:10.1/x"})
    with pytest.raises(ValidationError, match="pmid"):
        Citation.model_validate({"source": "Blood", "year": 2023, "pmid": "PMID123"})
    assert Citation.model_validate(
        {"source": "FDA label", "year": 2023, "url": "https://clinicaltrials.gov/study/NCT00000000"}
    )


def test_unknown_agent_fails() -> None:
    doc = minimal()
    doc["agents"] = ["teclistamab", "Tecvayli"]
    rejects(doc, "not vocabulary ids")


def test_missing_last_reviewed_fails() -> None:
    doc = minimal()
    del doc["last_reviewed"]
    rejects(doc, "last_reviewed")


def test_approved_status_needs_date_region_indication_citation() -> None:
    doc = minimal()
    doc["approval"] = [{"status": "accelerated", "region": "US"}]
    rejects(doc, "needs ['date', 'indication', 'citation']")


def test_rule_with_study_basis_needs_citation_and_ids_are_unique() -> None:
    doc = minimal()
    doc["rules"][0]["basis"] = "study"
    rejects(doc, "needs at least one citation")
    doc = minimal()
    doc["rules"].append(copy.deepcopy(doc["rules"][0]))
    rejects(doc, "used twice")


# --------------------------------------------------------------------------- rule language


@pytest.mark.parametrize(
    ("leaf", "fragment"),
    [
        ({"fact": "platelet", "op": "lt", "value": 50}, "unknown fact 'platelet'"),
        ({"fact": "platelets", "op": "contains", "value": 50}, "does not apply"),
        ({"fact": "platelets", "op": "lt", "value": "fifty"}, "must be a number"),
        ({"fact": "platelets", "op": "lt", "value": True}, "must be a number"),
        ({"fact": "t_11_14", "op": "eq", "value": "yes"}, "true or false"),
        ({"fact": "t_11_14", "op": "lt", "value": 1}, "does not apply"),
        ({"fact": "car_t_relapse_class", "op": "eq", "value": "late_ish"}, "not a value"),
        ({"fact": "car_t_relapse_class", "op": "in", "value": []}, "non-empty list"),
        ({"fact": "car_t_relapse_class", "op": "eq", "value": ["early"]}, "single value"),
        ({"fact": "exposed_to_target", "op": "contains", "value": "BMCA"}, "not a value"),
        ({"fact": "prior_agents", "op": "contains", "value": "tecvayli"}, "vocabulary id"),
        ({"fact": "prior_classes", "op": "contains", "value": "bispecifics"}, "not a value"),
        ({"fact": "prior_agents", "op": "eq", "value": "teclistamab"}, "does not apply"),
        ({"fact": "anc", "op": "is_known", "value": 1}, "takes no value"),
        ({"fact": "anc", "op": "lt"}, "needs a value"),
        ({"fact": "anc", "op": "below", "value": 1}, "Input should be"),
    ],
)
def test_bad_leaves_fail(leaf: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        NODE.validate_python(leaf)
    assert fragment in str(info.value)


def test_bad_fact_deep_in_a_tree_fails_the_option() -> None:
    doc = minimal()
    doc["rules"][0]["when"] = {
        "all": [
            {"fact": "platelets", "op": "lt", "value": 50},
            {"not": {"any": [{"fact": "ecgo", "op": "ge", "value": 3}]}},
        ]
    }
    rejects(doc, "unknown fact 'ecgo'")


@pytest.mark.parametrize("node", [{}, {"all": []}, {"any": "x"}, {"not": []}, [], "leaf"])
def test_malformed_nodes_fail(node: Any) -> None:
    with pytest.raises(ValidationError):
        NODE.validate_python(node)


def test_nested_tree_parses_and_leaves_are_listed() -> None:
    tree = NODE.validate_python(
        {
            "all": [
                {"fact": "car_t_target", "op": "eq", "value": "BCMA"},
                {"not": {"fact": "bcma_status_at_relapse", "op": "is_unknown"}},
                {"any": [{"fact": "goals", "op": "contains", "value": "quality_of_life"}]},
            ]
        }
    )
    assert isinstance(tree, AllNode)
    assert isinstance(tree.all[1], NotNode)
    assert [leaf.fact for leaf in iter_leaves(tree)] == [
        "car_t_target",
        "bcma_status_at_relapse",
        "goals",
    ]


@given(st.sampled_from(sorted(FACTS)))
def test_every_fact_accepts_is_known(fact: str) -> None:
    leaf = NODE.validate_python({"fact": fact, "op": "is_known"})
    assert isinstance(leaf, Leaf)
    assert leaf.fact == fact


def test_fact_table_is_complete() -> None:
    for name, spec in FACTS.items():
        assert spec.description, name
        if spec.type == "number":
            assert spec.unit, f"number fact {name} needs a unit"
        if spec.type in ("enum", "set"):
            assert spec.allowed(), f"{name} needs a closed domain"


def _good_value(fact: str) -> st.SearchStrategy[Any]:
    spec = FACTS[fact]
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "number":
        return st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
    allowed = spec.allowed()
    assert allowed
    return st.sampled_from(sorted(allowed))


_OP_FOR_TYPE = {"bool": "eq", "number": "ge", "enum": "eq", "set": "contains"}


@given(st.sampled_from(sorted(FACTS)).flatmap(lambda f: st.tuples(st.just(f), _good_value(f))))
def test_well_typed_leaf_is_accepted(fact_and_value: tuple[str, Any]) -> None:
    fact, value = fact_and_value
    op = _OP_FOR_TYPE[FACTS[fact].type]
    leaf = NODE.validate_python({"fact": fact, "op": op, "value": value})
    assert isinstance(leaf, Leaf)
    assert leaf.value == value


@given(st.sampled_from(sorted(FACTS)), st.text(min_size=1, max_size=12))
def test_string_outside_the_domain_is_rejected(fact: str, text: str) -> None:
    spec = FACTS[fact]
    op = _OP_FOR_TYPE[spec.type]
    allowed = spec.allowed()
    if allowed is not None and text in allowed:
        return
    with pytest.raises(ValidationError):
        NODE.validate_python({"fact": fact, "op": op, "value": text})


def test_citations_are_collected_once_in_order() -> None:
    doc = minimal()
    doc["safety"]["data"] = [{"study": "S", "crs_pct": 50, "citation": dict(CITE)}]
    doc["rules"][0]["basis"] = "label"
    label = {"source": "FDA label", "year": 2023, "url": "https://www.accessdata.fda.gov/label"}
    doc["rules"][0]["citations"] = [label]
    option = Option.model_validate(doc)
    assert [c.source for c in option.citations()] == ["N Engl J Med", "FDA label"]


def test_fact_table_rows_match_facts() -> None:
    rows = fact_table()
    assert [r[0] for r in rows] == list(FACTS)
    assert rows[[r[0] for r in rows].index("platelets")][:3] == ("platelets", "number", "10^9/L")
