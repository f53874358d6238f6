"""The intake's specialist questions (M-protein, light chains, IgG, CRS/ICANS, extramedullary
disease, comorbidities), the one-click confirmation and the record → form mapping."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.patient.models import Analyte, DiseaseSiteKind
from myelonav.samples import sample_ids, sample_profile
from myelonav.web.intake import (
    COMORBIDITY_QUESTIONS,
    CRS_GRADES,
    NEUROPATHY_PLAIN,
    IntakeError,
    form_answers,
    intake_values,
    record_from_intake,
)

TODAY = dt.date(2026, 11, 25)
CAR_T = {"car_t_product": "ciltacabtagene autoleucel", "car_t_date": "March 2026"}
FULL: dict[str, Any] = {
    "age": "64", "sex": "female", "zip": "10029", "heavy_chain": "IgG", "light_chain": "kappa",
    **CAR_T, "car_t_response": "responded", "progression_date": "2026-08",
    "bcma": "negative", "t11_14": "no", "del17p": "yes",
    "prior": ["bortezomib", "lenalidomide", "daratumumab"], "line1_regimen": "KRd",
    "line1_start": "about 2023", "line1_end": "2024-02", "line1_outcome": "stopped_working",
    "prior_lines": "3", "transplant": ["autologous"],
    "lab_date": "2026-11-01", "platelets": "120", "anc": "1,5", "creatinine": "1.1",
    "weight_kg": "70", "m_protein": "1.2", "flc_unit": "mg/dL", "kappa_flc": "25",
    "lambda_flc": "0,8", "igg": "1450", "crs": "yes", "crs_grade": "2", "icans": "no",
    "emd": "yes", "emd_where": "liver", "heart_failure": "no", "lvef_pct": "55",
    "eye_disease": "unknown", "active_infection": "yes", "infection_detail": "sinusitis",
    "movement_disorder_after_car_t": "no", "secondary_malignancy": "unknown",
    "transfusion_dependent": "no", "neuropathy_grade": "1", "ecog": "1",
    "travel_miles": "100", "trial_interest": "yes",
}


def test_specialist_answers_reach_the_record() -> None:
    record = record_from_intake(FULL, today=TODAY)
    labs = {lab.analyte: lab.value for lab in record.labs}
    assert labs[Analyte.serum_m_protein] == 1.2
    assert labs[Analyte.kappa_flc] == 250.0, "25 mg/dL is 250 mg/L"
    assert labs[Analyte.lambda_flc] == 8.0, "0,8 mg/dL read with a decimal comma"
    assert labs[Analyte.igg] == 1450
    episode = record.car_t[0]
    assert episode.crs_max_grade == 2 and episode.icans_max_grade == 0
    assert [(s.kind, s.location, s.active) for s in record.disease_sites] == [
        (DiseaseSiteKind.extramedullary_plasmacytoma, "liver", True)]
    com = record.comorbidities
    assert com.heart_failure is False and com.lvef_pct == 55
    assert com.active_infection is True and com.infection_detail == "sinusitis"
    assert com.eye_disease is None and com.secondary_malignancy is None
    assert com.peripheral_neuropathy_grade == 1 and com.recorded_on == TODAY


def test_dont_know_stays_unknown_for_every_new_question() -> None:
    answers = {name: "unknown" for name, _, _ in COMORBIDITY_QUESTIONS}
    answers.update(CAR_T, crs="unknown", crs_grade="unknown", icans="unknown", emd="unknown",
                   neuropathy_grade="unknown")
    record = record_from_intake(answers, today=TODAY)
    com = record.comorbidities
    for name, _, _ in COMORBIDITY_QUESTIONS:
        assert getattr(com, name) is None, name
    assert com.peripheral_neuropathy_grade is None and com.recorded_on is None
    assert record.car_t[0].crs_max_grade is None and record.car_t[0].icans_max_grade is None
    assert record.disease_sites == []


def test_crs_yes_without_a_grade_is_unknown_grade_with_a_note() -> None:
    record = record_from_intake({**CAR_T, "crs": "yes"}, today=TODAY)
    assert record.car_t[0].crs_max_grade is None
    assert any(n.path == "intake.crs" for n in record.unmapped)


def test_m_protein_not_detected_is_zero() -> None:
    record = record_from_intake({"lab_date": "2026-11-01", "m_protein_not_detected": "on"},
                                today=TODAY)
    assert [(lab.analyte, lab.value) for lab in record.labs] == [(Analyte.serum_m_protein, 0.0)]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"kappa_flc": "25", "flc_unit": "unknown"}, "flc_unit", "mg/L or mg/dL"),
    ({"m_protein": "1.2", "m_protein_not_detected": "on"}, "m_protein", "not detected"),
    ({"crs": "no", "crs_grade": "3"}, "crs_grade", "I don't know"),
    ({"emd": "no", "emd_where": "liver"}, "emd_where", "Yes"),
    ({"active_infection": "no", "infection_detail": "flu"}, "infection_detail", "Yes"),
    ({"lvef_pct": "95"}, "lvef_pct", "outside what we expect"),
    ({"m_protein": "30"}, "m_protein", "g/L"),
])
def test_bad_specialist_answers_say_what_to_do(change: dict[str, str], field: str,
                                               words: str) -> None:
    with pytest.raises(IntakeError) as caught:
        record_from_intake({**FULL, **change}, today=TODAY)
    message = caught.value.errors.by_field[field]
    assert words in message
    assert "_" not in message.split(":")[0], "the field is named in words"


def test_choices_cover_the_grades() -> None:
    assert [g for g, _ in CRS_GRADES] == ["1", "2", "3", "4"]
    assert [g for g, _ in NEUROPATHY_PLAIN] == ["0", "1", "2", "3"]


def test_one_click_confirmation_replaces_only_that_answer() -> None:
    answers = form_answers({**FULL, "creatinine": "1,400", "confirm_creatinine": "1.4"})
    assert answers["creatinine"] == "1.4" and "confirm_creatinine" not in answers
    assert answers["anc"] == "1,5"
    ignored = form_answers({"confirm_zip": "99999", "confirm_nothing": "1"})
    assert ignored == {}, "only numeric answers can be confirmed"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["1,400", "1,4", "124", "85,000", "2,5", "0,9"]),
       st.sampled_from(["creatinine", "platelets", "anc", "igg", "m_protein"]))
def test_every_offered_choice_is_accepted_when_clicked(typed: str, name: str) -> None:
    form = {**FULL, name: typed}
    try:
        record_from_intake(form, today=TODAY)
        return
    except IntakeError as exc:
        choices = exc.errors.choices.get(name, [])
    for value, words in choices:
        assert value in words.replace(",", "") or "right" in words or "meant" in words
        record = record_from_intake(form_answers({**form, f"confirm_{name}": value}),
                                    today=TODAY)
        assert record is not None


def _same(a: Any, b: Any) -> None:
    skip = {"id", "unmapped"}
    assert a.model_dump(exclude=skip) == b.model_dump(exclude=skip)
    assert [n.text for n in a.unmapped] == [n.text for n in b.unmapped]


def test_record_to_form_and_back_says_the_same() -> None:
    first = record_from_intake(FULL, today=TODAY)
    values = intake_values(first)
    assert values["car_t_date"] == "March 2026", "dates come back as the person wrote them"
    assert values["line1_start"] == "about 2023"
    assert values["kappa_flc"] == "250" and values["flc_unit"] == "mg/L"
    _same(first, record_from_intake(values, today=TODAY))


def test_a_vague_date_without_values_survives_the_round_trip() -> None:
    first = record_from_intake({"lab_date": "MARCH 2000"}, today=TODAY)
    _same(first, record_from_intake(intake_values(first), today=TODAY))


def test_not_detected_and_dont_know_survive_the_round_trip() -> None:
    first = record_from_intake({**CAR_T, "lab_date": "2026-11-01", "crs": "yes",
                                "m_protein_not_detected": "on"}, today=TODAY)
    values = intake_values(first)
    assert values["m_protein_not_detected"] == "on" and values["crs"] == "yes"
    assert values["heart_failure"] == "unknown"
    _same(first, record_from_intake(values, today=TODAY))


@pytest.mark.parametrize("sample", sample_ids())
def test_samples_map_to_valid_answers(sample: str) -> None:
    """An imported record gives answers the intake accepts (editing never starts broken)."""
    values = intake_values(sample_profile(sample))
    record_from_intake(values, today=TODAY)


def _post(client: Any, form: dict[str, Any]) -> Any:
    return client.post("/intake", data=form, follow_redirects=False)


def test_confirm_button_resubmits_without_retyping(client: Any) -> None:
    form = {**FULL, "creatinine": "1,400"}
    asked = _post(client, form)
    assert asked.status_code == 422
    button = re.search(r'<button type="submit" class="button confirm" name="(confirm_\w+)" '
                       r'value="([^"]+)">([^<]+)</button>', asked.text)
    assert button is not None
    assert button.groups() == ("confirm_creatinine", "1.4", "Yes, 1.4 mg/dL is right")
    assert "No, I will correct it" in asked.text
    assert asked.text.index('class="default-submit"') < asked.text.index("button confirm"), (
        "Enter must submit with the ordinary button, never confirm a value")
    for name in ("emd_where", "infection_detail"):
        assert f'value="{FULL[name]}"' in asked.text, "other answers are kept"
    done = _post(client, {**form, button.group(1): button.group(2)})
    assert done.status_code == 303


def test_two_readings_offer_two_buttons(client: Any) -> None:
    asked = _post(client, {**FULL, "igg": "1,450"})
    assert asked.status_code == 422
    assert "I meant 1.45 mg/dL" not in asked.text or "I meant 1,450 mg/dL" in asked.text
    assert asked.text.count('name="confirm_igg"') >= 1


def test_form_shows_the_specialist_questions(client: Any) -> None:
    text = client.get("/intake").text
    for name in ("m_protein", "m_protein_not_detected", "kappa_flc", "lambda_flc", "flc_unit",
                 "igg", "crs", "crs_grade", "icans", "icans_grade", "emd", "emd_where",
                 "lvef_pct", "neuropathy_grade", "infection_detail",
                 *(n for n, _, _ in COMORBIDITY_QUESTIONS)):
        assert f'name="{name}"' in text, name


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_a_confirmed_number_reads_back_as_itself(value: float) -> None:
    from myelonav.web.answers import NumberField, plain_number, read_number

    shown = plain_number(value)
    answer = read_number(shown, NumberField("Value", "", 0, 1e7))
    assert answer.message is None, shown
    assert answer.value == pytest.approx(round(value, 6), abs=1e-6)


_NEW_FIELDS = ["m_protein", "m_protein_not_detected", "kappa_flc", "lambda_flc", "flc_unit",
               "igg", "crs", "crs_grade", "icans", "icans_grade", "emd", "emd_where",
               "lvef_pct", "neuropathy_grade", "infection_detail", "lab_date", "car_t_product",
               "car_t_date", *(n for n, _, _ in COMORBIDITY_QUESTIONS)]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(_NEW_FIELDS),
                       st.one_of(st.text(max_size=12),
                                 st.sampled_from(["yes", "no", "unknown", "on", "mg/dL", "2",
                                                  "1,4", "March 2026"]))))
def test_any_specialist_answers_give_a_record_or_a_named_error(form: dict[str, str]) -> None:
    try:
        record = record_from_intake(form, today=TODAY)
    except IntakeError as exc:
        assert exc.errors.by_field
        assert all(name in _NEW_FIELDS or name.startswith("intake")
                   for name in exc.errors.by_field), exc.errors.by_field
    else:
        assert record.id.startswith("intake-")
        _same(record, record_from_intake(intake_values(record), today=TODAY))


@pytest.mark.parametrize(("name", "raw", "words"), [
    ("report.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64, "photo or a scan"),
    ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "photo or a scan"),
    ("labs.pdf", b"%PDF-1.7\n" + b"\0" * 64, "This is a PDF"),
    ("export.json", b'{"patient": {"name": "x"}, "labs": 5}', "not a FHIR health record"),
    ("record.xml", b"<html><body>not a record</body></html>", "C-CDA"),
])
def test_upload_errors_say_what_to_try_instead(client: Any, name: str, raw: bytes,
                                               words: str) -> None:
    r = client.post("/upload", files={"file": (name, raw, "application/octet-stream")})
    assert r.status_code == 422
    assert words in r.text and 'href="/intake"' in r.text
    assert "We could not read this file." in r.text
