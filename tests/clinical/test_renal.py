"""Cockcroft-Gault 1976 and CKD-EPI 2021 (Inker et al., NEJM 2021)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.clinical.renal import (
    ckd_epi_2021,
    cockcroft_gault,
    creatinine_mg_dl,
    renal_from_record,
)
from myelonav.errors import CalculationError, InputError
from myelonav.patient.models import Analyte, Demographics, LabResult, PatientRecord, Sex


def test_cockcroft_gault_worked_example() -> None:
    # (140 - 60) x 72 / (72 x 1.0) = 80 mL/min; x 0.85 for a woman = 68
    assert cockcroft_gault(age=60, weight_kg=72, sex=Sex.male, creatinine=1.0).value == 80
    assert cockcroft_gault(age=60, weight_kg=72, sex=Sex.female, creatinine=1.0).value == (
        pytest.approx(68)
    )


def test_ckd_epi_2021_worked_examples() -> None:
    # 55-year-old woman, creatinine 0.9 mg/dL: about 76 (NKF worked example)
    assert ckd_epi_2021(age=55, sex=Sex.female, creatinine=0.9).value == pytest.approx(75.6,
                                                                                        abs=0.5)
    # at the hinge (Scr = kappa) only the age and sex terms remain
    v = ckd_epi_2021(age=50, sex=Sex.male, creatinine=0.9).value
    assert v == pytest.approx(142 * 0.9938**50)
    v = ckd_epi_2021(age=50, sex=Sex.female, creatinine=0.7).value
    assert v == pytest.approx(142 * 0.9938**50 * 1.012)


def test_units_and_refusals() -> None:
    assert creatinine_mg_dl(88.42, "µmol/L") == pytest.approx(1.0)
    assert creatinine_mg_dl(1.2, "mg/dL") == 1.2
    with pytest.raises(InputError, match="unit"):
        creatinine_mg_dl(1.2, "mmol/mol")
    with pytest.raises(CalculationError, match="female or male"):
        ckd_epi_2021(age=50, sex=Sex.unknown, creatinine=1.0)
    with pytest.raises(InputError, match="age"):
        ckd_epi_2021(age=12, sex=Sex.male, creatinine=1.0)


@given(st.floats(18, 100), st.floats(0.2, 10), st.floats(0.2, 10), st.sampled_from([Sex.male,
                                                                                     Sex.female]))
def test_both_fall_as_creatinine_rises(age: float, a: float, b: float, sex: Sex) -> None:
    lo, hi = sorted((a, b))
    assert ckd_epi_2021(age=age, sex=sex, creatinine=lo).value >= ckd_epi_2021(
        age=age, sex=sex, creatinine=hi).value
    assert cockcroft_gault(age=age, weight_kg=70, sex=sex, creatinine=lo).value >= (
        cockcroft_gault(age=age, weight_kg=70, sex=sex, creatinine=hi).value)


def test_from_record() -> None:
    d = dt.date(2026, 10, 20)
    record = PatientRecord(
        id="r1",
        demographics=Demographics(birth_date=dt.date(1952, 6, 30), sex=Sex.male),
        labs=[
            LabResult(analyte=Analyte.creatinine, date=d, value=2.3),
            LabResult(analyte=Analyte.body_weight, date=d, value=70),
        ],
    )
    res = renal_from_record(record, as_of=dt.date(2026, 11, 1))
    assert res.cockcroft_gault is not None and res.ckd_epi_2021 is not None
    assert res.cockcroft_gault.value == pytest.approx((140 - 74) * 70 / (72 * 2.3))
    assert res.problems == []
    with pytest.raises(CalculationError, match="creatinine"):
        renal_from_record(record, as_of=dt.date(2026, 1, 1))
