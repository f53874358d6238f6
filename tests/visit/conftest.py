"""Records shared by the visit tests, built in code (samples come from myelonav.samples)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from myelonav.patient.models import PatientRecord

AS_OF = dt.date(2026, 11, 25)


def make_record(**parts: Any) -> PatientRecord:
    """A minimal record after BCMA CAR T; ``parts`` override or add fields."""
    base: dict[str, Any] = {
        "id": "visit-test",
        "demographics": {"birth_date": "1960-01-01", "sex": "female", "postal_code": "10016",
                         "country": "US"},
        "diagnosis": {"date": "2019-01-10", "isotype": {"heavy_chain": "IgG",
                                                        "light_chain": "kappa"}},
        "therapy_lines": [
            {"agents": ["bortezomib", "lenalidomide", "dexamethasone"], "start": "2019-02-01",
             "end": "2019-08-01", "best_response": "VGPR", "stop_reason": "progression",
             "refractory": True, "regimen": "VRd"},
        ],
        "car_t": [
            {"product": "ciltacabtagene autoleucel", "target_antigen": "BCMA",
             "infusion_date": "2025-01-15", "crs_max_grade": 1, "icans_max_grade": 0,
             "best_response": "CR", "progression_date": "2026-06-01"},
        ],
        "labs": [
            {"analyte": "hemoglobin", "date": "2026-11-10", "value": 11.0},
            {"analyte": "anc", "date": "2026-11-10", "value": 2.0},
            {"analyte": "platelets", "date": "2026-11-10", "value": 150},
            {"analyte": "creatinine", "date": "2026-11-10", "value": 0.9},
            {"analyte": "body_weight", "date": "2026-11-10", "value": 70},
        ],
    }
    base.update(parts)
    return PatientRecord.model_validate(base)


MakeRecord = Callable[..., PatientRecord]


@pytest.fixture
def make() -> MakeRecord:
    return make_record


@pytest.fixture
def as_of() -> dt.date:
    return AS_OF
