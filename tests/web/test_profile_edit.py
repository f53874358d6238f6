"""Edit in place, labs over time and the export file (``web.profile_edit``), without HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData

from myelonav.errors import ImportError_
from myelonav.patient.models import Analyte, LabResult, PatientRecord, Preferences
from myelonav.store.profiles import HistoryEntry, SavedProfile
from myelonav.web.intake import record_from_intake
from myelonav.web.profile_edit import (
    answers_from_form,
    derived_answers,
    diff_answers,
    edit_answers,
    edited_record,
    export_payload,
    form_from_answers,
    lab_choices,
    looks_like_export,
    read_export,
    read_lab,
    show_value,
    with_lab,
)

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
ANSWERS = {
    "age": ["64"], "sex": ["female"], "car_t_product": ["ciltacabtagene autoleucel"],
    "car_t_date": ["March 2026"], "car_t_response": ["responded"],
    "prior": ["bortezomib", "lenalidomide"], "lab_date": ["2026-11-01"],
    "creatinine": ["1,4"], "travel_miles": ["100"], "trial_interest": ["yes"],
}


def _saved(record: PatientRecord, source: str = "intake", label: str | None = None
           ) -> SavedProfile:
    return SavedProfile("a" * 32, source, record.sample, record, NOW, NOW, label=label)


def _intake_saved() -> SavedProfile:
    return _saved(record_from_intake(form_from_answers(ANSWERS), today=TODAY))


answer_dicts = st.dictionaries(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
    st.lists(st.text(max_size=12), max_size=3), max_size=6)


@settings(max_examples=60, deadline=None)
@given(answer_dicts)
def test_answers_survive_the_form_round_trip(answers: dict[str, list[str]]) -> None:
    kept = {k: v for k, v in answers.items() if k != "csrf_token" and v}
    assert answers_from_form(form_from_answers(kept)) == kept


@settings(max_examples=80, deadline=None)
@given(answer_dicts, answer_dicts)
def test_diff_names_exactly_the_answers_that_changed(a: dict[str, list[str]],
                                                     b: dict[str, list[str]]) -> None:
    assert diff_answers(a, a) == []

    def shown(values: list[str] | None) -> list[str]:
        return sorted(v.strip() for v in values or [] if v.strip() not in ("", "unknown"))

    changed = {c.field for c in diff_answers(a, b)}
    assert changed == {k for k in set(a) | set(b) if shown(a.get(k)) != shown(b.get(k))}


def test_plain_mappings_are_read_like_forms() -> None:
    assert answers_from_form({"age": "61", "prior": ["a", "b"], "x": 3}) == {
        "age": ["61"], "prior": ["a", "b"], "x": []}


def test_a_one_click_confirmation_replaces_the_answer() -> None:
    form = FormData([("creatinine", "1,400"), ("confirm_creatinine", "1.4"),
                     ("confirm_age", ""), ("age", "61")])
    assert answers_from_form(form) == {"creatinine": ["1.4"], "age": ["61"]}


def test_older_intake_profiles_are_read_back_when_the_intake_can(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from myelonav.web import intake

    saved = _intake_saved()
    monkeypatch.delattr(intake, "intake_values", raising=False)
    assert derived_answers(saved) is None
    monkeypatch.setattr(intake, "intake_values", lambda record: {
        "age": "64", "prior": ["bortezomib"], "zip": None}, raising=False)
    assert derived_answers(saved) == {"age": ["64"], "prior": ["bortezomib"]}
    assert derived_answers(_saved(saved.record, source="fhir")) is None


def test_dont_know_and_empty_are_the_same_answer() -> None:
    assert diff_answers({"sex": ["unknown"]}, {}) == []
    assert diff_answers({"zip": [""]}, {"zip": [" "]}) == []
    [change] = diff_answers({"sex": ["unknown"]}, {"sex": ["male"]})
    assert (change.field, change.old, change.new) == ("sex", None, "male")


def test_edit_updates_the_same_record_and_keeps_what_the_intake_does_not_own() -> None:
    saved = _intake_saved()
    assert [lab.value for lab in saved.record.labs] == [1.4]
    # since the intake: a lab added by hand, care-team numbers, travel changed on the page
    record, _ = with_lab(saved.record, LabResult(analyte=Analyte.serum_m_protein,
                                                 date=dt.date(2026, 11, 20), value=0.8))
    prefs = record.preferences.model_copy(update={"care_team_phone": "555-123-4567",
                                                  "max_travel_miles": 50.0})
    saved = _saved(record.model_copy(update={"preferences": prefs}))
    values = edit_answers(saved, ANSWERS)
    assert values["travel_miles"] == ["50"] and values["car_t_date"] == ["March 2026"]
    form = FormData([(k, v) for k, vs in values.items() for v in vs if k != "creatinine"]
                    + [("creatinine", "1.1")])
    new, answers, changes = edited_record(saved, ANSWERS, form, today=TODAY)
    assert new.id == saved.record.id
    assert [(c.field, c.old, c.new) for c in changes] == [("creatinine", "1,4", "1.1")]
    assert answers["creatinine"] == ["1.1"]
    by = {lab.analyte: lab.value for lab in new.labs}
    assert by == {Analyte.creatinine: 1.1, Analyte.serum_m_protein: 0.8}
    assert new.preferences.care_team_phone == "555-123-4567"
    assert new.preferences.max_travel_miles == 50.0
    assert new.car_t[0].infusion_date == saved.record.car_t[0].infusion_date


def test_an_edit_that_clears_the_labs_removes_them() -> None:
    saved = _intake_saved()
    form = form_from_answers({k: v for k, v in ANSWERS.items()
                              if k not in ("creatinine", "lab_date")})
    new, _, changes = edited_record(saved, ANSWERS, form, today=TODAY)
    assert new.labs == []
    assert {c.field for c in changes} == {"creatinine", "lab_date"}


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"analyte": "creatinine", "lab_date": "2026-11-02", "value": "1,400"}, "value",
     "did you mean 1.4 mg/dL"),
    ({"analyte": "hemoglobin", "lab_date": "2026-11-02", "value": "400"}, "value",
     "outside what we expect"),
    ({"analyte": "platelets", "lab_date": "2026-11-02", "value": "1,500"}, "value",
     "did you mean"),
    ({"analyte": "creatinine", "lab_date": "2026-11-02", "value": "133"}, "value", "µmol/L"),
    ({"analyte": "creatinine", "lab_date": "November 2026", "value": "1.1"}, "lab_date",
     "full date"),
    ({"analyte": "creatinine", "lab_date": "2026-12-30", "value": "1.1"}, "lab_date",
     "future"),
    ({"analyte": "nonsense", "lab_date": "2026-11-02", "value": "1.1"}, "analyte", "choose"),
    ({"analyte": "creatinine", "lab_date": "2026-11-02", "value": ""}, "value", "mg/dL"),
    ({"analyte": "creatinine", "lab_date": "2026-11-01", "value": "1.2"}, "lab_date",
     "already saved"),
])
def test_lab_form_asks_instead_of_guessing(form: dict[str, str], field: str,
                                           words: str) -> None:
    read = read_lab(form, _intake_saved().record, today=TODAY)
    assert read.lab is None and words in read.errors[field]


def test_lab_form_reads_a_decimal_comma_and_offers_the_suggestion() -> None:
    record = _intake_saved().record
    read = read_lab({"analyte": "creatinine", "lab_date": "2026-11-20", "value": "1,3"},
                    record, today=TODAY)
    assert read.lab == LabResult(analyte=Analyte.creatinine, date=dt.date(2026, 11, 20),
                                 value=1.3)
    creatinine_umol = read_lab({"analyte": "creatinine", "lab_date": "2026-11-20",
                                "value": "133"}, record, today=TODAY)
    assert creatinine_umol.suggestion == pytest.approx(1.504, abs=0.001)
    confirmed = read_lab({"analyte": "creatinine", "lab_date": "2026-11-20", "value": "133",
                          "confirmed_value": "1.504"}, record, today=TODAY)
    assert confirmed.lab is not None and confirmed.lab.value == 1.504
    out_of_range = read_lab({"analyte": "creatinine", "lab_date": "2026-11-20", "value": "",
                             "confirmed_value": "133"}, record, today=TODAY)
    assert out_of_range.lab is None, "only a reading in range can be confirmed"
    new, change = with_lab(record, read.lab)
    assert len(new.labs) == 2 and change.field == "lab"
    assert show_value(change.new) == "Creatinine 1.3 mg/dL on 2026-11-20"


def test_lab_form_takes_the_unit_on_the_report() -> None:
    record = _intake_saved().record

    def lab(**form: str) -> Any:
        return read_lab({"lab_date": "2026-11-20", **form}, record, today=TODAY)

    kappa = lab(analyte="kappa_flc", value="12,5", unit="mg/dL")
    assert kappa.lab is not None and kappa.lab.value == 125.0, "mg/dL is ten times mg/L"
    creat = lab(analyte="creatinine", value="133", unit="umol/L")
    assert creat.lab is not None and creat.lab.value == pytest.approx(1.504, abs=0.001)
    wrong = lab(analyte="platelets", value="150", unit="mg/dL")
    assert wrong.lab is None and "not used for Platelets" in wrong.errors["unit"]
    too_high = lab(analyte="creatinine", value="9000", unit="umol/L")
    assert too_high.lab is None and "µmol/L" in too_high.errors["value"]
    confirmed = lab(analyte="kappa_flc", value="1,500", unit="mg/dL", confirmed_value="1.5")
    assert confirmed.lab is not None and confirmed.lab.value == 15.0


def test_every_lab_choice_has_a_unit_and_range() -> None:
    choices = lab_choices()
    assert {c.analyte for c in choices} >= {Analyte.creatinine, Analyte.serum_m_protein,
                                            Analyte.kappa_flc, Analyte.lambda_flc}
    assert all(c.spec.low <= c.spec.high for c in choices)
    assert Analyte.serum_immunofixation not in {c.analyte for c in choices}


def test_export_file_round_trips_exactly() -> None:
    saved = _saved(_intake_saved().record, label="Dad")
    history = [HistoryEntry(NOW, "local", "creatinine", "1,4", "1.1"),
               HistoryEntry(NOW, "nurse", "lab", None, {"analyte": "creatinine"})]
    payload = export_payload(saved, ANSWERS, history, {"resourceType": "Bundle"})
    assert looks_like_export(payload)
    back = read_export(payload)
    assert back.record == saved.record and back.label == "Dad" and back.answers == ANSWERS
    assert back.history == history and back.source == "intake"
    bare = {"profile": {"record": saved.record.model_dump(mode="json")}, "fhir_bundle": None}
    old = read_export(bare)  # an export from before answers and history were included
    assert old.record == saved.record and old.answers is None and old.history == []


@pytest.mark.parametrize(("change", "where"), [
    ({"record": None}, "profile.record"),
    ({"record": {"id": "x", "labs": [{"analyte": "nope"}]}}, "profile.record"),
    ({"answers": {"age": 5}}, "profile.answers"),
    ({"history": [{"at": "yesterday"}]}, "profile.history[0]"),
    ({"label": 7}, "profile.label"),
])
def test_a_damaged_export_says_what_is_wrong_in_plain_words(change: dict[str, Any],
                                                            where: str) -> None:
    profile = {"record": {"id": "x"}, **change}
    with pytest.raises(ImportError_) as err:
        read_export({"format": "myelonav-profile-export", "profile": profile})
    assert "damaged" in err.value.message and "Download the file again" in err.value.message
    assert where in (err.value.location or "")


def test_other_json_is_not_taken_for_an_export() -> None:
    assert not looks_like_export({"resourceType": "Bundle"})
    assert not looks_like_export({"id": "x", "labs": []})
    assert not looks_like_export([1, 2])
    assert looks_like_export({"profile": {}, "fhir_bundle": {}})
    assert PatientRecord(id="x", preferences=Preferences()).id == "x"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["record", "answers", "history", "label", "source", "at",
                                       "actor", "field", "id", "x"]), children, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_export_shaped_file_reads_or_says_what_is_wrong(profile: Any) -> None:
    try:
        imported = read_export({"format": "myelonav-profile-export", "profile": profile})
    except ImportError_ as exc:
        assert exc.location and "damaged" in exc.message
    else:
        assert isinstance(imported.record, PatientRecord)
        assert imported.source in ("intake", "fhir", "profile", "sample")
