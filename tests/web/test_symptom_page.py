"""The symptom check page: no "no warning signs" for an empty or implausible entry, tap-to-call
numbers, and a profile's bispecific and care team numbers on every result."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from myelonav.patient.models import PatientRecord, Preferences, TherapyLine


def _profile(app: Any, *, phones: bool = True, team_id: str | None = None,
             owner_id: str | None = None) -> str:
    prefs = Preferences(care_team_phone="555-123-4567", after_hours_phone="(555) 000-1111") \
        if phones else Preferences()
    record = PatientRecord(
        id="symptom-page",
        therapy_lines=[TherapyLine(agents=["Talvey"],
                                   start=dt.date.today() - dt.timedelta(days=30))],
        preferences=prefs,
    )
    return str(app.state.profiles.create(record, "intake", team_id=team_id,
                                         owner_id=owner_id).id)


def test_an_empty_check_is_an_error_not_no_warning_signs(client: Any) -> None:
    r = client.post("/support", data={})
    assert r.status_code == 422
    assert "Nothing was entered" in r.text and "No warning signs" not in r.text
    r = client.post("/support", data={"on_bispecific": "on"})
    assert r.status_code == 422 and "Nothing was entered" in r.text
    r = client.post("/api/v1/support/triage", json={})
    assert r.status_code == 422 and r.json()["field"] == "symptoms"


@pytest.mark.parametrize("temperature", ["25C", "50C", "25", "50", "122F"])
def test_an_implausible_temperature_is_an_error_naming_the_field(
    client: Any, temperature: str
) -> None:
    r = client.post("/support", data={"temperature": temperature})
    assert r.status_code == 422
    assert "No warning signs" not in r.text and 'id="temperature"' in r.text
    assert 'aria-invalid="true"' in r.text and "<li>temperature: " in r.text


def test_35_c_is_a_warning_sign(client: Any) -> None:
    r = client.post("/support", data={"temperature": "35"})
    assert r.status_code == 200
    assert "No warning signs" not in r.text and "Call your care team now" in r.text
    assert "too low" in r.text


@pytest.mark.parametrize(
    ("ticked", "headline"),
    [
        (["back_pain", "leg_weakness_or_numbness"], "Emergency: call 911"),
        (["bladder_bowel_control"], "Emergency: call 911"),
        (["heavy_bleeding"], "Emergency: call 911"),
        (["bleeding_or_bruising"], "Call your care team now"),
        (["vomiting"], "Call your care team now"),
        (["severe_headache"], "Call your care team now"),
    ],
)
def test_new_signs_on_the_form(client: Any, ticked: list[str], headline: str) -> None:
    form = client.get("/support").text
    assert all(f'name="{name}"' in form for name in ticked)
    r = client.post("/support", data={name: "on" for name in ticked})
    assert r.status_code == 200
    assert r.text.count('id="result-heading"') == 1
    assert f'<h2 id="result-heading">{headline}' in r.text


def test_numbers_are_tap_to_call(client: Any) -> None:
    r = client.post("/support", data={"cough": "on"})
    for href in ("tel:911", "tel:988", "tel:18004522873", "tel:18009554572"):
        assert f'href="{href}"' in r.text, href
    assert 'href="tel:911"' in client.get("/support").text


def test_a_profile_adds_its_bispecific_and_the_care_team_numbers(app: Any, client: Any) -> None:
    pid = _profile(app)
    page = client.get(f"/support?profile={pid}")
    assert page.status_code == 200
    assert "Your profile says you are on talquetamab." in page.text
    assert f'href="/support?profile={pid}"' in page.text  # the profile's own menu
    r = client.post("/support", data={"profile": pid, "temperature": "38.1"})
    assert r.status_code == 200
    assert "cytokine release syndrome" in r.text  # the T-cell therapy fever rule
    assert '<a href="tel:5551234567">555-123-4567</a>' in r.text
    assert '<a href="tel:5550001111">(555) 000-1111</a>' in r.text
    calm = client.post("/support", data={"profile": pid, "temperature": "36.9"})
    assert "No warning signs" in calm.text and 'href="tel:5551234567"' in calm.text


def test_saving_the_care_team_numbers(app: Any, client: Any) -> None:
    pid = _profile(app, phones=False)
    r = client.post("/support", data={"profile": pid, "action": "save_numbers",
                                      "care_team_phone": "555 222 3333",
                                      "after_hours_phone": ""})
    assert r.status_code == 200 and "Saved your care team" in r.text
    prefs = app.state.profiles.get(pid).record.preferences
    assert prefs.care_team_phone == "555 222 3333" and prefs.after_hours_phone is None
    r = client.post("/support", data={"profile": pid, "temperature": "37"})
    assert 'href="tel:5552223333"' in r.text
    bad = client.post("/support", data={"profile": pid, "action": "save_numbers",
                                        "care_team_phone": "call Dr <b>X</b>"})
    assert bad.status_code == 422 and "phone number" in bad.text
    assert app.state.profiles.get(pid).record.preferences.care_team_phone == "555 222 3333"


def test_an_unknown_or_malformed_profile_is_refused(client: Any) -> None:
    assert client.get("/support?profile=" + "0" * 32).status_code == 404
    assert client.get("/support?profile=nope").status_code == 422
    r = client.post("/support", data={"profile": "../x", "cough": "on"})
    assert r.status_code == 422


def test_clinic_scope_applies_to_the_symptom_profile(clinic: Any) -> None:
    marker = f"M{uuid.uuid4().hex}"
    pid = clinic.profile("patient", marker)
    clinic.app.state.accounts.share(pid, clinic.users["caregiver"].id)
    clinic.app.state.profiles.update_preferences(pid, {"care_team_phone": "555-404-4040"})

    def post(who: str, data: dict[str, str]) -> Any:
        return clinic.clients[who].post("/support", data={"profile": pid, **data},
                                        headers=clinic.csrf(who), follow_redirects=False)

    for who in ("other_patient", "nav_b", "clin_b"):
        r = post(who, {"cough": "on"})
        assert r.status_code == 404 and "555-404-4040" not in r.text, who
        g = clinic.clients[who].get(f"/support?profile={pid}")
        assert g.status_code == 404 and "555-404-4040" not in g.text, who
    # a caregiver the profile is shared with may check symptoms for it (read) ...
    r = post("caregiver", {"cough": "on"})
    assert r.status_code == 200 and 'href="tel:5554044040"' in r.text
    # ... but not change the saved numbers
    r = post("caregiver", {"action": "save_numbers", "care_team_phone": "555-000-0000"})
    assert r.status_code == 403
    assert clinic.app.state.profiles.get(pid).record.preferences.care_team_phone == "555-404-4040"
    r = post("patient", {"action": "save_numbers", "care_team_phone": "555-111-2222"})
    assert r.status_code == 200
    assert clinic.app.state.profiles.get(pid).record.preferences.care_team_phone == "555-111-2222"
