"""Fitness: age, ECOG, blood counts, liver and kidney function, IgG."""

from __future__ import annotations

import datetime as dt

from myelonav.clinical.renal import ckd_epi_2021, cockcroft_gault
from myelonav.errors import MyelonavError
from myelonav.patient.models import Analyte, LabResult, PatientRecord, Sex
from myelonav.picture.labs import missing_text
from myelonav.picture.sheet import FactSheet

ADULT_AGE = 18
_CLINICAL_NAME = {Analyte.igg: "IgG"}

_LAB_FACTS = (
    ("platelets", Analyte.platelets, "×10⁹/L", "platelet count"),
    ("anc", Analyte.anc, "×10⁹/L", "neutrophil count (infection-fighting white cells)"),
    ("hemoglobin", Analyte.hemoglobin, "g/dL", "hemoglobin"),
    ("bilirubin_mg_dl", Analyte.bilirubin, "mg/dL", "bilirubin (a liver test)"),
    ("igg_mg_dl", Analyte.igg, "mg/dL", "IgG (an antibody level)"),
)


def fitness_facts(
    record: PatientRecord,
    as_of: dt.date,
    current: dict[Analyte, LabResult],
    stale: dict[Analyte, LabResult],
    sheet: FactSheet,
) -> None:
    age = record.demographics.age_on(as_of)
    if age is None:
        sheet.unknown("age", "age not known", "Your age is not in your record.")
    else:
        sheet.set("age", age, f"age {age} on {as_of}", f"You are {age}.")
        if age < ADULT_AGE:
            sheet.note(
                "demographics.birth_date",
                f"age {age} is under {ADULT_AGE}: the adult kidney equations and most adult "
                "evidence do not apply",
                f"Your record says you are {age}. myelonav is written for adults, so kidney "
                "function was not calculated. Please check the birth date.",
            )
    ecog = record.latest_ecog(as_of)
    if ecog is None:
        sheet.unknown(
            "ecog",
            "ECOG performance status not recorded",
            "How much you can do in a day (ECOG) is not recorded.",
        )
    else:
        sheet.set("ecog", ecog.score, f"ECOG {ecog.score} ({ecog.date or 'undated'})")
    for name, analyte, unit, plain_name in _LAB_FACTS:
        lab = current.get(analyte)
        if lab is None or lab.value is None:
            why = missing_text(analyte, stale, as_of)
            sheet.unknown(name, why, f"A recent {plain_name} is not in your record.")
        else:
            sheet.set(
                name,
                lab.value,
                f"{_CLINICAL_NAME.get(analyte, analyte.value)} {lab.value:g} {unit} on {lab.date}",
                f"Your {plain_name} was {lab.value:g} {unit} on {lab.date}.",
            )
    _kidney(record.demographics.sex, as_of, age, current, stale, sheet)


def _kidney(
    sex: Sex,
    as_of: dt.date,
    age: int | None,
    current: dict[Analyte, LabResult],
    stale: dict[Analyte, LabResult],
    sheet: FactSheet,
) -> None:
    creatinine = current.get(Analyte.creatinine)
    # weight changes slowly: an older plausible weight still serves Cockcroft-Gault
    weight = current.get(Analyte.body_weight) or stale.get(Analyte.body_weight)
    plain_unknown = "Your kidney function could not be worked out from your record."
    reasons: list[str] = []
    if creatinine is None or creatinine.value is None:
        reasons.append(missing_text(Analyte.creatinine, stale, as_of))
    if age is None:
        reasons.append("age not known")
    elif age < 18:
        reasons.append(f"age {age} is outside the adult equations")
    if sex not in (Sex.female, Sex.male):
        reasons.append("sex (female or male) is needed by the kidney equations")
        sheet.note(
            "demographics.sex",
            "sex not recorded as female or male: CrCl and eGFR cannot be calculated",
            "Your record does not say female or male, which the kidney formulas need.",
        )
    crcl_reasons = list(reasons)
    if weight is None or weight.value is None or weight.value <= 0:
        crcl_reasons.append("a plausible body weight is needed for creatinine clearance")
    if crcl_reasons:
        sheet.unknown("crcl_ml_min", "; ".join(crcl_reasons), plain_unknown)
    else:
        assert creatinine is not None and creatinine.value is not None and age is not None
        assert weight is not None and weight.value is not None
        try:
            crcl = cockcroft_gault(
                age=age, weight_kg=weight.value, sex=sex, creatinine=creatinine.value
            ).value
        except MyelonavError as exc:
            sheet.unknown(
                "crcl_ml_min", f"creatinine clearance not calculated: {exc}", plain_unknown
            )
        else:
            sheet.set(
                "crcl_ml_min",
                round(crcl, 1),
                f"creatinine clearance {crcl:.0f} mL/min (Cockcroft-Gault: creatinine "
                f"{creatinine.value:g} mg/dL on {creatinine.date}, weight {weight.value:g} kg)",
                f"Your kidneys clear about {crcl:.0f} mL of blood a minute (from a creatinine "
                f"test on {creatinine.date}).",
            )
    if reasons:
        sheet.unknown("egfr", "; ".join(reasons), plain_unknown)
        return
    assert creatinine is not None and creatinine.value is not None and age is not None
    try:
        egfr = ckd_epi_2021(age=age, sex=sex, creatinine=creatinine.value).value
    except MyelonavError as exc:
        sheet.unknown("egfr", f"eGFR not calculated: {exc}", plain_unknown)
        return
    sheet.set(
        "egfr",
        round(egfr, 1),
        f"eGFR {egfr:.0f} mL/min/1.73 m² (CKD-EPI 2021, creatinine {creatinine.value:g} mg/dL "
        f"on {creatinine.date})",
    )


__all__ = ["ADULT_AGE", "fitness_facts"]
