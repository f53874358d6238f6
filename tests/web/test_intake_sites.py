"""The intake's site and donor questions: "no" is kept as no, "I don't know" as unknown.

Before, a "No" to "myeloma outside the bones" was stored as nothing, so it and an unanswered
question both read as "no" in the clinical picture; radiation ("needs a target") and the
aggressive-disease rules then said "unlikely" on a fact the person never gave.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from starlette.datastructures import FormData

from myelonav.logic import UNKNOWN
from myelonav.options.engine import Status, assess
from myelonav.patient.models import DiseaseSiteKind, PatientRecord
from myelonav.picture import clinical_picture
from myelonav.store.profiles import SavedProfile
from myelonav.web.intake import intake_values, record_from_intake
from myelonav.web.profile_edit import edit_answers, edited_record, form_from_answers

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
# A woman of 64, 8 months after cilta-cel, relapsing; labs from this month.
BASE: dict[str, Any] = {
    "age": "64",
    "sex": "female",
    "heavy_chain": "IgG",
    "light_chain": "kappa",
    "car_t_product": "ciltacabtagene autoleucel",
    "car_t_date": "2026-03-10",
    "car_t_response": "responded",
    "progression_date": "2026-10-18",
    "prior": ["bortezomib", "lenalidomide", "daratumumab", "pomalidomide"],
    "lab_date": "2026-11-01",
    "platelets": "140",
    "anc": "1.8",
    "creatinine": "0.9",
    "ecog": "1",
    "trial_interest": "yes",
}


def _record(**answers: Any) -> PatientRecord:
    return record_from_intake({**BASE, **answers}, today=TODAY)


def _fact(record: PatientRecord, name: str) -> object:
    return clinical_picture(record, TODAY).value(name)


def _status(record: PatientRecord, option: str) -> Status:
    _, options = assess(record, TODAY, "patient")
    return {o.id: o.status for o in options}[option]


@pytest.mark.parametrize("field,fact", [("emd", "extramedullary_disease"), ("cns", "cns_disease")])
@pytest.mark.parametrize(
    "answer,value", [("yes", True), ("no", False), ("unknown", UNKNOWN), (None, UNKNOWN)]
)
def test_a_site_answer_reaches_the_picture_as_given(
    field: str, fact: str, answer: str | None, value: object
) -> None:
    record = _record(**({} if answer is None else {field: answer}))
    assert _fact(record, fact) is value


def test_where_the_lump_is_is_kept_with_a_yes_and_refused_without_one() -> None:
    record = _record(emd="yes", emd_where="chest wall")
    [site] = record.disease_sites
    assert (site.kind, site.location, site.active) == (
        DiseaseSiteKind.extramedullary_plasmacytoma,
        "chest wall",
        True,
    )
    from myelonav.web.intake import IntakeError

    with pytest.raises(IntakeError) as err:
        _record(emd="no", emd_where="chest wall")
    assert "emd_where" in err.value.errors.by_field


def test_radiation_asks_on_dont_know_and_fits_a_lump() -> None:
    assert _status(_record(emd="unknown"), "radiation") is Status.need_info
    assert _status(_record(), "radiation") is Status.need_info
    assert _status(_record(emd="yes", emd_where="liver"), "radiation") in (
        Status.fits,
        Status.caution,
    )


def test_alkylator_salvage_is_never_unlikely_on_an_unanswered_question() -> None:
    assert _status(_record(), "alkylator_salvage") is not Status.unlikely
    assert _status(_record(emd="yes"), "alkylator_salvage") is not Status.unlikely


@pytest.mark.parametrize(
    "answer,value", [("found", True), ("none_found", False), ("unknown", UNKNOWN), (None, UNKNOWN)]
)
def test_the_donor_answer_feeds_donor_available(answer: str | None, value: object) -> None:
    record = _record(**({} if answer is None else {"stem_cell_donor": answer}))
    assert _fact(record, "donor_available") is value


def test_a_made_up_donor_answer_is_refused_with_the_field_named() -> None:
    from myelonav.web.intake import IntakeError

    with pytest.raises(IntakeError) as err:
        _record(stem_cell_donor="my brother")
    assert "stem_cell_donor" in err.value.errors.by_field


@pytest.mark.parametrize(
    "answers",
    [
        {"emd": "no", "cns": "yes", "stem_cell_donor": "none_found"},
        {"emd": "yes", "emd_where": "skin", "cns": "no", "stem_cell_donor": "found"},
        {},
    ],
)
def test_saved_answers_read_back_the_same(answers: dict[str, str]) -> None:
    record = _record(**answers)
    values = intake_values(record)
    for name in ("emd", "cns", "stem_cell_donor"):
        assert values[name] == answers.get(name, "unknown"), name
    again = record_from_intake(values, today=TODAY)
    assert again.sites_not_found == record.sites_not_found
    assert [(s.kind, s.location) for s in again.disease_sites] == [
        (s.kind, s.location) for s in record.disease_sites
    ]
    assert again.preferences.stem_cell_donor == record.preferences.stem_cell_donor


def test_the_profile_edit_shows_and_changes_the_donor_answer() -> None:
    stored = {k: v if isinstance(v, list) else [v] for k, v in BASE.items()}
    saved = SavedProfile(
        "b" * 32,
        "intake",
        False,
        record_from_intake(form_from_answers(stored), today=TODAY),
        NOW,
        NOW,
    )
    assert edit_answers(saved, stored)["stem_cell_donor"] == ["unknown"]
    form = FormData(
        [(k, v) for k, vs in stored.items() for v in vs]
        + [("stem_cell_donor", "found"), ("emd", "no")]
    )
    new, answers, changes = edited_record(saved, stored, form, today=TODAY)
    assert new.preferences.stem_cell_donor == "found"
    assert {c.field for c in changes} == {"stem_cell_donor", "emd"}
    assert _fact(new, "extramedullary_disease") is False
    reopened = _saved_again(saved, new)
    assert edit_answers(reopened, answers)["stem_cell_donor"] == ["found"]


def _saved_again(saved: SavedProfile, record: PatientRecord) -> SavedProfile:
    return SavedProfile(saved.id, saved.source, False, record, NOW, NOW)


def test_the_form_asks_both_questions_with_a_dont_know(client: Any) -> None:
    text = client.get("/intake").text
    assert 'name="cns"' in text
    assert "Has a stem cell donor been found for you?" in text
    assert "They looked and found none" in text
    assert "No search yet, or I don&#39;t know" in text or "No search yet, or I don't know" in text
    r = client.post(
        "/intake",
        data={**BASE, "emd": "no", "stem_cell_donor": "none_found"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:2000]
