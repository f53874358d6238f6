"""The guided intake: partial answers work, "I don't know" is stored as unknown, never no."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.patient.lines import count_prior_lines
from myelonav.patient.models import (
    AntigenStatus,
    CytogeneticAbnormality,
    ResponseCategory,
    Sex,
    TrialInterest,
)
from myelonav.web.intake import (
    ECOG_PLAIN,
    IntakeError,
    allowed_prior_drugs,
    prior_choices,
    record_from_intake,
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
           "trial_interest", "prior_lines", "car_t_other", "diagnosis_date"]


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
