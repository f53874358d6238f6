"""Kidney function: Cockcroft-Gault creatinine clearance and CKD-EPI 2021 eGFR.

* Cockcroft DW, Gault MH. Nephron 1976;16:31-41: CrCl (mL/min) =
  (140 - age) x weight (kg) / (72 x serum creatinine mg/dL), x 0.85 for women.
* Inker LA, et al. N Engl J Med 2021;385:1737-49 (race-free CKD-EPI creatinine equation):
  eGFR (mL/min/1.73 m2) = 142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age
  [x 1.012 if female]; k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M).

Both need a sex the equations define (female or male); any other value is refused rather than
guessed. Creatinine may be given in mg/dL or umol/L.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from myelonav.clinical import plausible
from myelonav.clinical import thresholds as t
from myelonav.errors import CalculationError, InputError
from myelonav.patient.models import Analyte, PatientRecord, Sex


@dataclass(frozen=True, slots=True)
class RenalResult:
    name: str
    value: float
    unit: str
    inputs: dict[str, float | str]


def creatinine_mg_dl(value: float, unit: str) -> float:
    """Serum creatinine in mg/dL from mg/dL or umol/L (1 mg/dL = 88.42 umol/L), checked for
    plausibility (``ImplausibleInputError`` naming ``creatinine``)."""
    folded = unit.strip().lower().replace("µ", "u").replace("μ", "u")
    if folded in ("mg/dl",):
        return plausible.creatinine_mg_dl(value)
    if folded in ("umol/l",):
        return plausible.creatinine_mg_dl(value / t.CREATININE_UMOL_PER_MG_DL)
    raise InputError(f"creatinine unit {unit!r} is not mg/dL or umol/L", location="creatinine")


def _check_sex(sex: Sex) -> None:
    if sex not in (Sex.female, Sex.male):
        raise CalculationError(
            "the equation needs sex recorded as female or male", location="demographics.sex"
        )


def _check_age(age: float) -> None:
    plausible.adult_age(age)


def cockcroft_gault(*, age: float, weight_kg: float, sex: Sex, creatinine: float) -> RenalResult:
    """Creatinine clearance (mL/min) by Cockcroft-Gault 1976; ``creatinine`` in mg/dL."""
    _check_age(age)
    _check_sex(sex)
    plausible.weight_kg(weight_kg)
    plausible.creatinine_mg_dl(creatinine)
    value = (t.CG_AGE_CONSTANT - age) * weight_kg / (t.CG_DIVISOR * creatinine)
    if sex is Sex.female:
        value *= t.CG_FEMALE_FACTOR
    return RenalResult(
        "Cockcroft-Gault creatinine clearance",
        value,
        "mL/min",
        {"age": age, "weight_kg": weight_kg, "sex": sex.value, "creatinine_mg_dl": creatinine},
    )


def ckd_epi_2021(*, age: float, sex: Sex, creatinine: float) -> RenalResult:
    """eGFR (mL/min/1.73 m2) by the race-free CKD-EPI 2021 creatinine equation (Inker 2021)."""
    _check_age(age)
    _check_sex(sex)
    plausible.creatinine_mg_dl(creatinine)
    female = sex is Sex.female
    kappa = t.CKD_EPI_2021_KAPPA_FEMALE if female else t.CKD_EPI_2021_KAPPA_MALE
    alpha = t.CKD_EPI_2021_ALPHA_FEMALE if female else t.CKD_EPI_2021_ALPHA_MALE
    ratio = creatinine / kappa
    value = (
        t.CKD_EPI_2021_CONSTANT
        * min(ratio, 1.0) ** alpha
        * max(ratio, 1.0) ** t.CKD_EPI_2021_UPPER_EXPONENT
        * t.CKD_EPI_2021_AGE_BASE**age
    )
    if female:
        value *= t.CKD_EPI_2021_FEMALE_FACTOR
    return RenalResult(
        "CKD-EPI 2021 eGFR",
        value,
        "mL/min/1.73 m2",
        {"age": age, "sex": sex.value, "creatinine_mg_dl": creatinine},
    )


@dataclass(frozen=True, slots=True)
class RecordRenal:
    creatinine_date: dt.date
    cockcroft_gault: RenalResult | None
    ckd_epi_2021: RenalResult | None
    problems: list[str]


def renal_from_record(record: PatientRecord, *, as_of: dt.date) -> RecordRenal:
    """Both estimates from the latest creatinine (and weight) on or before ``as_of``.

    An implausible creatinine, weight or age raises ``ImplausibleInputError`` naming the
    record field (``labs.creatinine``, ``labs.body_weight``, ``demographics.birth_date``)."""
    creat = record.latest(Analyte.creatinine, as_of)
    if creat is None or creat.value is None:
        raise CalculationError(
            "no creatinine result on or before " + as_of.isoformat(), location="labs.creatinine"
        )
    age = record.demographics.age_on(creat.date)
    problems: list[str] = []
    sex = record.demographics.sex
    cg: RenalResult | None = None
    epi: RenalResult | None = None
    if age is None:
        problems.append("age unknown (demographics.birth_date or age_years)")
    if sex not in (Sex.female, Sex.male):
        problems.append("sex not recorded as female or male (demographics.sex)")
    weight = record.latest(Analyte.body_weight, as_of)
    plausible.creatinine_mg_dl(creat.value, "labs.creatinine")
    if age is not None:
        born = record.demographics.birth_date is not None
        plausible.adult_age(age, "demographics.birth_date" if born else "demographics.age_years")
    if weight is not None and weight.value is not None:
        plausible.weight_kg(weight.value, "labs.body_weight")
    if age is not None and sex in (Sex.female, Sex.male):
        epi = ckd_epi_2021(age=age, sex=sex, creatinine=creat.value)
        if weight is None or weight.value is None:
            problems.append("no body weight for Cockcroft-Gault (labs.body_weight)")
        else:
            cg = cockcroft_gault(age=age, weight_kg=weight.value, sex=sex, creatinine=creat.value)
    return RecordRenal(creat.date, cg, epi, problems)


__all__ = [
    "RecordRenal",
    "RenalResult",
    "ckd_epi_2021",
    "cockcroft_gault",
    "creatinine_mg_dl",
    "renal_from_record",
]
