"""Profile pages (issue 15): my profiles, edit in place with history, labs over time,
delete with confirmation and undo, export and import for moving devices; clinic roles."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from myelonav.samples import sample_ids
from myelonav.web.services import visit_available

INTAKE = {
    "age": "61", "sex": "male", "zip": "10029", "car_t_product": "idecabtagene vicleucel",
    "car_t_date": "June 2025", "car_t_response": "responded", "progression_date": "2025-10",
    "prior": ["bortezomib", "lenalidomide"], "lab_date": "2026-11-01", "creatinine": "1,4",
    "travel_miles": "200", "trial_interest": "yes",
}


def _intake(client: Any, answers: dict[str, Any] | None = None) -> str:
    r = client.post("/intake", data=answers or INTAKE, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    match = re.fullmatch(r"/p/([0-9a-f]{32})/options", r.headers["location"])
    assert match
    return match.group(1)


def _profile(client: Any, pid: str) -> dict[str, Any]:
    data: dict[str, Any] = client.get(f"/api/v1/profiles/{pid}").json()
    return data


def test_edit_reopens_the_intake_filled_in_and_updates_the_same_profile(client: Any) -> None:
    pid = _intake(client)
    page = client.get(f"/p/{pid}/edit")
    assert page.status_code == 200
    assert f'action="/p/{pid}/edit"' in page.text and "Change your answers" in page.text
    assert 'value="June 2025"' in page.text, "dates shown as they were given"
    assert 'value="1,4"' in page.text
    assert 'value="idecabtagene vicleucel" checked' in page.text
    assert re.search(r'value="bortezomib"\s+checked', page.text)
    changed = dict(INTAKE, creatinine="1.1", age="62")
    r = client.post(f"/p/{pid}/edit", data=changed, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/p/{pid}/history?saved=2"
    record = _profile(client, pid)["record"]
    assert [lab["value"] for lab in record["labs"]] == [1.1]
    history = client.get(r.headers["location"]).text
    assert "Saved. 2 answers changed" in history
    assert "Creatinine" in history and "1,4" in history and "1.1" in history
    assert "Age" in history and "by you" in history
    assert client.get(f"/p/{pid}/options").status_code == 200
    assert client.get("/profiles").text.count(f"/p/{pid}\"") >= 1
    api = client.get(f"/api/v1/profiles/{pid}/history").json()
    assert {(c["field"], c["old"], c["new"]) for c in api["changes"]} == {
        ("creatinine", "1,4", "1.1"), ("age", "61", "62")}


def test_an_unchanged_edit_saves_nothing(client: Any) -> None:
    pid = _intake(client)
    before = _profile(client, pid)["updated_at"]
    r = client.post(f"/p/{pid}/edit", data=INTAKE, follow_redirects=False)
    assert r.headers["location"].endswith("saved=0")
    assert _profile(client, pid)["updated_at"] == before
    assert "Nothing was changed" in client.get(r.headers["location"]).text


def test_a_bad_edit_names_the_field_and_changes_nothing(client: Any) -> None:
    pid = _intake(client)
    r = client.post(f"/p/{pid}/edit", data=dict(INTAKE, creatinine="1,400,2"))
    assert r.status_code == 422 and "Creatinine" in r.text and 'value="1,400,2"' in r.text
    assert _profile(client, pid)["record"]["labs"][0]["value"] == 1.4


def test_profiles_from_files_cannot_reopen_answers_but_can_add_labs(client: Any) -> None:
    r = client.post(f"/demo/{sample_ids()[0]}", follow_redirects=False)
    pid = r.headers["location"].removeprefix("/p/")
    page = client.get(f"/p/{pid}/edit")
    assert page.status_code == 200 and "no answers to reopen" in page.text
    assert client.post(f"/p/{pid}/edit", data=INTAKE).status_code == 409


def test_add_labs_over_time_with_confirmation(client: Any) -> None:
    pid = _intake(client)
    form = {"lab_date": "2026-11-20", "analyte": "serum_m_protein", "value": "0,8"}
    r = client.post(f"/p/{pid}/labs", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/p/{pid}/labs?added=1"
    ambiguous = client.post(f"/p/{pid}/labs", data={"lab_date": "2026-11-21",
                                                   "analyte": "creatinine", "value": "133"})
    assert ambiguous.status_code == 422 and "µmol/L" in ambiguous.text
    assert 'name="confirmed_value" value="1.504"' in ambiguous.text, "offers the reading"
    ok = client.post(f"/p/{pid}/labs", data={"lab_date": "2026-11-21", "value": "133",
                                             "analyte": "creatinine", "confirmed_value": "1.504"},
                     follow_redirects=True)
    assert ok.status_code == 200 and "The result is saved" in ok.text
    labs = {(lab["analyte"], lab["value"]) for lab in _profile(client, pid)["record"]["labs"]}
    assert labs == {("creatinine", 1.4), ("serum_m_protein", 0.8), ("creatinine", 1.504)}
    history = client.get(f"/p/{pid}/history").text
    assert "A lab result added" in history and "Serum M-protein 0.8 g/dL on 2026-11-20" in history
    # an edit of the answers keeps the labs added since
    client.post(f"/p/{pid}/edit", data=dict(INTAKE, age="63"))
    labs_after = {lab["analyte"] for lab in _profile(client, pid)["record"]["labs"]}
    assert labs_after == {"creatinine", "serum_m_protein"}
    if visit_available():
        from myelonav.visit.plot import describe  # the plot now has a series to show

        assert client.get(f"/p/{pid}/plot.svg").status_code == 200
        assert callable(describe)
        assert "M-protein" in client.get(f"/p/{pid}/questions").text


def test_delete_asks_first_then_undo_then_erase(client: Any, app: Any) -> None:
    pid = _intake(client)
    ask = client.get(f"/p/{pid}/delete")
    assert ask.status_code == 200 and "Delete this profile?" in ask.text
    assert client.get(f"/p/{pid}").status_code == 200, "asking deletes nothing"
    gone = client.post(f"/p/{pid}/delete")
    assert gone.status_code == 200 and "Undo" in gone.text and "10 minutes" in gone.text
    assert client.get(f"/p/{pid}").status_code == 404
    assert f"/p/{pid}\"" not in client.get("/profiles").text
    back = client.post(f"/p/{pid}/restore", follow_redirects=False)
    assert back.status_code == 303 and client.get(f"/p/{pid}").status_code == 200
    assert client.post(f"/p/{pid}/restore").status_code == 409
    assert client.post(f"/p/{pid}/erase").status_code == 409, "live profiles go to trash first"
    client.post(f"/p/{pid}/delete")
    erased = client.post(f"/p/{pid}/erase")
    assert erased.status_code == 200 and "cannot be brought back" in erased.text
    assert client.post(f"/p/{pid}/restore").status_code == 404
    assert app.state.profiles.team_of(pid, include_trashed=True)[0] is False


def test_the_trash_is_emptied_after_the_window(client: Any, app: Any) -> None:
    pid = _intake(client)
    client.post(f"/p/{pid}/delete")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert app.state.profiles.purge_expired(later) == [pid]
    assert client.post(f"/p/{pid}/restore").status_code == 404


def test_my_profiles_list_shows_labels_and_dates_only(client: Any) -> None:
    pid = _intake(client)
    page = client.get("/profiles")
    assert "Profile without a name" in page.text and "10029" not in page.text
    r = client.post(f"/p/{pid}/label", data={"label": "  Dad  ", "next": "profiles"},
                    follow_redirects=False)
    assert r.headers["location"] == "/profiles"
    page = client.get("/profiles")
    assert ">Dad</a>" in page.text and dt.date.today().strftime("%B %Y") in page.text
    assert client.post(f"/p/{pid}/label", data={"label": "x" * 61}).status_code == 422
    assert 'href="/profiles"' in client.get("/").text
    assert "Name on the list" in client.get(f"/p/{pid}/history").text


def test_export_then_import_moves_the_profile_exactly(client: Any) -> None:
    pid = _intake(client)
    client.post(f"/p/{pid}/label", data={"label": "Dad"})
    client.post(f"/p/{pid}/edit", data=dict(INTAKE, age="62"))
    client.post(f"/p/{pid}/labs", data={"lab_date": "2026-11-20", "analyte": "kappa_flc",
                                        "value": "120"})
    exported = client.get(f"/p/{pid}/export.json")
    assert exported.status_code == 200
    first = json.loads(exported.text)
    r = client.post("/upload", files={"file": ("myelonav.json", exported.content,
                                                "application/json")}, follow_redirects=False)
    assert r.status_code == 303
    new_id = r.headers["location"].removeprefix("/p/")
    assert new_id != pid
    second = json.loads(client.get(f"/p/{new_id}/export.json").text)
    for key in ("record", "label", "answers", "history", "source", "sample"):
        assert second["profile"][key] == first["profile"][key], key
    for bundle in (first["fhir_bundle"], second["fhir_bundle"]):
        bundle.pop("meta")  # the time it was written
    assert second["fhir_bundle"] == first["fhir_bundle"]
    # and the moved profile can be edited like the original
    assert 'value="62"' in client.get(f"/p/{new_id}/edit").text


def test_a_wrong_file_says_what_to_try_in_plain_words(client: Any) -> None:
    damaged = json.dumps({"format": "myelonav-profile-export", "profile": {"record": "x"}})
    r = client.post("/upload", files={"file": ("moved.json", damaged.encode(), "x/y")})
    assert r.status_code == 422 and "damaged" in r.text and "Download the file again" in r.text


# --- clinic mode ---------------------------------------------------------------------------

def _clinic_intake(clinic: Any, who: str) -> str:
    r = clinic.clients[who].post("/intake", data=INTAKE, headers=clinic.csrf(who),
                                 follow_redirects=False)
    assert r.status_code == 303
    return str(r.headers["location"]).split("/")[2]


def test_clinic_lists_are_scoped_and_caregivers_only_read(clinic: Any) -> None:
    own = _clinic_intake(clinic, "patient")
    team_a = _clinic_intake(clinic, "nav_a")
    clinic.app.state.accounts.share(own, clinic.users["caregiver"].id)

    def listed(who: str) -> str:
        r = clinic.clients[who].get("/profiles")
        assert r.status_code == 200, who
        return str(r.text)

    assert own in listed("patient") and team_a not in listed("patient")
    assert own in listed("caregiver") and team_a not in listed("caregiver")
    assert own not in listed("other_patient")
    assert team_a in listed("nav_a") and team_a in listed("clin_a")
    assert team_a not in listed("nav_b") and team_a not in listed("clin_b")
    assert clinic.clients["admin"].get("/profiles").status_code == 403

    care = clinic.clients["caregiver"]
    assert care.get(f"/p/{own}/history").status_code == 200
    assert care.get(f"/p/{own}/edit").status_code == 403
    labs = care.get(f"/p/{own}/labs")
    assert labs.status_code == 200 and "Add a new result" not in labs.text
    assert care.post(f"/p/{own}/labs", headers=clinic.csrf("caregiver"),
                     data={"lab_date": "2026-11-20", "analyte": "creatinine",
                           "value": "1.0"}).status_code == 403
    assert care.get(f"/p/{own}/delete").status_code == 403


def test_clinic_edit_history_names_the_user_and_trash_is_audited(clinic: Any) -> None:
    pid = _clinic_intake(clinic, "nav_a")
    nav = clinic.clients["nav_a"]
    r = nav.post(f"/p/{pid}/edit", data=dict(INTAKE, age="70"), headers=clinic.csrf("nav_a"),
                 follow_redirects=True)
    assert r.status_code == 200 and "by nav_a" in r.text
    # a navigator may change but not delete; the team's clinician may
    assert nav.post(f"/p/{pid}/delete", headers=clinic.csrf("nav_a")).status_code == 403
    clin = clinic.clients["clin_a"]
    assert clin.post(f"/p/{pid}/delete", headers=clinic.csrf("clin_a")).status_code == 200
    assert nav.post(f"/p/{pid}/restore", headers=clinic.csrf("nav_a")).status_code in (403, 404)
    assert clin.post(f"/p/{pid}/restore", headers=clinic.csrf("clin_a"),
                     follow_redirects=False).status_code == 303
    actions = [e.action for e in clinic.app.state.audit.events() if e.profile_id == pid]
    assert "trash" in actions and "restore" in actions and "change" in actions
