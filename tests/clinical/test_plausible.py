"""Plausibility limits on calculator inputs: a typed error naming the field, never a grade."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.clinical import astct, plausible, renal, staging
from myelonav.errors import CalculationError, ImplausibleInputError, InputError
from myelonav.patient.models import Analyte, LabResult, PatientRecord, Sex


def test_fahrenheit_temperature_is_refused_with_a_celsius_guess() -> None:
    with pytest.raises(ImplausibleInputError) as info:
        astct.crs_grade(max_temperature_c=101.0)
    assert info.value.field == "temperature"
    assert "101 looks like °F" in info.value.plain and "38.3 °C" in info.value.plain
    with pytest.raises(ImplausibleInputError, match="not plausible"):
        astct.crs_grade(max_temperature_c=20.0)
    assert astct.crs_grade(max_temperature_c=38.3).grade == 1


def test_creatinine_in_umol_typed_as_mg_dl_is_refused() -> None:
    with pytest.raises(ImplausibleInputError, match="looks like µmol/L") as info:
        renal.ckd_epi_2021(age=60, sex=Sex.male, creatinine=150.0)
    assert info.value.field == "creatinine" and "1.70 mg/dL" in info.value.plain
    with pytest.raises(ImplausibleInputError):
        renal.creatinine_mg_dl(0.0, "mg/dL")
    assert renal.creatinine_mg_dl(150.0, "umol/L") == pytest.approx(1.696, abs=1e-3)


def test_weight_zero_and_child_age_are_refused() -> None:
    with pytest.raises(ImplausibleInputError) as info:
        renal.cockcroft_gault(age=60, weight_kg=0.0, sex=Sex.female, creatinine=1.0)
    assert info.value.field == "weight"
    with pytest.raises(ImplausibleInputError) as info:
        renal.ckd_epi_2021(age=17, sex=Sex.female, creatinine=1.0)
    assert info.value.field == "age" and "adult equations" in info.value.plain


def test_oxygen_flow_limits() -> None:
    with pytest.raises(ImplausibleInputError):
        astct.oxygen_from_flow(-1.0)
    with pytest.raises(ImplausibleInputError):
        astct.oxygen_from_flow(200.0)


def test_error_is_both_an_input_and_a_calculation_error() -> None:
    # callers that turn calculator failures into "unknown" keep working
    err = ImplausibleInputError("weight", "weight 0 kg is not plausible")
    assert isinstance(err, InputError) and isinstance(err, CalculationError)
    assert err.location == "weight" and str(err) == "weight: weight 0 kg is not plausible"


def test_record_values_name_the_record_field() -> None:
    day = dt.date(2026, 1, 1)
    record = PatientRecord(
        id="w0",
        demographics={"birth_date": dt.date(1960, 1, 1), "sex": "male"},
        labs=[
            LabResult(analyte=Analyte.creatinine, date=day, value=1.0),
            LabResult(analyte=Analyte.body_weight, date=day, value=0.0),
        ],
    )
    with pytest.raises(ImplausibleInputError) as info:
        renal.renal_from_record(record, as_of=day)
    assert info.value.field == "labs.body_weight"
    zero_creatinine = record.model_copy(
        update={"labs": [LabResult(analyte=Analyte.creatinine, date=day, value=0.0)]}
    )
    with pytest.raises(ImplausibleInputError) as info:
        renal.renal_from_record(zero_creatinine, as_of=day)
    assert info.value.field == "labs.creatinine"
    child = record.model_copy(
        update={
            "demographics": record.demographics.model_copy(
                update={"birth_date": dt.date(2009, 6, 1)}
            )
        }
    )
    with pytest.raises(ImplausibleInputError) as info:
        renal.renal_from_record(child, as_of=day)
    assert info.value.field == "demographics.birth_date"


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_number_gives_a_value_or_the_typed_error(x: float) -> None:
    for check in (
        plausible.temperature_c,
        plausible.creatinine_mg_dl,
        plausible.weight_kg,
        plausible.adult_age,
        plausible.oxygen_flow_l_min,
        plausible.beta2_microglobulin_mg_l,
        plausible.albumin_g_dl,
    ):
        try:
            assert check(x) == x
        except ImplausibleInputError as exc:
            assert exc.field and exc.plain


def test_staging_rejects_implausible_albumin() -> None:
    with pytest.raises(ImplausibleInputError, match=r"did you mean 3\.5 g/dL"):
        staging.iss(staging.StagingInputs(beta2_microglobulin_mg_l=2.0, albumin_g_dl=35.0))
