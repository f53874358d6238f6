"""donor_available: only a recorded donor search decides it; nothing else says "no"."""

from __future__ import annotations

import datetime as dt

import pytest

from myelonav.logic import UNKNOWN
from myelonav.patient.models import Demographics, PatientRecord, Preferences, Sex
from myelonav.picture import clinical_picture

AS_OF = dt.date(2026, 11, 25)


def _record(donor: str | None) -> PatientRecord:
    prefs = (
        Preferences() if donor is None else Preferences.model_validate({"stem_cell_donor": donor})
    )
    return PatientRecord(
        id="donor",
        demographics=Demographics(birth_date=dt.date(1970, 1, 1), sex=Sex.female),
        preferences=prefs,
    )


@pytest.mark.parametrize(
    "donor,value", [("found", True), ("none_found", False), ("unknown", UNKNOWN), (None, UNKNOWN)]
)
def test_donor_available_follows_the_recorded_search(donor: str | None, value: object) -> None:
    fact = clinical_picture(_record(donor), AS_OF).fact("donor_available")
    assert fact.value is value
    assert fact.clinical and fact.plain


def test_the_donor_answer_survives_a_save_and_load() -> None:
    record = _record("found")
    again = PatientRecord.model_validate_json(record.model_dump_json())
    assert again.preferences.stem_cell_donor == "found"


def test_an_unknown_answer_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="stem_cell_donor"):
        Preferences.model_validate({"stem_cell_donor": "my brother"})
