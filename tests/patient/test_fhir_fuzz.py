"""The importer never crashes: any input gives a record or a MyelonavError naming a place."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelonav.errors import MyelonavError
from myelonav.patient.fhir_import import INTERNAL_ERROR, import_bundle, load_json
from myelonav.patient.fuzzing import make_case, run_case
from myelonav.samples import sample_bundle_path, sample_ids

AS_OF = dt.date(2026, 11, 25)
BUNDLES = {i: json.loads(sample_bundle_path(i).read_text("utf-8")) for i in sample_ids()}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _set(root: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return root


def _import(data: Any) -> None:
    try:
        report = import_bundle(data, as_of=AS_OF)
    except MyelonavError as exc:
        assert str(exc)  # a message, with a location for bundle errors
        assert INTERNAL_ERROR not in exc.message, exc.__cause__
        return
    assert report.record.id


SEED_TEXTS = [sample_bundle_path(i).read_text("utf-8") for i in sample_ids()]
GRAMMAR_CASES = 300  # the quick deterministic slice; benchmarks/fuzz_import.py runs 100,000


def test_grammar_mutations_import_or_fail_clearly_and_profiles_read_back() -> None:
    """Each case imports to a profile every reader gets back, or fails naming where; fast."""
    kinds: dict[str, int] = {}
    for index in range(GRAMMAR_CASES):
        outcome = run_case(make_case(SEED_TEXTS, index, seed=17))
        assert outcome.kind in {"imported", "refused"}, (index, outcome)
        assert outcome.seconds < 5.0, (index, outcome.seconds)
        kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
    # the grammar must reach the mapping code, not only the first shape check
    assert kinds.get("imported", 0) > GRAMMAR_CASES // 5, kinds
    assert kinds.get("refused", 0) > GRAMMAR_CASES // 5, kinds


def test_grammar_cases_are_deterministic() -> None:
    assert make_case(SEED_TEXTS, 42, seed=1) == make_case(SEED_TEXTS, 42, seed=1)
    assert make_case(SEED_TEXTS, 42, seed=1) != make_case(SEED_TEXTS, 43, seed=1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(BUNDLES)), st.data(), json_values, st.booleans())
def test_mutated_bundles_never_crash(
    sample_id: str, data: st.DataObject, value: Any, delete: bool
) -> None:
    bundle = copy.deepcopy(BUNDLES[sample_id])
    paths = _paths(bundle)
    path = data.draw(st.sampled_from(paths))
    mutated = _set(bundle, path, value, delete and bool(path))
    _import(mutated)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_never_crashes(value: Any) -> None:
    _import(value)
    _import({"resourceType": "Bundle", "entry": value})
    _import({"resourceType": "Bundle", "entry": [{"resource": value}]})


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_clear_json_error(raw: bytes) -> None:
    try:
        _import(load_json(raw, "upload.json"))
    except MyelonavError as exc:
        assert "upload.json" in str(exc)


def test_a_synthea_style_bundle_of_another_cancer_is_refused() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:a",
                "resource": {
                    "resourceType": "Patient",
                    "id": "a",
                    "birthDate": "1971-03-02",
                    "gender": "female",
                    "name": [{"family": "Doe"}],
                    "address": [{"postalCode": "02118", "country": "US"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": {"resourceType": "Encounter", "id": "e", "status": "finished"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c",
                    "code": {
                        "coding": [
                            {
                                "system": "http://snomed.info/sct",
                                "code": "254637007",
                                "display": "Non-small cell lung cancer",
                            }
                        ]
                    },
                    "onsetDateTime": "2019-04-01",
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
                    "effectiveDateTime": "2019-04-01",
                    "valueQuantity": {"value": 165, "unit": "cm", "code": "cm"},
                }
            },
        ],
    }
    try:
        import_bundle(bundle, as_of=AS_OF)
    except MyelonavError as exc:
        assert "no multiple myeloma" in str(exc) and "lung" in str(exc)
    else:  # pragma: no cover - a failure path
        raise AssertionError("a lung cancer bundle must be refused")
