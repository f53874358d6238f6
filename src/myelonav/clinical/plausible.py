"""Plausibility checks for calculator inputs (limits in ``thresholds``, "plausibility").

Each check returns the value unchanged or raises ``ImplausibleInputError`` naming the field,
with a unit guess when the number fits a common mistake ("101 looks like °F — did you mean
38.3 °C?"). Nothing is converted silently: the user confirms the unit.
"""

from __future__ import annotations

from myelonav.clinical import thresholds as t
from myelonav.errors import ImplausibleInputError


def _within(value: float, limits: tuple[float, float]) -> bool:
    low, high = limits
    return value == value and low <= value <= high


def temperature_c(value: float, field: str = "temperature") -> float:
    if _within(value, t.PLAUSIBLE_TEMPERATURE_C):
        return value
    if _within(value, t.FAHRENHEIT_RANGE):
        celsius = (value - 32.0) * 5.0 / 9.0
        raise ImplausibleInputError(
            field,
            f"temperature {value:g} looks like °F — did you mean {celsius:.1f} °C? "
            "Give the temperature in °C.",
        )
    low, high = t.PLAUSIBLE_TEMPERATURE_C
    raise ImplausibleInputError(
        field, f"temperature {value:g} °C is not plausible (expected {low:g}-{high:g} °C)"
    )


def creatinine_mg_dl(value: float, field: str = "creatinine") -> float:
    if _within(value, t.PLAUSIBLE_CREATININE_MG_DL):
        return value
    low, high = t.PLAUSIBLE_CREATININE_MG_DL
    as_mg_dl = value / t.CREATININE_UMOL_PER_MG_DL
    if value > high and _within(as_mg_dl, t.PLAUSIBLE_CREATININE_MG_DL):
        raise ImplausibleInputError(
            field,
            f"creatinine {value:g} mg/dL is not plausible; {value:g} looks like µmol/L — did "
            f"you mean {as_mg_dl:.2f} mg/dL?",
        )
    raise ImplausibleInputError(
        field,
        f"creatinine {value:g} mg/dL is not plausible (expected {low:g}-{high:g} mg/dL); "
        "kidney function cannot be estimated from it",
    )


def weight_kg(value: float, field: str = "weight") -> float:
    if _within(value, t.PLAUSIBLE_WEIGHT_KG):
        return value
    low, high = t.PLAUSIBLE_WEIGHT_KG
    raise ImplausibleInputError(
        field, f"weight {value:g} kg is not plausible for an adult (expected {low:g}-{high:g} kg)"
    )


def adult_age(value: float, field: str = "age") -> float:
    if _within(value, t.ADULT_AGE_YEARS):
        return value
    low, high = t.ADULT_AGE_YEARS
    raise ImplausibleInputError(
        field,
        f"age {value:g} years is outside the adult equations ({low:g}-{high:g} years); "
        "they are not valid for this age",
    )


def oxygen_flow_l_min(value: float, field: str = "oxygen_flow") -> float:
    if _within(value, t.PLAUSIBLE_OXYGEN_FLOW_L_MIN):
        return value
    low, high = t.PLAUSIBLE_OXYGEN_FLOW_L_MIN
    raise ImplausibleInputError(
        field, f"oxygen flow {value:g} L/min is not plausible (expected {low:g}-{high:g} L/min)"
    )


def beta2_microglobulin_mg_l(value: float, field: str = "beta2_microglobulin") -> float:
    if _within(value, t.PLAUSIBLE_B2M_MG_L):
        return value
    low, high = t.PLAUSIBLE_B2M_MG_L
    raise ImplausibleInputError(
        field,
        f"beta2-microglobulin {value:g} mg/L is not plausible (expected {low:g}-{high:g} mg/L)",
    )


def albumin_g_dl(value: float, field: str = "albumin") -> float:
    if _within(value, t.PLAUSIBLE_ALBUMIN_G_DL):
        return value
    as_g_dl = value / t.ALBUMIN_G_L_PER_G_DL
    if value > t.PLAUSIBLE_ALBUMIN_G_DL[1] and _within(as_g_dl, t.PLAUSIBLE_ALBUMIN_G_DL):
        raise ImplausibleInputError(
            field,
            f"albumin {value:g} g/dL is not plausible; {value:g} looks like g/L — did you mean "
            f"{as_g_dl:.1f} g/dL?",
        )
    low, high = t.PLAUSIBLE_ALBUMIN_G_DL
    raise ImplausibleInputError(
        field, f"albumin {value:g} g/dL is not plausible (expected {low:g}-{high:g} g/dL)"
    )


__all__ = [
    "adult_age",
    "albumin_g_dl",
    "beta2_microglobulin_mg_l",
    "creatinine_mg_dl",
    "oxygen_flow_l_min",
    "temperature_c",
    "weight_kg",
]
