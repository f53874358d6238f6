from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.errors import UnitError
from myelonav.patient.models import Analyte
from myelonav.patient.units import to_canonical


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [
        (Analyte.hemoglobin, 104, "g/L", 10.4),
        (Analyte.anc, 1.7, "10*3/uL", 1.7),
        (Analyte.anc, 1700, "/uL", 1.7),
        (Analyte.platelets, 75000, "/mm3", 75.0),
        (Analyte.platelets, 88, "10^9/L", 88.0),
        (Analyte.creatinine, 88.42, "umol/L", 1.0),
        (Analyte.creatinine, 88.42, "µmol/L", 1.0),
        (Analyte.calcium, 2.5, "mmol/L", 10.02),
        (Analyte.albumin, 38, "g/L", 3.8),
        (Analyte.serum_m_protein, 16, "g/L", 1.6),
        (Analyte.kappa_flc, 9.6, "mg/dL", 96.0),
        (Analyte.lambda_flc, 145, "mg/L", 145.0),
        (Analyte.urine_m_protein, 0.85, "g/(24.h)", 850.0),
        (Analyte.igg, 4.2, "g/L", 420.0),
        (Analyte.body_weight, 150, "[lb_av]", 68.038856),
        (Analyte.flc_ratio, 12.5, None, 12.5),
    ],
)
def test_conversions(analyte: Analyte, value: float, unit: str | None, expected: float) -> None:
    assert to_canonical(analyte, value, unit) == pytest.approx(expected, rel=1e-4)


def test_unknown_unit_names_the_location() -> None:
    with pytest.raises(UnitError, match=r"entry\[3\].*furlongs.*hemoglobin"):
        to_canonical(Analyte.hemoglobin, 10, "furlongs", where="entry[3]")


def test_missing_unit_is_an_error_for_concentrations() -> None:
    with pytest.raises(UnitError, match="no unit"):
        to_canonical(Analyte.creatinine, 1.0, None)


def test_implausible_value_points_at_the_unit() -> None:
    # haemoglobin 104 "g/dL" is a g/L value mislabelled
    with pytest.raises(UnitError, match="plausible range"):
        to_canonical(Analyte.hemoglobin, 104, "g/dL")


@given(st.floats(min_value=0, max_value=10000, allow_nan=False))
def test_light_chain_mg_dl_is_ten_times_mg_l(value: float) -> None:
    assert to_canonical(Analyte.kappa_flc, value, "mg/dL") == pytest.approx(
        to_canonical(Analyte.kappa_flc, value * 10, "mg/L"), rel=1e-6, abs=1e-6
    )
