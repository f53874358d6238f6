"""The guided intake: partial answers work, "I don't know" is stored as unknown, never no."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.patient.lines import count_prior_lines
from myelonav.patient.models import (
    AntigenStatus,
    CytogeneticAbnormality,
    ResponseCategory,
    Sex,
    StopReason,
    TrialInterest,
)
from myelonav.patient.vocabulary import vocabulary
from myelonav.web.intake import (
    ECOG_PLAIN,
    LINE_OUTCOMES,
    LINE_ROWS,
    SHORT_NAMES,
    IntakeError,
    allowed_prior_drugs,
    prior_choices,
    record_from_intake,
    regimen_agents,
)

TODAY = dt.date(2026, 11, 25)

FULL = {
    "age": "64", "sex": "female", "zip": "10029", "heavy_chain": "IgG", "light_chain": "kappa",
    "car_t_product": "ciltacabtagene autoleucel", "car_t_date": "2026-03-10",
    "car_t_response": "responded", "progression_date": "2026-08-18", "bcma": "negative",
    "t11_14": "no", "del17p": "yes", "prior": ["bortezomib", "lenalidomide", "daratumumab"],
    "lab_date": "2026-11-01", "platelets": "120", "anc": "1.5", "creatinine": "1.1",
    "weight_kg": "70", "ecog": "1", "travel_miles": "100", "trial_interest": "yes",
}


def test_empty_form_is_all_unknown() -> None:
    record = record_from_intake({}, today=TODAY)
    assert record.demographics.sex is Sex.unknown
    assert record.demographics.age_on(TODAY) is None
    assert record.cytogenetics == [] and record.car_t == [] and record.therapy_lines == []
    assert record.ecog == [] and record.labs == []
    assert record.preferences.trial_interest is TrialInterest.unknown
    assert record.preferences.max_travel_miles is None


def test_dont_know_is_never_no() -> None:
    answers = {k: "unknown" for k in ("sex", "heavy_chain", "light_chain", "t11_14", "del17p",
                                      "car_t_response", "bcma", "ecog", "trial_interest")}
    record = record_from_intake(answers, today=TODAY)
    assert record.has_abnormality(CytogeneticAbnormality.t_11_14) is None
    assert record.has_abnormality(CytogeneticAbnormality.del_17p) is None
    assert record.diagnosis.isotype.heavy_chain is None
    assert record.preferences.trial_interest is TrialInterest.unknown


def test_full_answers() -> None:
    record = record_from_intake(FULL, today=TODAY)
    assert record.demographics.age_on(TODAY) == 64
    assert record.demographics.postal_code == "10029" and record.demographics.country == "US"
    assert record.has_abnormality(CytogeneticAbnormality.t_11_14) is False
    assert record.has_abnormality(CytogeneticAbnormality.del_17p) is True
    episode = record.car_t[0]
    assert episode.target_antigen == "BCMA"
    assert episode.best_response is ResponseCategory.PR
    assert episode.progression_date == dt.date(2026, 8, 18)
    assert episode.antigen_status_at_relapse is AntigenStatus.negative
    assert record.therapy_lines[0].agents == ["bortezomib", "daratumumab", "lenalidomide"]
    assert {lab.analyte.value: lab.value for lab in record.labs} == {
        "platelets": 120, "anc": 1.5, "creatinine": 1.1, "body_weight": 70}
    assert record.latest_ecog() is not None and record.latest_ecog().score == 1  # type: ignore[union-attr]
    # what the record has no exact place for is kept, in the patient's words
    assert any(u.path == "intake.car_t_response" for u in record.unmapped)


def test_never_responded_is_below_partial_response() -> None:
    record = record_from_intake({**FULL, "car_t_response": "never_responded"}, today=TODAY)
    assert record.car_t[0].best_response is ResponseCategory.SD


def test_response_unknown_stays_unknown() -> None:
    record = record_from_intake({**FULL, "car_t_response": "unknown"}, today=TODAY)
    assert record.car_t[0].best_response is None


@pytest.mark.parametrize(("change", "field"), [
    ({"zip": "1002"}, "zip"),
    ({"age": "abc"}, "age"),
    ({"age": "9"}, "age"),
    ({"car_t_date": ""}, "car_t_date"),
    ({"car_t_date": "2030-01-01"}, "car_t_date"),
    ({"progression_date": "2026-01-01"}, "progression_date"),
    ({"lab_date": ""}, "lab_date"),
    ({"platelets": "-4"}, "platelets"),
    ({"sex": "robot"}, "sex"),
    ({"prior": ["aspirin"]}, "prior"),
    ({"car_t_product": "other", "car_t_other": "bortezomib"}, "car_t_other"),
])
def test_bad_answers_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(IntakeError) as err:
        record_from_intake({**FULL, **change}, today=TODAY)
    assert field in err.value.errors.by_field


def test_other_car_t_product_resolves_through_vocabulary() -> None:
    record = record_from_intake({**FULL, "car_t_product": "other", "car_t_other": "Abecma"},
                                today=TODAY)
    assert record.car_t[0].product == "idecabtagene vicleucel"


def test_prior_lines_count_is_kept_as_told() -> None:
    record = record_from_intake({**FULL, "prior_lines": "4"}, today=TODAY)
    assert record.lines_before_car_t_reported == 4
    # the undated ticked drugs are one regimen, but the count never falls below what was told
    assert count_prior_lines(record, TODAY) == 4 + len(record.car_t)


def test_checkbox_choices_come_from_the_vocabulary() -> None:
    groups = prior_choices()
    classes = [cls for cls, _, _ in groups]
    assert "proteasome_inhibitor" in classes and "bispecific" in classes
    ids = [d.id for _, _, drugs in groups for d in drugs]
    assert len(ids) == len(set(ids)), "each drug appears once"
    assert "teclistamab" in allowed_prior_drugs()
    assert "idecabtagene vicleucel" not in allowed_prior_drugs(), "CAR T is asked separately"


def test_ecog_words_cover_zero_to_four() -> None:
    assert [k for k, _ in ECOG_PLAIN] == ["0", "1", "2", "3", "4"]


_FIELDS = ["age", "birth_date", "sex", "zip", "heavy_chain", "light_chain", "car_t_product",
           "car_t_date", "car_t_response", "progression_date", "bcma", "t11_14", "del17p",
           "lab_date", "platelets", "anc", "creatinine", "weight_kg", "ecog", "travel_miles",
           "trial_interest", "prior_lines", "car_t_other", "diagnosis_date",
           "line1_regimen", "line1_start", "line1_end", "line1_outcome"]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS), st.text(max_size=12)))
def test_any_answers_give_a_record_or_a_named_error(form: dict[str, str]) -> None:
    try:
        record = record_from_intake(form, today=TODAY)
    except IntakeError as exc:
        assert exc.errors.by_field
        assert all(name in _FIELDS or name.startswith("intake") for name in exc.errors.by_field)
    else:
        assert record.id.startswith("intake-")


def test_month_only_and_approximate_dates_keep_their_precision() -> None:
    form = {**FULL, "car_t_date": "March 2026", "progression_date": "2026-08",
            "diagnosis_date": "about 2021"}
    record = record_from_intake(form, today=TODAY)
    assert record.car_t[0].infusion_date == dt.date(2026, 3, 15)
    assert record.car_t[0].progression_date == dt.date(2026, 8, 15)
    assert record.diagnosis.date == dt.date(2021, 7, 1)
    notes = {u.path: u for u in record.unmapped}
    assert notes["intake.car_t_date"].text == "March 2026"
    assert "month precision" in notes["intake.car_t_date"].reason
    assert "CAR T date" in notes["intake.car_t_date"].reason
    assert notes["intake.diagnosis_date"].text == "about 2021"
    assert "approximate" in notes["intake.diagnosis_date"].reason
    assert "intake.lab_date" not in notes, "a full date needs no note"


def test_same_month_relapse_is_not_before_the_infusion() -> None:
    form = {**FULL, "car_t_date": "2026-03-20", "progression_date": "2026-03"}
    record = record_from_intake(form, today=TODAY)
    assert record.car_t[0].progression_date == dt.date(2026, 3, 20)
    with pytest.raises(IntakeError) as err:
        record_from_intake({**form, "progression_date": "2026-02"}, today=TODAY)
    assert "before the CAR T infusion" in err.value.errors.by_field["progression_date"]


@pytest.mark.parametrize(("text", "agents"), [
    ("VRd", ["bortezomib", "lenalidomide", "dexamethasone"]),
    ("KRd", ["carfilzomib", "lenalidomide", "dexamethasone"]),
    ("DPd", ["daratumumab", "pomalidomide", "dexamethasone"]),
    ("DKd", ["daratumumab", "carfilzomib", "dexamethasone"]),
    ("Dara-Rd", ["daratumumab", "lenalidomide", "dexamethasone"]),
    ("PVd", ["pomalidomide", "bortezomib", "dexamethasone"]),
    ("EPd", ["elotuzumab", "pomalidomide", "dexamethasone"]),
    ("Isa-Pd", ["isatuximab", "pomalidomide", "dexamethasone"]),
    ("Tec-Dara", ["teclistamab", "daratumumab"]),
    ("Tal-Tec", ["talquetamab", "teclistamab"]),
    ("dara + pom + dex", ["daratumumab", "pomalidomide", "dexamethasone"]),
    ("Darzalex, Pomalyst and prednisone", ["daratumumab", "pomalidomide", "prednisone"]),
    ("belantamab mafodotin", ["belantamab mafodotin"]),
])
def test_regimens_expand_to_drugs(text: str, agents: list[str]) -> None:
    assert regimen_agents(text) == (agents, [])


def test_unknown_regimen_parts_are_shown_back() -> None:
    assert regimen_agents("VRd + magic tea") == (
        ["bortezomib", "lenalidomide", "dexamethasone"], ["magic tea"])
    with pytest.raises(IntakeError) as err:
        record_from_intake({"line1_regimen": "VRd + magic tea"}, today=TODAY)
    assert "magic tea" in err.value.errors.by_field["line1_regimen"]


def test_short_names_are_vocabulary_drugs() -> None:
    vocab = vocabulary()
    assert all(vocab.resolve(name) is not None for name in SHORT_NAMES.values())


def test_treatment_rows_become_lines_with_how_they_ended() -> None:
    form = {**FULL, "prior": ["bortezomib", "selinexor"],
            "line1_regimen": "VRd", "line1_start": "2021-04", "line1_end": "2022",
            "line1_outcome": "stopped_working",
            "line2_regimen": "DPd", "line2_start": "about 2023",
            "line2_outcome": "side_effects",
            "line3_regimen": "Tec-Dara", "line3_start": "October 2026",
            "line3_outcome": "still_on"}
    record = record_from_intake(form, today=TODAY)
    by_regimen = {line.regimen: line for line in record.therapy_lines}
    vrd = by_regimen["VRd"]
    assert vrd.agents == ["bortezomib", "lenalidomide", "dexamethasone"]
    assert vrd.stop_reason is StopReason.progression
    assert (vrd.start, vrd.end) == (dt.date(2021, 4, 15), dt.date(2022, 7, 1))
    assert by_regimen["DPd"].stop_reason is StopReason.toxicity
    tec = by_regimen["Tec-Dara"]
    assert tec.stop_reason is StopReason.ongoing and tec.after_car_t
    assert not vrd.after_car_t
    # a ticked drug already in a row is not counted again; the rest stay as told
    rest = [line for line in record.therapy_lines if line.regimen not in by_regimen or
            (line.regimen or "").startswith("treatments named")]
    assert [line.agents for line in rest] == [["selinexor"]]
    assert {u.path for u in record.unmapped} >= {"intake.line1_start", "intake.line1_end",
                                                 "intake.line2_start"}


@pytest.mark.parametrize(("change", "field"), [
    ({"line1_start": "2021"}, "line1_regimen"),
    ({"line1_regimen": "cilta-cel"}, "line1_regimen"),
    ({"line1_regimen": "VRd", "line1_outcome": "still_on", "line1_end": "2022"}, "line1_end"),
    ({"line1_regimen": "VRd", "line1_start": "2022-05", "line1_end": "2021"}, "line1_end"),
    ({"line1_regimen": "VRd", "line1_start": "Smarch"}, "line1_start"),
])
def test_bad_treatment_rows_name_the_row(change: dict[str, str], field: str) -> None:
    with pytest.raises(IntakeError) as err:
        record_from_intake(change, today=TODAY)
    assert field in err.value.errors.by_field


def test_steroids_can_be_ticked() -> None:
    assert {"dexamethasone", "prednisone"} <= allowed_prior_drugs()
    record = record_from_intake({"prior": ["dexamethasone", "prednisone"]}, today=TODAY)
    assert record.therapy_lines[0].agents == ["dexamethasone", "prednisone"]


def test_form_has_the_treatment_rows_and_outcomes(client: Any) -> None:
    text = client.get("/intake").text
    for i in range(1, LINE_ROWS + 1):
        assert f'name="line{i}_regimen"' in text
    assert f'name="line{LINE_ROWS + 1}_regimen"' not in text
    for key, label, _ in LINE_OUTCOMES:
        assert f'value="{key}"' in text and label in text
    assert 'type="date"' not in text, "month-only dates must be typeable"


def test_decimal_comma_and_month_date_through_the_form(client: Any) -> None:
    form = {"car_t_product": "idecabtagene vicleucel", "car_t_date": "June 2025",
            "lab_date": "2026-11-02", "creatinine": "1,4", "line1_regimen": "KRd",
            "line1_outcome": "stopped_working"}
    r = client.post("/intake", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    asked = client.post("/intake", data={**form, "creatinine": "1,400"})
    assert asked.status_code == 422
    assert "Creatinine: did you mean 1.4 mg/dL?" in asked.text
    assert 'value="1,400"' in asked.text, "the answer is kept as typed, not replaced"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["VRd", "Dara", "-", "+", " ", ",", "pom", "dex", "x", "Rd",
                                 "Tec", "and", "prednisone", "cel"]), max_size=8)
       .map("".join) | st.text(max_size=30))
def test_regimen_text_gives_vocabulary_drugs_or_names_what_was_not_understood(
        text: str) -> None:
    agents, unknown = regimen_agents(text)
    vocab = vocabulary()
    assert all(vocab.resolve(agent) is not None for agent in agents)
    assert len(agents) == len(set(agents))
    if not unknown and any(c.isalnum() for c in text):
        assert agents, f"{text!r} read as nothing"
