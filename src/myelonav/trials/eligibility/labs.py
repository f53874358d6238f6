"""Evaluators for laboratory thresholds and kidney function."""

from __future__ import annotations

from collections.abc import Callable

from myelonav.clinical import renal
from myelonav.clinical import thresholds as th
from myelonav.errors import MyelonavError
from myelonav.logic import Truth
from myelonav.patient.models import (
    Analyte,
    Sex,
)
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria.models import (
    LabAtom,
)
from myelonav.trials.eligibility.values import Eval, _tri

# When a result carries no upper limit of normal (ULN), the limit is bracketed instead of
# guessed: a value is judged only if it clears the criterion for every ULN in the bracket,
# otherwise it is unknown ("ask for your lab's normal range"). ULNs differ between laboratories,
# regions and sexes (for ALT: Kolahdoozan S, et al. Middle East J Dig Dis 2020;12:194-205,
# doi:10.34172/mejdd.2020.182). The brackets are a project choice meant to span common
# laboratory ranges, not clinical reference values. last_reviewed: 2026-11-25
_ULN_BRACKET = {"ast": (30.0, 80.0), "alt": (30.0, 80.0), "bilirubin": (1.0, 1.5)}
_LAB_ANALYTE = {
    "anc": Analyte.anc,
    "platelets": Analyte.platelets,
    "hemoglobin": Analyte.hemoglobin,
    "creatinine": Analyte.creatinine,
    "bilirubin": Analyte.bilirubin,
    "ast": Analyte.ast,
    "alt": Analyte.alt,
    "calcium": Analyte.calcium,
}
_LAB_LABEL = {
    "anc": ("ANC", "x10^9/L"),
    "platelets": ("platelets", "x10^9/L"),
    "hemoglobin": ("hemoglobin", "g/dL"),
    "creatinine": ("creatinine", "mg/dL"),
    "bilirubin": ("bilirubin", "mg/dL"),
    "ast": ("AST", "U/L"),
    "alt": ("ALT", "U/L"),
    "calcium": ("calcium", "mg/dL"),
    "crcl": ("CrCl", "mL/min"),
    "egfr": ("eGFR", "mL/min/1.73m2"),
}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "ge": lambda v, t: v + th.EPS >= t,
    "gt": lambda v, t: v > t + th.EPS,
    "le": lambda v, t: v <= t + th.EPS,
    "lt": lambda v, t: v < t - th.EPS,
}
_OP_WORD = {"ge": "min", "gt": "above", "le": "max", "lt": "below"}


def _kidney(f: PatientFacts, which: str) -> tuple[float | None, str]:
    """CrCl (Cockcroft-Gault, actual weight) or eGFR (CKD-EPI 2021) via ``myelonav.clinical``."""
    creat = f.lab(Analyte.creatinine)
    if creat is None or creat.value is None or creat.value <= 0:
        return None, f.lab_missing(Analyte.creatinine, "serum creatinine")
    if f.age is None:
        return None, "age not recorded"
    sex = f.record.demographics.sex
    if sex not in (Sex.female, Sex.male):
        return None, f"sex not recorded (needed for {'eGFR' if which == 'egfr' else 'CrCl'})"
    try:
        if which == "egfr":
            egfr = renal.ckd_epi_2021(age=f.age, sex=sex, creatinine=creat.value)
            return egfr.value, (
                f"eGFR {egfr.value:.1f} mL/min/1.73m2 "
                f"(CKD-EPI 2021, creatinine {creat.value:g} on {creat.date})"
            )
        weight = f.record.latest(Analyte.body_weight, f.as_of)
        if weight is None or weight.value is None:
            return None, "body weight not recorded (needed for Cockcroft-Gault CrCl)"
        cg = renal.cockcroft_gault(
            age=f.age, weight_kg=weight.value, sex=sex, creatinine=creat.value
        )
    except MyelonavError as exc:
        return None, f"cannot compute: {exc.message}"
    tail = "x0.85" if sex is Sex.female else ""
    formula = f"(140-{f.age})x{weight.value:g}/(72x{creat.value:g}){tail}"
    return cg.value, f"CrCl {cg.value:.1f} mL/min (Cockcroft-Gault: {formula})"


def _lab(f: PatientFacts, a: LabAtom) -> Eval:
    name, unit = _LAB_LABEL[a.analyte]
    word = _OP_WORD[a.op]
    if a.analyte in {"crcl", "egfr"}:
        value, fact = _kidney(f, a.analyte)
        if value is None or a.value is None:
            return Truth.unknown, fact
        return _tri(_OPS[a.op](value, a.value)), f"{fact} ({word} {a.value:g})"
    analyte = _LAB_ANALYTE[a.analyte]
    lab = f.lab(analyte)
    if lab is None or lab.value is None:
        return Truth.unknown, f.lab_missing(analyte, name)
    shown = f"{name} {lab.value:g} {unit} on {lab.date}"
    if a.uln_multiple is None:
        assert a.value is not None
        return _tri(_OPS[a.op](lab.value, a.value)), f"{shown} ({word} {a.value:g})"
    if lab.upper_limit_normal is not None:
        limit = a.uln_multiple * lab.upper_limit_normal
        return _tri(_OPS[a.op](lab.value, limit)), (
            f"{shown} ({word} {a.uln_multiple:g}xULN, ULN {lab.upper_limit_normal:g})"
        )
    bracket = _ULN_BRACKET.get(a.analyte)
    if bracket is None:
        return Truth.unknown, f"{shown}; upper limit of normal not recorded"
    lo, hi = a.uln_multiple * bracket[0], a.uln_multiple * bracket[1]
    fact = f"{shown} ({word} {a.uln_multiple:g}xULN; lab ULN not recorded, so {lo:g}-{hi:g} {unit})"
    if a.op in {"le", "lt"}:
        if lab.value <= lo:
            return Truth.true, fact
        if lab.value > hi:
            return Truth.false, fact
    else:
        if lab.value >= hi:
            return Truth.true, fact
        if lab.value < lo:
            return Truth.false, fact
    return Truth.unknown, fact + "; too close to call without your lab's normal range"
