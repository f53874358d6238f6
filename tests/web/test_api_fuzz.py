"""Fuzzing beyond the schema: mutated real FHIR bundles and odd query values on a real
profile never give a 5xx, and every refusal names a field."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelonav.samples import sample_bundle_path, sample_ids

BUNDLE: dict[str, Any] = json.loads(sample_bundle_path(sample_ids()[0]).read_text("utf-8"))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


PATHS = [p for p in _paths(BUNDLE) if p]


def _mutate(bundle: dict[str, Any], path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    data = copy.deepcopy(bundle)
    parent: Any = data
    for key in path[:-1]:
        parent = parent[key]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), value=JSON_VALUES, drop=st.booleans())
def test_mutated_bundle_never_500(client: Any, path: tuple[Any, ...], value: Any,
                                  drop: bool) -> None:
    body = _mutate(BUNDLE, path, value, drop)
    r = client.post("/api/v1/profiles", json=body, params={"as_of": "2026-11-25"})
    assert r.status_code in (201, 422), (path, r.status_code, r.text[:300])
    if r.status_code == 422:
        assert r.json()["detail"] and r.json()["field"]


@pytest.fixture
def saved_id(client: Any) -> str:
    pid: str = client.post(f"/api/v1/samples/{sample_ids()[0]}").json()["id"]
    return pid


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    as_of=st.text(max_size=12) | st.dates().map(str),
    audience=st.sampled_from(["patient", "clinician", "", "x"]),
    near=st.text(alphabet="0123456789a", max_size=6),
    miles=st.text(alphabet="0123456789.-e", max_size=6),
)
def test_profile_routes_with_odd_queries(client: Any, saved_id: str, as_of: str, audience: str,
                                         near: str, miles: str) -> None:
    for path, params in (
        ("options", {"as_of": as_of, "audience": audience}),
        ("trials", {"as_of": as_of, "near": near, "within_miles": miles}),
    ):
        r = client.get(f"/api/v1/profiles/{saved_id}/{path}", params=params)
        assert r.status_code in (200, 422), (path, params, r.status_code, r.text[:300])
        if r.status_code == 422:
            assert r.json()["field"]
    page = client.get(f"/p/{saved_id}/trials", params={"near": near, "within_miles": miles})
    assert page.status_code in (200, 422)
