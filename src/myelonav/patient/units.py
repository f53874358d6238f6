"""Unit normalisation: every analyte into its one canonical unit (``models.CANONICAL_UNIT``).

Source units are matched after light folding (case, spaces, UCUM brackets, ``^`` vs ``*``,
``µ``/``u``), so "10^9/L", "10*9/L" and "x10E9/L" are the same. Light chains are the classic
tenfold trap (mg/L vs mg/dL); both are accepted and converted, and a plausibility range per
analyte catches a value that only makes sense in the other unit.
"""

from __future__ import annotations

import re

from myelonav.errors import UnitError
from myelonav.patient.models import CANONICAL_UNIT, Analyte

# factor to multiply a value in the source unit by to get the canonical unit
_CELL_COUNT = {
    "10*9/l": 1.0,
    "10*3/ul": 1.0,
    "10*3/mm3": 1.0,
    "k/ul": 1.0,
    "thou/ul": 1.0,
    "10*3/microl": 1.0,
    "/ul": 0.001,
    "/mm3": 0.001,
    "cells/ul": 0.001,
    "1/ul": 0.001,
    "10*6/l": 0.001,
}
_ENZYME = {"u/l": 1.0, "iu/l": 1.0, "[iu]/l": 1.0, "ukat/l": 60.0}

_FACTORS: dict[Analyte, dict[str, float]] = {
    Analyte.hemoglobin: {"g/dl": 1.0, "g/l": 0.1, "mmol/l": 1.6114, "mg/dl": 0.001},
    Analyte.anc: _CELL_COUNT,
    Analyte.platelets: _CELL_COUNT,
    Analyte.wbc: _CELL_COUNT,
    Analyte.lymphocytes: _CELL_COUNT,
    Analyte.creatinine: {"mg/dl": 1.0, "umol/l": 1 / 88.42, "mmol/l": 1000 / 88.42},
    Analyte.bilirubin: {"mg/dl": 1.0, "umol/l": 1 / 17.104},
    Analyte.ast: _ENZYME,
    Analyte.alt: _ENZYME,
    Analyte.ldh: _ENZYME,
    Analyte.calcium: {"mg/dl": 1.0, "mmol/l": 4.008, "meq/l": 2.004},
    Analyte.albumin: {"g/dl": 1.0, "g/l": 0.1},
    Analyte.beta2_microglobulin: {"mg/l": 1.0, "ug/ml": 1.0, "mg/dl": 10.0, "ug/l": 0.001},
    Analyte.igg: {"mg/dl": 1.0, "g/l": 100.0, "g/dl": 1000.0},
    Analyte.body_weight: {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237, "lb": 0.45359237},
    Analyte.body_height: {"cm": 1.0, "m": 100.0, "[in_i]": 2.54, "in": 2.54},
    Analyte.serum_m_protein: {"g/dl": 1.0, "g/l": 0.1, "mg/dl": 0.001},
    Analyte.urine_m_protein: {
        "mg/24h": 1.0,
        "mg/(24.h)": 1.0,
        "mg/d": 1.0,
        "mg/24hr": 1.0,
        "g/24h": 1000.0,
        "g/(24.h)": 1000.0,
        "g/d": 1000.0,
    },
    Analyte.kappa_flc: {"mg/l": 1.0, "mg/dl": 10.0, "ug/ml": 1.0},
    Analyte.lambda_flc: {"mg/l": 1.0, "mg/dl": 10.0, "ug/ml": 1.0},
    Analyte.flc_ratio: {"1": 1.0, "{ratio}": 1.0, "ratio": 1.0, "": 1.0},
    Analyte.marrow_plasma_cells: {"%": 1.0},
    Analyte.circulating_plasma_cells: {"%": 1.0},
}

# plausible range in the canonical unit; outside it the value (or its unit) is wrong
PLAUSIBLE: dict[Analyte, tuple[float, float]] = {
    Analyte.hemoglobin: (1.0, 25.0),
    Analyte.anc: (0.0, 100.0),
    Analyte.platelets: (0.0, 3000.0),
    Analyte.wbc: (0.0, 1000.0),
    Analyte.lymphocytes: (0.0, 1000.0),
    Analyte.creatinine: (0.05, 40.0),
    Analyte.bilirubin: (0.0, 60.0),
    Analyte.ast: (0.0, 20000.0),
    Analyte.alt: (0.0, 20000.0),
    Analyte.ldh: (0.0, 50000.0),
    Analyte.calcium: (2.0, 25.0),
    Analyte.albumin: (0.5, 8.0),
    Analyte.beta2_microglobulin: (0.0, 300.0),
    Analyte.igg: (0.0, 20000.0),
    Analyte.body_weight: (1.0, 400.0),
    Analyte.body_height: (30.0, 250.0),
    Analyte.serum_m_protein: (0.0, 25.0),
    Analyte.urine_m_protein: (0.0, 100000.0),
    Analyte.kappa_flc: (0.0, 200000.0),
    Analyte.lambda_flc: (0.0, 200000.0),
    Analyte.flc_ratio: (0.0, 100000.0),
    Analyte.marrow_plasma_cells: (0.0, 100.0),
    Analyte.circulating_plasma_cells: (0.0, 100.0),
}


def fold_unit(unit: str) -> str:
    u = unit.strip().lower().replace("µ", "u").replace("μ", "u").replace(" ", "")
    u = u.replace("^", "*").replace("x10e", "10*").replace("x10*", "10*").replace("e9/l", "*9/l")
    u = re.sub(r"^10\*\*", "10*", u)
    return u


def convertible_units(analyte: Analyte) -> list[str]:
    return sorted(_FACTORS.get(analyte, {}))


def to_canonical(analyte: Analyte, value: float, unit: str | None, *, where: str = "") -> float:
    """Convert ``value`` in ``unit`` to the analyte's canonical unit, checking plausibility."""
    canonical = CANONICAL_UNIT[analyte]
    factors = _FACTORS.get(analyte)
    if factors is None:
        raise UnitError(f"{analyte} is not a numeric analyte", location=where or None)
    folded = fold_unit(unit) if unit is not None else None
    if folded is None or folded not in factors:
        if folded is None and canonical in ("1", "%"):
            factor = 1.0
        else:
            shown = "no unit" if unit is None else f"unit {unit!r}"
            raise UnitError(
                f"{shown} is not known for {analyte.value} "
                f"(expected one of: {', '.join(convertible_units(analyte))})",
                location=where or None,
            )
    else:
        factor = factors[folded]
    result = value * factor
    low, high = PLAUSIBLE[analyte]
    if not low <= result <= high:
        raise UnitError(
            f"{analyte.value} {value} {unit or ''} is outside the plausible range "
            f"{low}–{high} {canonical}; check the value and its unit",
            location=where or None,
        )
    return round(result, 6)


__all__ = ["PLAUSIBLE", "convertible_units", "fold_unit", "to_canonical"]
