from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    CytogeneticAbnormality,
    CytogeneticFinding,
    Demographics,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    TherapyLine,
)


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="favourite_colour"):
        PatientRecord.model_validate({"id": "p1", "favourite_colour": "blue"})


def test_line_end_before_start_is_rejected() -> None:
    with pytest.raises(ValidationError, match="before start"):
        TherapyLine(agents=["lenalidomide"], start=dt.date(2020, 5, 1), end=dt.date(2020, 4, 1))


def test_progression_before_infusion_is_rejected() -> None:
    with pytest.raises(ValidationError, match="before infusion"):
        CarTEpisode(
            product="ciltacabtagene autoleucel",
            infusion_date=dt.date(2024, 3, 5),
            progression_date=dt.date(2024, 1, 1),
        )


def test_lab_needs_canonical_unit_and_a_value() -> None:
    with pytest.raises(ValidationError, match="canonical unit"):
        LabResult(analyte=Analyte.hemoglobin, date=dt.date(2026, 1, 1), value=10, unit="g/L")
    with pytest.raises(ValidationError, match="value or a qualitative"):
        LabResult(analyte=Analyte.hemoglobin, date=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError, match="negative"):
        LabResult(analyte=Analyte.hemoglobin, date=dt.date(2026, 1, 1), value=-1)
    lab = LabResult(analyte=Analyte.hemoglobin, date=dt.date(2026, 1, 1), value=10)
    assert lab.unit == "g/dL"


def test_age_on() -> None:
    demo = Demographics(birth_date=dt.date(1961, 8, 19))
    assert demo.age_on(dt.date(2026, 8, 18)) == 64
    assert demo.age_on(dt.date(2026, 8, 19)) == 65
    assert (
        Demographics(age_years=70, age_recorded_on=dt.date(2024, 1, 1)).age_on(dt.date(2026, 6, 1))
        == 72
    )
    assert Demographics().age_on(dt.date(2026, 1, 1)) is None


def test_unknown_is_not_no() -> None:
    record = PatientRecord(
        id="p1",
        cytogenetics=[
            CytogeneticFinding(abnormality=CytogeneticAbnormality.t_11_14, detected=False)
        ],
    )
    assert record.has_abnormality(CytogeneticAbnormality.t_11_14) is False
    assert record.has_abnormality(CytogeneticAbnormality.del_17p) is None


def test_series_are_sorted_and_latest_respects_as_of() -> None:
    record = PatientRecord(
        id="p1",
        labs=[
            LabResult(analyte=Analyte.platelets, date=dt.date(2026, 5, 1), value=90),
            LabResult(analyte=Analyte.platelets, date=dt.date(2026, 1, 1), value=150),
        ],
    )
    assert [lab.value for lab in record.series(Analyte.platelets)] == [150, 90]
    latest = record.latest(Analyte.platelets, dt.date(2026, 3, 1))
    assert latest is not None and latest.value == 150


def test_isotype_labels() -> None:
    assert Isotype(light_chain=LightChain.lambda_).label() == "light-chain lambda"
    assert Isotype(light_chain=LightChain.lambda_).light_chain_only
    assert Isotype(non_secretory=True).label() == "non-secretory"


def test_schema_is_exported() -> None:
    schema = PatientRecord.model_json_schema()
    assert schema["additionalProperties"] is False
    assert {"car_t", "therapy_lines", "labs", "preferences"} <= set(schema["properties"])
