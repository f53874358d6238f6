"""REST API: import, read, update, export, delete; options, trials, grading, support."""

from __future__ import annotations

import json
from typing import Any

import pytest

from myelonav.samples import SAMPLE_AS_OF, sample_bundle_path, sample_ids, sample_profile

SAMPLE = sample_ids()[0]


def _bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_bundle_path(SAMPLE).read_text("utf-8"))
    return data


def _profile_json() -> dict[str, Any]:
    return sample_profile(SAMPLE).model_dump(mode="json", exclude_none=True)


def _import(client: Any, body: dict[str, Any], **params: str) -> dict[str, Any]:
    r = client.post("/api/v1/profiles", json=body, params=params)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_import_fhir_bundle_saves_a_profile(client: Any) -> None:
    out = _import(client, _bundle(), as_of=SAMPLE_AS_OF.isoformat())
    assert out["source"] == "fhir" and len(out["id"]) == 32
    assert "resources read" in out["summary"]
    read = client.get(f"/api/v1/profiles/{out['id']}").json()
    assert read["record"]["car_t"][0]["product"] == "ciltacabtagene autoleucel"
    assert "Decide every treatment with your care team" in read["disclaimer"]


def test_import_profile_json(client: Any) -> None:
    out = _import(client, _profile_json())
    assert out["source"] == "profile" and out["sample"] is True


def test_import_bad_profile_names_the_field(client: Any) -> None:
    body = _profile_json()
    body["demographics"]["age_years"] = 400
    r = client.post("/api/v1/profiles", json=body)
    assert r.status_code == 422
    assert r.json()["field"] == "body: demographics.age_years"
    assert "demographics.age_years" in r.json()["detail"]


def test_import_wrong_resource_type(client: Any) -> None:
    r = client.post("/api/v1/profiles", json={"resourceType": "Patient"})
    assert r.status_code == 422
    assert r.json()["field"] == "body.resourceType"


def test_import_bundle_without_myeloma_is_refused(client: Any) -> None:
    r = client.post("/api/v1/profiles", json={"resourceType": "Bundle", "type": "collection",
                                              "entry": []})
    assert r.status_code == 422
    assert r.json()["detail"]


def test_import_non_object_body(client: Any) -> None:
    r = client.post("/api/v1/profiles", content=b"[1, 2]",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["field"].startswith("body")


def test_bad_as_of_names_the_field(client: Any) -> None:
    r = client.post("/api/v1/profiles", json=_bundle(), params={"as_of": "yesterday"})
    assert r.status_code == 422 and r.json()["field"] == "as_of"


def test_update_preferences(client: Any) -> None:
    pid = _import(client, _profile_json())["id"]
    r = client.patch(f"/api/v1/profiles/{pid}/preferences",
                     json={"max_travel_miles": 25, "trial_interest": "maybe"})
    assert r.status_code == 200, r.text
    prefs = r.json()["record"]["preferences"]
    assert prefs["max_travel_miles"] == 25 and prefs["trial_interest"] == "maybe"
    assert prefs["goals"] == sample_profile(SAMPLE).model_dump(mode="json")["preferences"]["goals"]
    r = client.patch(f"/api/v1/profiles/{pid}/preferences", json={"max_travel_miles": -1})
    assert r.status_code == 422 and r.json()["field"] == "body.max_travel_miles"
    r = client.patch(f"/api/v1/profiles/{pid}/preferences", json={"colour": "blue"})
    assert r.status_code == 422 and r.json()["field"] == "body.colour"


def test_unknown_and_malformed_ids(client: Any) -> None:
    r = client.get("/api/v1/profiles/" + "0" * 32)
    assert r.status_code == 404 and r.json()["field"] == "profile_id"
    r = client.get("/api/v1/profiles/not-an-id")
    assert r.status_code == 422 and r.json()["field"] == "path.profile_id"


def test_export_and_delete(client: Any) -> None:
    pid = _import(client, _profile_json())["id"]
    exported = client.get(f"/api/v1/profiles/{pid}/export").json()
    assert exported["profile"]["id"] == pid
    assert exported["fhir_bundle"]["resourceType"] == "Bundle"
    only = client.get(f"/api/v1/profiles/{pid}/export", params={"format": "profile"}).json()
    assert only["fhir_bundle"] is None
    assert client.delete(f"/api/v1/profiles/{pid}").status_code == 204
    assert client.get(f"/api/v1/profiles/{pid}").status_code == 404
    assert client.delete(f"/api/v1/profiles/{pid}").status_code == 404


def test_export_all_and_delete_all(client: Any) -> None:
    ids = {_import(client, _profile_json())["id"] for _ in range(2)}
    secret = client.app.state.settings.install_secret_file.read_text().strip()
    key = {"X-Myelonav-Install-Secret": secret}
    everything = client.get("/api/v1/export", headers=key).json()
    assert {p["id"] for p in everything["profiles"]} == ids
    assert "health information" in everything["notice"]
    assert client.delete("/api/v1/profiles", headers=key).json() == {"deleted": 2}
    assert client.get("/api/v1/export", headers=key).json()["profiles"] == []


def test_options_for_patient_and_clinician(client: Any) -> None:
    pid = _import(client, _profile_json())["id"]
    r = client.get(f"/api/v1/profiles/{pid}/options")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["audience"] == "patient" and body["as_of"] == SAMPLE_AS_OF.isoformat()
    assert body["sample"] is True
    ids = [o["id"] for o in body["options"]]
    assert "clinical_trial" in ids
    first = body["options"][0]
    assert {"status", "reasons", "evidence", "missing_information"} <= set(first)
    clin = client.get(f"/api/v1/profiles/{pid}/options",
                      params={"audience": "clinician", "as_of": "2026-11-01"}).json()
    assert clin["audience"] == "clinician" and clin["as_of"] == "2026-11-01"
    r = client.get(f"/api/v1/profiles/{pid}/options", params={"audience": "doctor"})
    assert r.status_code == 422 and r.json()["field"] == "query.audience"


def test_trial_matches(client: Any) -> None:
    pid = _import(client, _profile_json())["id"]
    r = client.get(f"/api/v1/profiles/{pid}/trials", params={"include_ineligible": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["judged"] == sum(body["counts"].values()) > 0
    assert body["sample_notice"]
    trial = body["trials"][0]
    assert trial["is_sample"] is True
    assert trial["verdict"] in body["counts"]
    assert trial["criteria"] and {"text", "result", "patient_fact"} <= set(trial["criteria"][0])
    only = client.get(f"/api/v1/profiles/{pid}/trials",
                      params={"verdict": "likely_eligible"}).json()
    assert all(t["verdict"] == "likely_eligible" for t in only["trials"])
    assert len(only["trials"]) == body["counts"]["likely_eligible"]


def test_trial_matches_bad_zip(client: Any) -> None:
    pid = _import(client, _profile_json())["id"]
    r = client.get(f"/api/v1/profiles/{pid}/trials", params={"near": "00000"})
    assert r.status_code == 422 and r.json()["field"] == "near"
    r = client.get(f"/api/v1/profiles/{pid}/trials", params={"near": "abc"})
    assert r.status_code == 422 and r.json()["field"] == "query.near"


def test_trial_search(client: Any) -> None:
    r = client.get("/api/v1/trials/search", params={"q": "bispecific"})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert hits and all(h["is_sample"] for h in hits)
    r = client.get("/api/v1/trials/search", params={"within_miles": 10})
    assert r.status_code == 422 and r.json()["field"] == "within_miles"


@pytest.mark.parametrize(("body", "grade"), [
    ({"max_temperature_c": 37.2}, 0),
    ({"max_temperature_c": 38.5}, 1),
    ({"max_temperature_c": 38.5, "hypotension": "no_vasopressor"}, 2),
    ({"max_temperature_c": 39, "oxygen": "facemask"}, 3),
    ({"fever_masked": True, "hypotension": "multiple_vasopressors"}, 4),
])
def test_crs_grading(client: Any, body: dict[str, Any], grade: int) -> None:
    r = client.post("/api/v1/grading/crs", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["grade"] == grade and "Lee DW" in r.json()["citation"]


def test_crs_needs_temperature(client: Any) -> None:
    r = client.post("/api/v1/grading/crs", json={})
    assert r.status_code == 422 and r.json()["field"] == "temperature"


@pytest.mark.parametrize(("body", "grade"), [
    ({"ice": 10}, 0), ({"ice": 8}, 1), ({"ice": 5}, 2), ({"ice": 1}, 3),
    ({"ice": 9, "seizure": "prolonged"}, 4),
    ({"ice": None, "consciousness": "unarousable"}, 4),
])
def test_icans_grading(client: Any, body: dict[str, Any], grade: int) -> None:
    r = client.post("/api/v1/grading/icans", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["grade"] == grade


def test_icans_bad_input_names_field(client: Any) -> None:
    r = client.post("/api/v1/grading/icans", json={"ice": 11})
    assert r.status_code == 422 and r.json()["field"] == "body.ice"
    r = client.post("/api/v1/grading/icans", json={"ice": None})
    assert r.status_code == 422 and r.json()["field"] == "ice"


def test_triage_and_resources(client: Any) -> None:
    r = client.post("/api/v1/support/triage",
                    json={"temperature_c": 38.6, "recent_car_t": True})
    assert r.status_code == 200, r.text
    assert r.json()["urgency"] in ("call_team_now", "emergency")
    r = client.post("/api/v1/support/triage", json={"spo2": 20})
    assert r.status_code == 422 and r.json()["field"] == "body.spo2"
    resources = client.get("/api/v1/support/resources").json()["resources"]
    assert any(res["id"] == "lifeline_988" for res in resources)


def test_samples(client: Any) -> None:
    listed = client.get("/api/v1/samples").json()["samples"]
    assert [s["id"] for s in listed] == sample_ids()
    assert all(s["label"].startswith("SAMPLE") for s in listed)
    r = client.post(f"/api/v1/samples/{SAMPLE}")
    assert r.status_code == 201 and r.json()["sample"] is True
    assert client.post("/api/v1/samples/nobody").status_code == 404


def test_openapi_documents_every_operation(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/profiles", "/api/v1/profiles/{profile_id}",
                 "/api/v1/profiles/{profile_id}/preferences",
                 "/api/v1/profiles/{profile_id}/export", "/api/v1/profiles/{profile_id}/options",
                 "/api/v1/profiles/{profile_id}/trials", "/api/v1/grading/crs",
                 "/api/v1/grading/icans", "/api/v1/support/triage", "/api/v1/export"):
        assert path in paths, path
    assert not any(p.startswith("/p/") or p == "/" for p in paths), "pages stay out of the API"
