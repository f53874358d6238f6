"""ISS, R-ISS and R2-ISS staging at diagnosis.

* ISS: Greipp PR, et al. J Clin Oncol 2005;23:3412-20.
* R-ISS: Palumbo A, et al. J Clin Oncol 2015;33:2863-9.
* R2-ISS: D'Agostino M, et al. J Clin Oncol 2022;40:3406-18.

All three were built for newly diagnosed myeloma: they describe risk at diagnosis, not after
relapse. Each function either returns a stage or raises ``CalculationError`` naming every
missing input ("cannot stage R-ISS: no diagnosis-time del(17p)").

From a record, only the diagnosis window counts (``inputs_from_record``): labs and FISH dated
from ``DIAGNOSIS_WINDOW_DAYS`` before to ``DIAGNOSIS_WINDOW_DAYS`` after the diagnosis date and
never after the first treatment (labs drawn the day it starts are pre-treatment). FISH first
found at relapse is not diagnosis FISH; post-treatment labs are not diagnosis labs; an undated
finding cannot be placed and is not used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from myelonav.clinical import plausible
from myelonav.clinical import thresholds as t
from myelonav.errors import CalculationError
from myelonav.patient.models import Analyte, CytogeneticAbnormality, PatientRecord, Qualitative

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# The staging papers used labs and FISH "at diagnosis" without a fixed window; 90 days either
# side covers the diagnostic work-up (myelonav convention, reviewed 2026-12-04).
DIAGNOSIS_WINDOW_DAYS = 90


@dataclass(frozen=True, slots=True)
class StagingInputs:
    """What the three systems read. ``None`` = not known."""

    beta2_microglobulin_mg_l: float | None = None
    albumin_g_dl: float | None = None
    ldh_high: bool | None = None
    del_17p: bool | None = None
    t_4_14: bool | None = None
    t_14_16: bool | None = None
    gain_1q: bool | None = None
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stage:
    system: str
    stage: int
    label: str
    score: float | None
    reasons: list[str]


def _missing(what: list[str], system: str) -> CalculationError:
    return CalculationError(
        f"cannot stage {system}: no diagnosis-time {', '.join(what)}", location=system
    )


def iss(inputs: StagingInputs) -> Stage:
    """ISS (Greipp 2005): I = B2M < 3.5 mg/L and albumin >= 3.5 g/dL; III = B2M >= 5.5 mg/L."""
    b2m, alb = inputs.beta2_microglobulin_mg_l, inputs.albumin_g_dl
    if b2m is not None:
        plausible.beta2_microglobulin_mg_l(b2m)
    if alb is not None:
        plausible.albumin_g_dl(alb)
    if b2m is None:
        raise _missing(["beta2-microglobulin (mg/L)"], "ISS")
    if b2m >= t.ISS_B2M_STAGE3_MIN_MG_L:
        return Stage("ISS", 3, "ISS III", None, [f"beta2-microglobulin {b2m:g} mg/L >= 5.5"])
    if b2m >= t.ISS_B2M_STAGE1_BELOW_MG_L:
        return Stage("ISS", 2, "ISS II", None, [f"beta2-microglobulin {b2m:g} mg/L in 3.5-5.5"])
    if alb is None:
        raise _missing(["albumin (g/dL)"], "ISS")
    if alb >= t.ISS_ALBUMIN_STAGE1_MIN_G_DL:
        return Stage(
            "ISS",
            1,
            "ISS I",
            None,
            [f"beta2-microglobulin {b2m:g} mg/L < 3.5", f"albumin {alb:g} g/dL >= 3.5"],
        )
    return Stage(
        "ISS",
        2,
        "ISS II",
        None,
        [f"beta2-microglobulin {b2m:g} < 3.5 but albumin {alb:g} g/dL < 3.5"],
    )


def _iss_for(system: str, inputs: StagingInputs) -> Stage:
    try:
        return iss(inputs)
    except CalculationError as exc:
        raise CalculationError(
            exc.message.replace("stage ISS", f"stage {system}"), location=system
        ) from None


def r_iss(inputs: StagingInputs) -> Stage:
    """R-ISS (Palumbo 2015): I = ISS I, standard-risk FISH, normal LDH; III = ISS III and
    high-risk FISH [del(17p), t(4;14), t(14;16)] or high LDH; II = all others."""
    stage = _iss_for("R-ISS", inputs)
    high_cas = [inputs.del_17p, inputs.t_4_14, inputs.t_14_16]
    any_high = any(v is True for v in high_cas)
    all_known = all(v is not None for v in high_cas)
    if stage.stage == 3:
        if any_high or inputs.ldh_high is True:
            why = "high-risk FISH" if any_high else "high LDH"
            return Stage("R-ISS", 3, "R-ISS III", None, [*stage.reasons, why])
        if all_known and inputs.ldh_high is False:
            return Stage(
                "R-ISS", 2, "R-ISS II", None, [*stage.reasons, "no high-risk FISH, normal LDH"]
            )
    elif stage.stage == 2:
        return Stage("R-ISS", 2, "R-ISS II", None, [*stage.reasons])
    else:
        if any_high or inputs.ldh_high is True:
            return Stage(
                "R-ISS", 2, "R-ISS II", None, [*stage.reasons, "high-risk FISH or high LDH"]
            )
        if all_known and inputs.ldh_high is False:
            return Stage(
                "R-ISS", 1, "R-ISS I", None, [*stage.reasons, "standard-risk FISH, normal LDH"]
            )
    missing = [
        name
        for name, v in (
            ("del(17p)", inputs.del_17p),
            ("t(4;14)", inputs.t_4_14),
            ("t(14;16)", inputs.t_14_16),
        )
        if v is None
    ]
    if inputs.ldh_high is None:
        missing.append("LDH")
    raise _missing(missing, "R-ISS")


def r2_iss(inputs: StagingInputs) -> Stage:
    """R2-ISS (D'Agostino 2022): ISS II 1, ISS III 1.5, del(17p) 1, high LDH 1, t(4;14) 1,
    1q gain/amplification 0.5; I = 0, II = 0.5-1, III = 1.5-2.5, IV = 3-5."""
    stage = _iss_for("R2-ISS", inputs)
    points = {1: 0.0, 2: t.R2ISS_POINTS_ISS2, 3: t.R2ISS_POINTS_ISS3}[stage.stage]
    reasons = [f"{stage.label}: {points:g}"]
    items = (
        ("del(17p)", inputs.del_17p, t.R2ISS_POINTS_DEL17P),
        ("high LDH", inputs.ldh_high, t.R2ISS_POINTS_HIGH_LDH),
        ("t(4;14)", inputs.t_4_14, t.R2ISS_POINTS_T4_14),
        ("1q gain/amplification", inputs.gain_1q, t.R2ISS_POINTS_1Q),
    )
    unknown = [name if name != "high LDH" else "LDH" for name, v, _ in items if v is None]
    for name, value, pts in items:
        if value:
            points += pts
            reasons.append(f"{name}: {pts:g}")
    if unknown:
        # Only stage when the unknown items could not change the group.
        most = points + sum(p for _, v, p in items if v is None)
        if _r2_group(points) != _r2_group(most):
            raise _missing(unknown, "R2-ISS")
        reasons.append(f"not known ({', '.join(unknown)}) but cannot change the group")
    group = _r2_group(points)
    return Stage("R2-ISS", group, f"R2-ISS {_ROMAN[group]}", points, reasons)


def _r2_group(points: float) -> int:
    for upper, group in t.R2ISS_GROUP_UPPER:
        if points <= upper + t.EPS:
            return group
    return 4


def first_treatment(record: PatientRecord) -> dt.date | None:
    """The first dated anti-myeloma treatment: therapy line, transplant or CAR T."""
    starts = [ln.start for ln in record.therapy_lines if ln.start is not None]
    starts += [tx.date for tx in record.transplants if tx.date is not None]
    starts += [c.infusion_date for c in record.car_t]
    return min(starts, default=None)


def diagnosis_window(record: PatientRecord) -> tuple[dt.date, dt.date] | None:
    """[first, last] day whose labs and FISH describe the disease at diagnosis."""
    diag = record.diagnosis.date
    if diag is None:
        return None
    low = diag - dt.timedelta(days=DIAGNOSIS_WINDOW_DAYS)
    high = diag + dt.timedelta(days=DIAGNOSIS_WINDOW_DAYS)
    first = first_treatment(record)
    if first is not None and first >= diag:
        high = min(high, first)
    return low, high


def inputs_from_record(record: PatientRecord, *, as_of: dt.date | None = None) -> StagingInputs:
    """Staging inputs at diagnosis: the labs closest to the diagnosis date and the FISH findings
    inside ``diagnosis_window``. Without a diagnosis date nothing is used (later results would
    describe relapse, not diagnosis), so the stage reports them missing."""
    diag = record.diagnosis.date
    window = diagnosis_window(record)
    sources: dict[str, str] = {}

    def inside(day: dt.date | None) -> bool:
        return (
            window is not None
            and day is not None
            and window[0] <= day <= window[1]
            and (as_of is None or day <= as_of)
        )

    def lab(analyte: Analyte) -> tuple[float | None, bool | None]:
        if diag is None:
            return None, None
        series = [x for x in record.series(analyte) if inside(x.date)]
        if not series:
            return None, None
        chosen = min(series, key=lambda x: (abs((x.date - diag).days), x.date > diag))
        sources[analyte.value] = chosen.date.isoformat()
        high: bool | None = None
        if chosen.qualitative is Qualitative.high:
            high = True
        elif chosen.qualitative in (Qualitative.normal, Qualitative.low):
            high = False
        elif chosen.value is not None and chosen.upper_limit_normal is not None:
            high = chosen.value > chosen.upper_limit_normal
        return chosen.value, high

    b2m, _ = lab(Analyte.beta2_microglobulin)
    alb, _ = lab(Analyte.albumin)
    _, ldh_high = lab(Analyte.ldh)

    def fish(*abnormalities: CytogeneticAbnormality) -> bool | None:
        values = [f.detected for a in abnormalities for f in record.findings(a) if inside(f.date)]
        if any(values):
            return True
        if values:
            return False
        return None

    return StagingInputs(
        beta2_microglobulin_mg_l=b2m,
        albumin_g_dl=alb,
        ldh_high=ldh_high,
        del_17p=fish(CytogeneticAbnormality.del_17p),
        t_4_14=fish(CytogeneticAbnormality.t_4_14),
        t_14_16=fish(CytogeneticAbnormality.t_14_16),
        gain_1q=fish(CytogeneticAbnormality.gain_1q, CytogeneticAbnormality.amp_1q),
        sources=sources,
    )


__all__ = [
    "DIAGNOSIS_WINDOW_DAYS",
    "Stage",
    "StagingInputs",
    "diagnosis_window",
    "first_treatment",
    "inputs_from_record",
    "iss",
    "r2_iss",
    "r_iss",
]
