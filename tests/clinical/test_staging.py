"""ISS (Greipp 2005), R-ISS (Palumbo 2015), R2-ISS (D'Agostino 2022)."""

from __future__ import annotations

import datetime as dt

import pytest

from myelonav.clinical.staging import StagingInputs, inputs_from_record, iss, r2_iss, r_iss
from myelonav.errors import CalculationError, ImplausibleInputError
from myelonav.patient.models import (
    Analyte,
    CytogeneticAbnormality,
    CytogeneticFinding,
    Diagnosis,
    LabResult,
    PatientRecord,
    Qualitative,
    TherapyLine,
)


def test_iss_boundaries() -> None:
    assert iss(StagingInputs(3.4, 3.5)).stage == 1
    assert iss(StagingInputs(3.4, 3.4)).stage == 2
    assert iss(StagingInputs(3.5, 4.0)).stage == 2
    assert iss(StagingInputs(5.4, None)).stage == 2  # albumin not needed
    assert iss(StagingInputs(5.5, None)).stage == 3
    with pytest.raises(CalculationError, match="beta2-microglobulin"):
        iss(StagingInputs(None, 4.0))
    with pytest.raises(CalculationError, match="albumin"):
        iss(StagingInputs(2.0, None))


def standard(**kw: object) -> StagingInputs:
    base: dict[str, object] = dict(
        beta2_microglobulin_mg_l=2.0,
        albumin_g_dl=4.0,
        ldh_high=False,
        del_17p=False,
        t_4_14=False,
        t_14_16=False,
        gain_1q=False,
    )
    base.update(kw)
    return StagingInputs(**base)  # type: ignore[arg-type]


def test_r_iss() -> None:
    assert r_iss(standard()).stage == 1
    assert r_iss(standard(t_14_16=True)).stage == 2
    assert r_iss(standard(beta2_microglobulin_mg_l=6.0)).stage == 2
    assert r_iss(standard(beta2_microglobulin_mg_l=6.0, ldh_high=True)).stage == 3
    assert r_iss(standard(beta2_microglobulin_mg_l=6.0, del_17p=True, ldh_high=None)).stage == 3
    with pytest.raises(CalculationError, match=r"t\(4;14\), LDH"):
        r_iss(standard(t_4_14=None, ldh_high=None))


def test_r2_iss_points_and_groups() -> None:
    assert (r2_iss(standard()).stage, r2_iss(standard()).score) == (1, 0.0)
    assert r2_iss(standard(gain_1q=True)).stage == 2  # 0.5
    assert r2_iss(standard(beta2_microglobulin_mg_l=4.0)).stage == 2  # ISS II = 1
    s = r2_iss(standard(beta2_microglobulin_mg_l=6.0, gain_1q=True))  # 1.5 + 0.5 = 2
    assert (s.stage, s.score) == (3, 2.0)
    s = r2_iss(standard(beta2_microglobulin_mg_l=6.0, del_17p=True, ldh_high=True))
    assert (s.stage, s.score) == (4, 3.5)
    s = r2_iss(
        standard(
            beta2_microglobulin_mg_l=6.0, del_17p=True, ldh_high=True, t_4_14=True, gain_1q=True
        )
    )
    assert (s.stage, s.score) == (4, 5.0)


def test_r2_iss_unknowns() -> None:
    # unknown 1q could move 0 -> 0.5 (group I -> II): cannot stage
    with pytest.raises(CalculationError, match="1q"):
        r2_iss(standard(gain_1q=None))
    # already 3.5 points: unknown 1q cannot change group IV
    s = r2_iss(standard(beta2_microglobulin_mg_l=6.0, del_17p=True, ldh_high=True, gain_1q=None))
    assert s.stage == 4


def test_inputs_from_record() -> None:
    d = dt.date(2020, 5, 4)
    record = PatientRecord(
        id="s1",
        diagnosis=Diagnosis(date=d),
        labs=[
            LabResult(analyte=Analyte.beta2_microglobulin, date=d, value=6.1),
            LabResult(analyte=Analyte.albumin, date=d, value=3.1),
            LabResult(analyte=Analyte.ldh, date=d, qualitative=Qualitative.high),
            LabResult(analyte=Analyte.beta2_microglobulin, date=dt.date(2026, 1, 1), value=2.0),
        ],
        cytogenetics=[
            CytogeneticFinding(abnormality=CytogeneticAbnormality.del_17p, date=d),
            CytogeneticFinding(abnormality=CytogeneticAbnormality.amp_1q, date=d),
        ],
    )
    inputs = inputs_from_record(record)
    assert inputs.beta2_microglobulin_mg_l == 6.1  # the diagnosis value, not the later one
    assert inputs.ldh_high is True and inputs.del_17p is True and inputs.gain_1q is True
    assert inputs.t_4_14 is None
    assert r_iss(inputs).stage == 3
    assert r2_iss(inputs).stage == 4  # 1.5 + 1 + 1 + 0.5 = 4, t(4;14) unknown cannot change it


# --- diagnosis window (R-ISS, Palumbo 2015 and R2-ISS, D'Agostino 2022 stage at diagnosis)

DIAG = dt.date(2020, 5, 4)


def _record(**kw: object) -> PatientRecord:
    base: dict[str, object] = {
        "id": "w1",
        "diagnosis": Diagnosis(date=DIAG),
        "labs": [
            LabResult(analyte=Analyte.beta2_microglobulin, date=DIAG, value=2.0),
            LabResult(analyte=Analyte.albumin, date=DIAG, value=4.0),
            LabResult(analyte=Analyte.ldh, date=DIAG, qualitative=Qualitative.normal),
        ],
        "therapy_lines": [
            TherapyLine(
                agents=["bortezomib", "lenalidomide", "dexamethasone"],
                start=DIAG + dt.timedelta(days=20),
            )
        ],
    }
    base.update(kw)
    return PatientRecord.model_validate(base)


def _fish(day: dt.date | None, **detected: bool) -> list[CytogeneticFinding]:
    names = {
        "del_17p": CytogeneticAbnormality.del_17p,
        "t_4_14": CytogeneticAbnormality.t_4_14,
        "t_14_16": CytogeneticAbnormality.t_14_16,
        "gain_1q": CytogeneticAbnormality.gain_1q,
    }
    return [
        CytogeneticFinding(abnormality=names[k], detected=v, date=day) for k, v in detected.items()
    ]


def test_fish_first_found_at_relapse_is_not_diagnosis_fish() -> None:
    at_diag = _fish(DIAG, del_17p=False, t_4_14=False, t_14_16=False, gain_1q=False)
    at_relapse = _fish(dt.date(2024, 2, 1), del_17p=True, gain_1q=True)
    record = _record(cytogenetics=at_diag + at_relapse)
    inputs = inputs_from_record(record)
    assert inputs.del_17p is False and inputs.gain_1q is False
    assert r_iss(inputs).stage == 1
    only_relapse = _record(cytogenetics=at_relapse)
    with pytest.raises(CalculationError, match="no diagnosis-time del\\(17p\\)"):
        r_iss(inputs_from_record(only_relapse))


def test_undated_fish_cannot_be_placed_at_diagnosis() -> None:
    record = _record(cytogenetics=_fish(None, del_17p=True, t_4_14=False, t_14_16=False))
    inputs = inputs_from_record(record)
    assert inputs.del_17p is None
    with pytest.raises(CalculationError, match="cannot stage R-ISS: no diagnosis-time"):
        r_iss(inputs)


def test_post_treatment_labs_are_not_diagnosis_labs() -> None:
    after_start = DIAG + dt.timedelta(days=40)  # within 90 days, but after treatment began
    record = _record(
        labs=[
            LabResult(analyte=Analyte.beta2_microglobulin, date=after_start, value=6.0),
            LabResult(analyte=Analyte.albumin, date=after_start, value=3.0),
        ]
    )
    inputs = inputs_from_record(record)
    assert inputs.beta2_microglobulin_mg_l is None and inputs.albumin_g_dl is None
    with pytest.raises(CalculationError, match="no diagnosis-time beta2-microglobulin"):
        iss(inputs)


def test_labs_drawn_the_day_treatment_starts_are_diagnosis_labs() -> None:
    start = DIAG + dt.timedelta(days=20)
    record = _record(
        labs=[
            LabResult(analyte=Analyte.beta2_microglobulin, date=start, value=6.0),
        ]
    )
    assert iss(inputs_from_record(record)).stage == 3


def test_staging_inputs_have_plausibility_limits() -> None:
    with pytest.raises(ImplausibleInputError, match="looks like g/L") as info:
        iss(StagingInputs(beta2_microglobulin_mg_l=2.0, albumin_g_dl=35.0))
    assert info.value.field == "albumin"
    with pytest.raises(ImplausibleInputError) as info:
        iss(StagingInputs(beta2_microglobulin_mg_l=0.0, albumin_g_dl=3.5))
    assert info.value.field == "beta2_microglobulin"
