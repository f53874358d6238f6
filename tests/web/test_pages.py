"""Server-rendered pages: the journey, SAMPLE labels, errors as pages, export and delete."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from myelonav import DISCLAIMER
from myelonav.samples import sample_bundle_path, sample_ids

SAMPLE = sample_ids()[0]
INTAKE = {
    "age": "61", "sex": "male", "zip": "10029", "car_t_product": "idecabtagene vicleucel",
    "car_t_date": "2025-06-01", "car_t_response": "responded",
    "progression_date": "2025-10-01", "bcma": "unknown", "t11_14": "unknown",
    "del17p": "unknown", "prior": ["bortezomib", "lenalidomide"], "ecog": "1",
    "travel_miles": "200", "trial_interest": "yes",
}


def _demo(client: Any) -> str:
    r = client.post(f"/demo/{SAMPLE}", follow_redirects=False)
    assert r.status_code == 303
    location: str = r.headers["location"]
    assert re.fullmatch(r"/p/[0-9a-f]{32}", location)
    return location


@pytest.mark.parametrize("path", ["/", "/intake", "/upload", "/support", "/privacy"])
def test_static_pages_render(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in r.text and DISCLAIMER in r.text
    assert "<script" not in r.text, "pages need no scripts"


def test_home_offers_samples_labelled(client: Any) -> None:
    text = client.get("/").text
    for sid in sample_ids():
        assert f'action="/demo/{sid}"' in text
    assert text.count("SAMPLE: ") == len(sample_ids())


def test_sample_journey_is_labelled_sample_everywhere(client: Any) -> None:
    base = _demo(client)
    for path in ("", "/options", "/options?audience=clinician", "/trials"):
        r = client.get(base + path)
        assert r.status_code == 200, (path, r.text[:500])
        assert "SAMPLE" in r.text and 'class="sample-banner"' in r.text, path
        assert "(SAMPLE)" in r.text.split("</title>")[0]


def test_intake_to_options(client: Any) -> None:
    r = client.post("/intake", data=INTAKE, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    options = client.get(r.headers["location"])
    assert options.status_code == 200
    assert "Options to talk about with your care team" in options.text
    assert "sample-banner" not in options.text
    assert "A clinical trial" in options.text


def test_intake_errors_are_shown_and_answers_kept(client: Any) -> None:
    r = client.post("/intake", data={**INTAKE, "zip": "12", "car_t_date": ""})
    assert r.status_code == 422
    assert 'id="error-summary"' in r.text and 'href="#zip-error"' in r.text
    assert 'id="car_t_date-error"' in r.text
    assert 'value="200"' in r.text, "the answers given are kept"
    assert 'value="bortezomib" checked' in r.text


def test_options_toggle_changes_detail(client: Any) -> None:
    base = _demo(client)
    patient = client.get(base + "/options").text
    clinician = client.get(base + "/options?audience=clinician").text
    assert 'href="?audience=clinician"' in patient
    assert 'class="facts-used"' in clinician and 'class="facts-used"' not in patient
    assert "What studies found" in patient and 'id="src-1"' in patient


def test_trials_page_filters(client: Any) -> None:
    base = _demo(client)
    text = client.get(base + "/trials").text
    assert "open myeloma studies checked" in text and "<dt>Nearest site</dt>" in text
    ineligible = client.get(base + "/trials?verdict=likely_ineligible").text
    assert ineligible.count('class="trial verdict-likely_ineligible"') >= 1
    assert 'class="trial verdict-likely_eligible"' not in ineligible
    bad = client.get(base + "/trials?within_miles=far")
    assert bad.status_code == 422 and "within_miles" in bad.text


def test_upload_fhir_bundle(client: Any) -> None:
    raw = sample_bundle_path(SAMPLE).read_bytes()
    r = client.post("/upload", files={"file": ("bundle.json", raw, "application/json")},
                    follow_redirects=False)
    assert r.status_code == 303
    summary = client.get(r.headers["location"])
    assert "ciltacabtagene autoleucel" in summary.text


def test_upload_bad_file_says_why(client: Any) -> None:
    r = client.post("/upload", files={"file": ("x.json", b"{not json", "application/json")})
    assert r.status_code == 422
    assert "not valid JSON" in r.text and 'role="alert"' in r.text


def test_preferences_form(client: Any) -> None:
    base = _demo(client)
    r = client.post(base + "/preferences", data={"travel_miles": "42", "trial_interest": "maybe"},
                    follow_redirects=False)
    assert r.status_code == 303
    text = client.get(base).text
    assert 'value="42"' in text and 'value="maybe" checked' in text
    bad = client.post(base + "/preferences", data={"travel_miles": "lots"})
    assert bad.status_code == 422 and "travel_miles" in bad.text


def test_export_download_and_delete(client: Any) -> None:
    base = _demo(client)
    r = client.get(base + "/export.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    payload = json.loads(r.text)
    assert payload["profile"]["record"]["id"] == SAMPLE
    assert payload["fhir_bundle"]["resourceType"] == "Bundle"
    gone = client.post(base + "/delete")
    assert gone.status_code == 200 and "deleted" in gone.text
    assert client.get(base).status_code == 404
    assert client.get(base + "/options").status_code == 404


def test_errors_are_pages_not_json(client: Any) -> None:
    r = client.get("/p/" + "0" * 32)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = client.get("/p/not-a-profile")
    assert r.status_code == 422 and "does not point to a saved profile" in r.text
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_support_triage_form(client: Any) -> None:
    r = client.post("/support", data={"temperature": "101.5F", "recent_car_t": "on"})
    assert r.status_code == 200
    assert "Call your care team now" in r.text and "tel:911" in r.text
    calm = client.post("/support", data={"temperature": "36.8"})
    assert "No warning signs in what you entered" in calm.text
    bad = client.post("/support", data={"temperature": "hot"})
    assert bad.status_code == 422 and "temperature" in bad.text
