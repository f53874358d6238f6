"""IMWG 2016 uniform response criteria over a dated series of response assessments.

Source: Kumar S, et al. Lancet Oncol 2016;17:e328-46 (thresholds in ``thresholds``).

How the engine reads the criteria (each choice is also what ``cohort`` does, row for row):

* **Baseline.** For each measure, the latest value on or before the baseline date. The
  assessments classified are those dated after it.
* **Path.** Serum M >= 1 g/dL or urine M >= 200 mg/24 h makes the M-protein path; otherwise an
  involved FLC >= 100 mg/L with an abnormal ratio makes the FLC path (dFLC = involved minus
  uninvolved); otherwise marrow plasma cells >= 30 % make the marrow path (non-secretory);
  otherwise nothing is measurable and responses cannot be graded.
* **Progression** (checked first): >= 25 % rise from the nadir (lowest value at baseline or any
  earlier assessment) with the absolute floors: serum >= 0.5 g/dL (or >= 1 g/dL when the nadir
  was >= 5 g/dL); urine >= 200 mg/24 h; dFLC > 100 mg/L on the FLC path; marrow >= 10 points when
  neither M-protein nor FLC is measurable; >= 50 % growth of plasmacytoma SPD, reappearance of a
  plasmacytoma, or a new lesion.
* **Response**: sCR > CR > VGPR > PR > MR > SD, each on the path's own measures. CR needs
  negative serum and urine immunofixation and marrow < 5 % (and a normal FLC ratio on the FLC
  path); sCR adds a normal ratio and no clonal plasma cells in marrow.
* **Missing data.** When a measure that is measurable at baseline is missing at an assessment,
  progression cannot be excluded, so the assessment is NE and says what is missing, unless
  progression is shown by another measure. When a measure needed only for a higher category
  is missing (immunofixation, marrow, clonality), the engine reports the category proven and
  lists what would be needed to decide a higher one.
* **Urine never measured.** If there is no urine M-protein at baseline, urine is treated as not
  followed: VGPR may rest on the serum criterion, and the assessment still lists urine as missing.
* **Light-chain disease followed by urine** (serum not measurable, urine measurable, FLC
  measurable): at an assessment without urine, dFLC is used in place of urine and the rule says
  so (``…:flc_fallback``); this is myelonav's convention, not IMWG text.
* **Confirmation.** IMWG asks for two consecutive assessments. Progression is the first of two
  consecutive evaluable (non-NE) assessments that are both PD; a last PD without a successor
  is "pending". The confirmed best response is the best level held on two consecutive
  evaluable assessments before progression.
* **Relapse from CR** (for disease-free survival only): after a CR, reappearance of M-protein
  on immunofixation or electrophoresis, marrow >= 5 %, a new lesion, or PD. It is reported
  (``relapse_from_cr_date``) and is not PD by itself.

From a record (``evaluate_record``; these rules act on the assessments the record yields and
on the summary, so ``evaluate`` and the cohort engine keep their row-for-row semantics):

* **Assessment windows.** Results drawn within ``ASSESSMENT_WINDOW_DAYS`` (14) of a visit's
  first result are one assessment, dated at that first result; a window never spans the
  treatment start, and labs drawn on the start day are the pre-treatment (baseline) ones.
* **M-protein reported absent** ("not detected", "none seen", "below detection": qualitative
  negative/low without a number) is 0, not missing.
* **Imaging PD.** A lesion first recorded after the start, or a followed plasmacytoma that grew
  >= 50 % over its smallest earlier size (per site) or came back, is a PD assessment on the
  scan's date, and is progression without a second assessment (imaging is not repeated to
  confirm it; myelonav's reading).
* **Baseline plasmacytoma followed.** CR/sCR needs each plasmacytoma present at baseline shown
  gone (inactive or size 0); otherwise the assessment is VGPR and lists the missing imaging.
* **Marrow not repeated.** IMWG 2016: bone-marrow results need not be confirmed. In a run of
  consecutive assessments with negative serum and urine immunofixation, one marrow < 5 % (with
  its clonality) stands for the others of the run (M-protein and FLC paths only).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntFlag, StrEnum

from myelonav.clinical import thresholds as t
from myelonav.errors import CalculationError
from myelonav.patient.models import (
    RESPONSE_ORDER,
    Analyte,
    DiseaseSite,
    DiseaseSiteKind,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    ResponseCategory,
)

EPS = t.EPS


class Path(StrEnum):
    m_protein = "m_protein"
    flc = "flc"
    marrow = "marrow"
    none = "none"


class Missing(IntFlag):
    """Measurements that were needed and absent (a bit set, so both engines agree cheaply)."""

    NONE = 0
    SERUM_M = 1
    URINE_M = 2
    FLC = 4
    SERUM_IFE = 8
    URINE_IFE = 16
    MARROW = 32
    CLONALITY = 64
    PLASMACYTOMA = 128
    BASELINE = 256


MISSING_LABEL: dict[Missing, str] = {
    Missing.SERUM_M: "serum M-protein",
    Missing.URINE_M: "24-hour urine M-protein",
    Missing.FLC: "serum free light chains (kappa and lambda)",
    Missing.SERUM_IFE: "serum immunofixation",
    Missing.URINE_IFE: "urine immunofixation",
    Missing.MARROW: "bone marrow plasma-cell percentage",
    Missing.CLONALITY: "marrow clonality (immunohistochemistry or flow cytometry)",
    Missing.PLASMACYTOMA: "plasmacytoma size (SPD)",
    Missing.BASELINE: "a baseline measurement of serum/urine M-protein, FLC or marrow",
}


def missing_labels(bits: int) -> list[str]:
    return [label for flag, label in MISSING_LABEL.items() if bits & flag]


RULES: dict[str, str] = {
    "pd_serum": "PD: serum M-protein rose >= 25% and >= 0.5 g/dL above its nadir",
    "pd_serum_high_nadir": "PD: serum M-protein rose >= 1 g/dL above a nadir of >= 5 g/dL",
    "pd_urine": "PD: urine M-protein rose >= 25% and >= 200 mg/24 h above its nadir",
    "pd_dflc": "PD: dFLC rose >= 25% and > 10 mg/dL (100 mg/L) above its nadir",
    "pd_marrow": "PD: marrow plasma cells rose >= 25% and >= 10 points above their nadir",
    "pd_plasmacytoma": "PD: plasmacytoma grew >= 50% (SPD) from its nadir or reappeared",
    "pd_new_lesion": "PD: new bone lesion or soft-tissue plasmacytoma",
    "scr": "sCR: CR plus normal FLC ratio and no clonal plasma cells in marrow",
    "cr": "CR: negative serum and urine immunofixation, marrow plasma cells < 5%",
    "vgpr": "VGPR: M-protein only on immunofixation, or serum down >= 90% and urine < 100 mg/24 h",
    "vgpr_flc": "VGPR: dFLC down >= 90% (FLC-only disease)",
    "pr": "PR: serum M-protein down >= 50%; urine down >= 90% or < 200 mg/24 h",
    "pr_flc": "PR: dFLC down >= 50% (FLC-only disease)",
    "pr_marrow": "PR: marrow plasma cells down >= 50% from a baseline >= 30%",
    "mr": "MR: serum M-protein down >= 25%; urine down >= 50%",
    "sd": "SD: no criteria for response or progression met",
    "ne_missing": "NE: a measure needed to exclude progression is missing",
    "ne_not_measurable": "NE: no measurable disease at baseline",
    "ne_no_baseline": "NE: no baseline measurement",
}


@dataclass(frozen=True, slots=True)
class Assessment:
    """One response assessment. Units: serum g/dL, urine mg/24 h, FLC mg/L, marrow %, SPD cm2.

    Immunofixation and clonality are booleans: True = positive/present, False = negative.
    """

    date: dt.date
    serum_m: float | None = None
    urine_m: float | None = None
    kappa: float | None = None
    lambda_: float | None = None
    flc_ratio: float | None = None
    serum_ife: bool | None = None
    urine_ife: bool | None = None
    marrow_pc: float | None = None
    marrow_clonal: bool | None = None
    plasmacytoma_spd: float | None = None
    new_lesion: bool | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in _VALUE_FIELDS)

    def ratio(self) -> float | None:
        if self.kappa is not None and self.lambda_ is not None and self.lambda_ > 0:
            return self.kappa / self.lambda_
        return self.flc_ratio


_VALUE_FIELDS = tuple(name for name in Assessment.__dataclass_fields__ if name != "date")


@dataclass(frozen=True, slots=True)
class Baseline:
    date: dt.date | None
    serum_m: float | None
    urine_m: float | None
    kappa: float | None
    lambda_: float | None
    ratio: float | None
    marrow_pc: float | None
    plasmacytoma_spd: float | None
    involved: LightChain | None
    dflc: float | None
    serum_measurable: bool
    urine_measurable: bool
    flc_measurable: bool
    path: Path
    has_any: bool


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    date: dt.date
    category: ResponseCategory
    rule: str
    path: str
    missing: int
    nadir_serum: float | None
    nadir_urine: float | None
    nadir_dflc: float | None
    relapse_from_cr: bool

    @property
    def missing_labels(self) -> list[str]:
        return missing_labels(self.missing)

    @property
    def rule_text(self) -> str:
        return RULES[self.rule]


@dataclass(frozen=True, slots=True)
class ResponseResult:
    baseline: Baseline
    assessments: list[AssessmentResult]
    best_response: ResponseCategory | None
    best_response_date: dt.date | None
    best_unconfirmed: ResponseCategory | None
    progression_date: dt.date | None
    pending_progression_date: dt.date | None
    relapse_from_cr_date: dt.date | None
    nadir_serum: float | None
    nadir_urine: float | None
    nadir_dflc: float | None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def flc_ratio_abnormal(ratio: float | None) -> bool:
    return ratio is not None and (ratio < t.FLC_RATIO_NORMAL_LOW or ratio > t.FLC_RATIO_NORMAL_HIGH)


def flc_ratio_normal(ratio: float | None) -> bool | None:
    if ratio is None:
        return None
    return t.FLC_RATIO_NORMAL_LOW <= ratio <= t.FLC_RATIO_NORMAL_HIGH


def _dflc(kappa: float | None, lambda_: float | None, involved: LightChain | None) -> float | None:
    if kappa is None or lambda_ is None or involved is None:
        return None
    if involved is LightChain.kappa:
        return kappa - lambda_
    return lambda_ - kappa


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _latest(values: Iterable[tuple[dt.date, float | None]]) -> float | None:
    last: float | None = None
    for _, value in values:
        if value is not None:
            last = value
    return last


def build_baseline(
    assessments: Sequence[Assessment],
    baseline_date: dt.date | None = None,
    involved: LightChain | None = None,
) -> Baseline:
    """Baseline values (latest on/before ``baseline_date``; default the first assessment date)."""
    ordered = sorted(assessments, key=lambda a: a.date)
    if baseline_date is None:
        if not ordered:
            raise CalculationError("no assessments to take a baseline from", location="labs")
        baseline_date = ordered[0].date
    before = [a for a in ordered if a.date <= baseline_date]

    def pick(name: str) -> float | None:
        return _latest((a.date, getattr(a, name)) for a in before)

    s0, u0, k0, l0 = pick("serum_m"), pick("urine_m"), pick("kappa"), pick("lambda_")
    r_given = pick("flc_ratio")
    ratio0 = k0 / l0 if (k0 is not None and l0 is not None and l0 > 0) else r_given
    bm0, spd0 = pick("marrow_pc"), pick("plasmacytoma_spd")
    if involved is None and k0 is not None and l0 is not None:
        involved = LightChain.kappa if k0 >= l0 else LightChain.lambda_
    d0 = _dflc(k0, l0, involved)
    s_meas = s0 is not None and s0 >= t.MEASURABLE_SERUM_M_G_DL - EPS
    u_meas = u0 is not None and u0 >= t.MEASURABLE_URINE_M_MG_24H - EPS
    inv0 = None
    if involved is not None and k0 is not None and l0 is not None:
        inv0 = k0 if involved is LightChain.kappa else l0
    flc_meas = (
        inv0 is not None
        and inv0 >= t.MEASURABLE_INVOLVED_FLC_MG_L - EPS
        and flc_ratio_abnormal(ratio0)
        and d0 is not None
        and d0 > 0
    )
    if s_meas or u_meas:
        path = Path.m_protein
    elif flc_meas:
        path = Path.flc
    elif bm0 is not None and bm0 >= t.MARROW_PATH_MIN_BASELINE_PCT - EPS:
        path = Path.marrow
    else:
        path = Path.none
    has_any = any(v is not None for v in (s0, u0, d0, bm0))
    return Baseline(
        date=baseline_date,
        serum_m=s0,
        urine_m=u0,
        kappa=k0,
        lambda_=l0,
        ratio=ratio0,
        marrow_pc=bm0,
        plasmacytoma_spd=spd0,
        involved=involved,
        dflc=d0,
        serum_measurable=s_meas,
        urine_measurable=u_meas,
        flc_measurable=flc_meas,
        path=path,
        has_any=has_any,
    )


@dataclass(slots=True)
class _Nadirs:
    serum: float | None
    urine: float | None
    dflc: float | None
    marrow: float | None
    spd: float | None


def _rise_ok(value: float, nadir: float, floor: float) -> bool:
    rise = value - nadir
    return rise >= floor - EPS and rise >= t.PD_RELATIVE_RISE * nadir - EPS


def _progression_rule(
    b: Baseline, a: Assessment, n: _Nadirs, dflc: float | None, eff_path: str
) -> str | None:
    s, u = a.serum_m, a.urine_m
    if s is not None and n.serum is not None:
        if _rise_ok(s, n.serum, t.PD_SERUM_ABS_G_DL):
            return "pd_serum"
        if (
            n.serum >= t.PD_SERUM_HIGH_NADIR_G_DL - EPS
            and s - n.serum >= t.PD_SERUM_HIGH_NADIR_ABS_G_DL - EPS
        ):
            return "pd_serum_high_nadir"
    if u is not None and n.urine is not None and _rise_ok(u, n.urine, t.PD_URINE_ABS_MG_24H):
        return "pd_urine"
    if eff_path in ("flc", "flc_fallback") and dflc is not None and n.dflc is not None:
        rise = dflc - n.dflc
        if rise > t.PD_DFLC_ABS_MG_L + EPS and rise >= t.PD_RELATIVE_RISE * max(n.dflc, 0.0) - EPS:
            return "pd_dflc"
    if (
        b.path in (Path.marrow, Path.none)
        and a.marrow_pc is not None
        and n.marrow is not None
        and _rise_ok(a.marrow_pc, n.marrow, t.PD_MARROW_ABS_PCT)
    ):
        return "pd_marrow"
    if a.plasmacytoma_spd is not None and n.spd is not None:
        spd = a.plasmacytoma_spd
        if (n.spd > 0 and spd >= (1 + t.PD_PLASMACYTOMA_RISE) * n.spd - EPS) or (
            n.spd <= 0 and spd > 0
        ):
            return "pd_plasmacytoma"
    if a.new_lesion is True:
        return "pd_new_lesion"
    return None


def _reduction(base: float | None, value: float | None) -> float | None:
    if base is None or value is None or base <= 0:
        return None
    return (base - value) / base


def _ge(x: float | None, threshold: float) -> bool:
    return x is not None and x >= threshold - EPS


def classify(b: Baseline, a: Assessment, n: _Nadirs) -> tuple[ResponseCategory, str, str, int]:
    """Category, rule code, effective path and missing bits for one assessment."""
    dflc = _dflc(a.kappa, a.lambda_, b.involved)
    ratio = a.ratio()
    fallback = (
        b.path is Path.m_protein
        and not b.serum_measurable
        and b.urine_measurable
        and a.urine_m is None
        and b.flc_measurable
        and dflc is not None
    )
    eff_path = "flc_fallback" if fallback else b.path.value
    pd_rule = _progression_rule(b, a, n, dflc, eff_path)
    if pd_rule is not None:
        return ResponseCategory.PD, pd_rule, eff_path, 0
    if not b.has_any:
        return ResponseCategory.NE, "ne_no_baseline", eff_path, int(Missing.BASELINE)
    if b.path is Path.none:
        return ResponseCategory.NE, "ne_not_measurable", eff_path, 0

    # measures needed to exclude progression
    missing = 0
    if b.path is Path.m_protein:
        if b.serum_measurable and a.serum_m is None:
            missing |= Missing.SERUM_M
        if b.urine_measurable and a.urine_m is None and not fallback:
            missing |= Missing.URINE_M
            if not b.serum_measurable and b.flc_measurable:
                missing |= Missing.FLC  # dFLC could have stood in for urine
    elif b.path is Path.flc:
        if dflc is None:
            missing |= Missing.FLC
    elif a.marrow_pc is None:
        missing |= Missing.MARROW
    has_pc = b.plasmacytoma_spd is not None and b.plasmacytoma_spd > 0
    if has_pc and a.plasmacytoma_spd is None:
        missing |= Missing.PLASMACYTOMA
    if missing:
        return ResponseCategory.NE, "ne_missing", eff_path, missing

    spd_red = _reduction(b.plasmacytoma_spd, a.plasmacytoma_spd) if has_pc else None
    pc_pr = (not has_pc) or _ge(spd_red, t.PR_PLASMACYTOMA_REDUCTION)
    pc_mr = (not has_pc) or _ge(spd_red, t.MR_PLASMACYTOMA_REDUCTION)
    pc_cr = (not has_pc) or (a.plasmacytoma_spd is not None and a.plasmacytoma_spd <= 0)

    if eff_path == "m_protein":
        rs = _reduction(b.serum_m, a.serum_m)
        ru = _reduction(b.urine_m, a.urine_m)
        u = a.urine_m
        pr = (
            (not b.serum_measurable or _ge(rs, t.PR_SERUM_REDUCTION))
            and (
                not b.urine_measurable
                or _ge(ru, t.PR_URINE_REDUCTION)
                or (u is not None and u < t.PR_URINE_ABSOLUTE_MG_24H - EPS)
            )
            and pc_pr
        )
        mr = (
            (not b.serum_measurable or _ge(rs, t.MR_SERUM_REDUCTION))
            and (not b.urine_measurable or _ge(ru, t.MR_URINE_REDUCTION))
            and pc_mr
        )
        s = a.serum_m
        vgpr_serum = (
            (s is not None and s <= 0)
            or _ge(rs, t.VGPR_SERUM_REDUCTION)
            or (s is None and not b.serum_measurable)
        )
        urine_not_followed = u is None and b.urine_m is None
        vgpr_urine_open = u is None and b.urine_m is not None
        vgpr_urine = (u is not None and u < t.VGPR_URINE_MAX_MG_24H - EPS) or urine_not_followed
        vgpr = pr and vgpr_serum and vgpr_urine
        if pr and vgpr_serum and vgpr_urine_open:
            missing |= Missing.URINE_M
        if vgpr and urine_not_followed:
            missing |= Missing.URINE_M
        level_rules = ("vgpr", "pr", "mr")
        cr_needs_ratio = False
    elif eff_path in ("flc", "flc_fallback"):
        rd = _reduction(b.dflc, dflc)
        pr = _ge(rd, t.PR_DFLC_REDUCTION) and pc_pr
        vgpr = pr and _ge(rd, t.VGPR_DFLC_REDUCTION)
        mr = False
        level_rules = ("vgpr_flc", "pr_flc", "mr")
        cr_needs_ratio = True
        if fallback:
            missing |= Missing.URINE_M
    else:  # marrow path
        rb = _reduction(b.marrow_pc, a.marrow_pc)
        pr = _ge(rb, t.PR_MARROW_REDUCTION) and pc_pr
        vgpr = pr and a.marrow_pc is not None and a.marrow_pc < t.CR_MARROW_MAX_PCT - EPS
        mr = False
        level_rules = ("pr_marrow", "pr_marrow", "mr")
        cr_needs_ratio = False

    cr = False
    scr = False
    if vgpr:
        ratio_ok = flc_ratio_normal(ratio)
        cr_blockers_known = (
            a.serum_ife is True
            or a.urine_ife is True
            or (a.marrow_pc is not None and a.marrow_pc >= t.CR_MARROW_MAX_PCT - EPS)
            or not pc_cr
            or (cr_needs_ratio and ratio_ok is False)
        )
        cr = (
            a.serum_ife is False
            and a.urine_ife is False
            and a.marrow_pc is not None
            and a.marrow_pc < t.CR_MARROW_MAX_PCT - EPS
            and pc_cr
            and (not cr_needs_ratio or ratio_ok is True)
        )
        if not cr and not cr_blockers_known:
            if a.serum_ife is None:
                missing |= Missing.SERUM_IFE
            if a.urine_ife is None:
                missing |= Missing.URINE_IFE
            if a.marrow_pc is None:
                missing |= Missing.MARROW
            if cr_needs_ratio and ratio_ok is None:
                missing |= Missing.FLC
        if cr:
            scr = ratio_ok is True and a.marrow_clonal is False
            if not scr and ratio_ok is not False and a.marrow_clonal is not True:
                if ratio_ok is None:
                    missing |= Missing.FLC
                if a.marrow_clonal is None:
                    missing |= Missing.CLONALITY
    if scr:
        return ResponseCategory.sCR, "scr", eff_path, missing
    if cr:
        return ResponseCategory.CR, "cr", eff_path, missing
    if vgpr and eff_path != "marrow":
        return ResponseCategory.VGPR, level_rules[0], eff_path, missing
    if pr:
        return ResponseCategory.PR, level_rules[1], eff_path, missing
    if mr:
        return ResponseCategory.MR, "mr", eff_path, missing
    return ResponseCategory.SD, "sd", eff_path, missing


def _relapse_signal(a: Assessment, category: ResponseCategory) -> bool:
    return (
        category is ResponseCategory.PD
        or a.serum_ife is True
        or a.urine_ife is True
        or (a.serum_m is not None and a.serum_m > 0)
        or (a.urine_m is not None and a.urine_m > 0)
        or (a.marrow_pc is not None and a.marrow_pc >= t.CR_MARROW_MAX_PCT - EPS)
        or a.new_lesion is True
    )


def evaluate(
    assessments: Sequence[Assessment],
    baseline_date: dt.date | None = None,
    involved: LightChain | None = None,
) -> ResponseResult:
    """Classify every assessment after the baseline and summarise the series (IMWG 2016)."""
    ordered = _merge_same_day(assessments)
    b = build_baseline(ordered, baseline_date, involved)
    after = [a for a in ordered if b.date is None or a.date > b.date]
    return _summarise(b, after, _classify_series(b, after))


def _classify_series(b: Baseline, after: list[Assessment]) -> list[AssessmentResult]:
    n = _Nadirs(b.serum_m, b.urine_m, b.dflc, b.marrow_pc, b.plasmacytoma_spd)
    rows: list[AssessmentResult] = []
    prior_cr = False
    for a in after:
        category, rule, path, missing = classify(b, a, n)
        relapse = prior_cr and _relapse_signal(a, category)
        rows.append(
            AssessmentResult(
                date=a.date,
                category=category,
                rule=rule,
                path=path,
                missing=int(missing),
                nadir_serum=n.serum,
                nadir_urine=n.urine,
                nadir_dflc=n.dflc,
                relapse_from_cr=relapse,
            )
        )
        if category in (ResponseCategory.CR, ResponseCategory.sCR):
            prior_cr = True
        n.serum = _min(n.serum, a.serum_m)
        n.urine = _min(n.urine, a.urine_m)
        n.dflc = _min(n.dflc, _dflc(a.kappa, a.lambda_, b.involved))
        n.marrow = _min(n.marrow, a.marrow_pc)
        n.spd = _min(n.spd, a.plasmacytoma_spd)
    return rows


_IMAGING_PD = frozenset({"pd_new_lesion", "pd_plasmacytoma"})


def _summarise(
    b: Baseline,
    after: list[Assessment],
    rows: list[AssessmentResult],
    *,
    imaging_confirms: bool = False,
) -> ResponseResult:
    """Summary of classified rows. ``imaging_confirms`` (record level only): PD shown on
    imaging (new lesion, plasmacytoma growth) needs no second assessment."""
    evaluable = [r for r in rows if r.category is not ResponseCategory.NE]
    progression: dt.date | None = None
    for first, second in itertools.pairwise(evaluable):
        if first.category is ResponseCategory.PD and second.category is ResponseCategory.PD:
            progression = first.date
            break
    if imaging_confirms:
        imaging = next((r.date for r in evaluable if r.rule in _IMAGING_PD), None)
        if imaging is not None and (progression is None or imaging < progression):
            progression = imaging
    pending = None
    if progression is None and evaluable and evaluable[-1].category is ResponseCategory.PD:
        pending = evaluable[-1].date
    before = [r for r in evaluable if progression is None or r.date < progression]
    best: ResponseCategory | None = None
    best_date: dt.date | None = None
    for first, second in itertools.pairwise(before):
        level = min(RESPONSE_ORDER[first.category], RESPONSE_ORDER[second.category])
        if best is None or level > RESPONSE_ORDER[best]:
            best = _by_rank(level)
            best_date = first.date
    unconfirmed = max(before, key=lambda r: RESPONSE_ORDER[r.category], default=None)
    relapse_date = next((r.date for r in rows if r.relapse_from_cr), None)

    window = [a for a in after if progression is None or a.date < progression]
    nad_s, nad_u, nad_d = b.serum_m, b.urine_m, b.dflc
    for a in window:
        nad_s = _min(nad_s, a.serum_m)
        nad_u = _min(nad_u, a.urine_m)
        nad_d = _min(nad_d, _dflc(a.kappa, a.lambda_, b.involved))
    notes: list[str] = []
    if pending is not None:
        notes.append(f"PD on {pending} is not yet confirmed by a second assessment")
    if b.path is Path.none and b.has_any:
        notes.append("no measurable disease at baseline: responses cannot be graded")
    return ResponseResult(
        baseline=b,
        assessments=rows,
        best_response=best,
        best_response_date=best_date,
        best_unconfirmed=unconfirmed.category if unconfirmed else None,
        progression_date=progression,
        pending_progression_date=pending,
        relapse_from_cr_date=relapse_date,
        nadir_serum=nad_s,
        nadir_urine=nad_u,
        nadir_dflc=nad_d,
        notes=notes,
    )


_BY_RANK = {rank: category for category, rank in RESPONSE_ORDER.items()}


def _by_rank(rank: int) -> ResponseCategory:
    return _BY_RANK[rank]


def _merge_same_day(assessments: Sequence[Assessment]) -> list[Assessment]:
    """One assessment per date; later entries fill or override earlier ones on the same day."""
    merged: dict[dt.date, Assessment] = {}
    for a in sorted(assessments, key=lambda x: x.date):
        if a.is_empty():
            continue
        prev = merged.get(a.date)
        if prev is None:
            merged[a.date] = a
            continue
        updates = {name: getattr(a, name) for name in _VALUE_FIELDS if getattr(a, name) is not None}
        merged[a.date] = replace(prev, **updates)
    return [merged[d] for d in sorted(merged)]


# --------------------------------------------------------------------------- from a record
#
# Everything below reads a ``PatientRecord``; it shapes the record's dated results into
# assessments (the same ``Assessment`` rows the cohort engine takes) and adds the record-level
# rules that need the record itself (imaging, plasmacytomas, marrow carried for confirmation).

_NUMERIC_FIELDS: dict[Analyte, str] = {
    Analyte.serum_m_protein: "serum_m",
    Analyte.urine_m_protein: "urine_m",
    Analyte.kappa_flc: "kappa",
    Analyte.lambda_flc: "lambda_",
    Analyte.flc_ratio: "flc_ratio",
    Analyte.marrow_plasma_cells: "marrow_pc",
}
_IFE_FIELDS: dict[Analyte, str] = {
    Analyte.serum_immunofixation: "serum_ife",
    Analyte.urine_immunofixation: "urine_ife",
}
_M_PROTEIN = frozenset({Analyte.serum_m_protein, Analyte.urine_m_protein})


_LESION_KINDS = frozenset(
    {
        DiseaseSiteKind.bone_lesion,
        DiseaseSiteKind.extramedullary_plasmacytoma,
        DiseaseSiteKind.paraskeletal_plasmacytoma,
        DiseaseSiteKind.cns,
    }
)
_SOFT_TISSUE_KINDS = frozenset(
    {
        DiseaseSiteKind.extramedullary_plasmacytoma,
        DiseaseSiteKind.paraskeletal_plasmacytoma,
        DiseaseSiteKind.cns,
    }
)


def _site_key(site: DiseaseSite) -> tuple[DiseaseSiteKind, str]:
    return site.kind, (site.location or "").strip().lower()


def new_lesion_dates(record: PatientRecord, after: dt.date) -> list[dt.date]:
    """Dates of lesions first recorded after ``after``: a dated bone lesion, plasmacytoma or CNS
    site whose kind and location were not recorded on or before ``after``."""
    known = {
        _site_key(site)
        for site in record.disease_sites
        if site.date is not None and site.date <= after
    }
    return sorted(
        {
            site.date
            for site in record.disease_sites
            if site.kind in _LESION_KINDS
            and site.date is not None
            and site.date > after
            and site.active is not False
            and _site_key(site) not in known
        }
    )


def plasmacytoma_growth_dates(record: PatientRecord) -> list[dt.date]:
    """Dates a known soft-tissue plasmacytoma grew >= 50 % over its smallest earlier size, or
    came back after being recorded gone (IMWG 2016 PD). Each site (kind + location) is
    followed on its own; its largest diameter (or SPD, as recorded) stands for its SPD."""
    by_key: dict[tuple[DiseaseSiteKind, str], list[DiseaseSite]] = {}
    for site in record.disease_sites:
        if site.kind in _SOFT_TISSUE_KINDS and site.date is not None:
            by_key.setdefault(_site_key(site), []).append(site)
    out: set[dt.date] = set()
    for sites in by_key.values():
        nadir: float | None = None
        for site in sorted(sites, key=lambda x: x.date or dt.date.min):
            assert site.date is not None
            gone = site.active is False or (site.size_cm is not None and site.size_cm <= 0)
            size = 0.0 if gone else site.size_cm
            grew = nadir is not None and (
                nadir <= 0
                or (size is not None and size >= (1 + t.PD_PLASMACYTOMA_RISE) * nadir - EPS)
            )
            if grew and not gone:
                out.add(site.date)
            nadir = _min(nadir, size)
    return sorted(out)


def baseline_plasmacytomas(record: PatientRecord, baseline: dt.date) -> list[DiseaseSite]:
    """Soft-tissue plasmacytomas present at ``baseline`` (latest record per site on or before
    it is active). They must be followed: CR needs them gone."""
    latest: dict[tuple[DiseaseSiteKind, str], DiseaseSite] = {}
    for site in sorted(
        (s for s in record.disease_sites if s.date is not None and s.date <= baseline),
        key=lambda x: x.date or dt.date.min,
    ):
        if site.kind in _SOFT_TISSUE_KINDS:
            latest[_site_key(site)] = site
    return [
        site
        for site in latest.values()
        if site.active is not False and not (site.size_cm is not None and site.size_cm <= 0)
    ]


def _gone_by(record: PatientRecord, site: DiseaseSite, after: dt.date, day: dt.date) -> bool:
    """True if the record shows ``site`` gone (inactive or size 0) in (after, day] and it has
    not been recorded back since."""
    key = _site_key(site)
    later = sorted(
        (
            s
            for s in record.disease_sites
            if _site_key(s) == key and s.date is not None and after < s.date <= day
        ),
        key=lambda x: x.date or dt.date.min,
    )
    return bool(later) and (
        later[-1].active is False or (later[-1].size_cm is not None and later[-1].size_cm <= 0)
    )


def m_protein_value(lab: LabResult) -> float | None:
    """A serum/urine M-protein as a number for response: a result reported as not detected /
    none seen / below detection (qualitative negative or low, no number) is 0, not missing."""
    if lab.value is not None:
        return lab.value
    if lab.analyte in _M_PROTEIN and lab.qualitative in (Qualitative.negative, Qualitative.low):
        return 0.0
    return None


def imaging_pd_dates(record: PatientRecord, after: dt.date) -> list[dt.date]:
    """Dates after ``after`` with PD on imaging: a new lesion (``new_lesion_dates``) or a known
    plasmacytoma that grew >= 50 % or came back (``plasmacytoma_growth_dates``)."""
    grown = [d for d in plasmacytoma_growth_dates(record) if d > after]
    return sorted({*new_lesion_dates(record, after), *grown})


def _daily_values(record: PatientRecord) -> dict[dt.date, dict[str, float | bool]]:
    by_date: dict[dt.date, dict[str, float | bool]] = {}
    for analyte, name in _NUMERIC_FIELDS.items():
        for lab in record.series(analyte):
            value = m_protein_value(lab)
            if value is None:
                continue
            by_date.setdefault(lab.date, {})[name] = value
    for analyte, name in _IFE_FIELDS.items():
        for lab in record.series(analyte):
            if lab.qualitative is Qualitative.positive:
                by_date.setdefault(lab.date, {})[name] = True
            elif lab.qualitative is Qualitative.negative:
                by_date.setdefault(lab.date, {})[name] = False
    return by_date


def group_windows(
    days: Sequence[dt.date],
    window_days: int = t.ASSESSMENT_WINDOW_DAYS,
    breaks: Iterable[dt.date] = (),
) -> dict[dt.date, dt.date]:
    """Map each date to the first date of its assessment window.

    A window opens at the first date not yet placed and holds the dates less than
    ``window_days`` after it; a window never holds dates on both sides of a break (a date on a
    break belongs to the window before it: labs drawn on the day a therapy starts are its
    pre-treatment assessment)."""
    cuts = sorted(set(breaks))
    out: dict[dt.date, dt.date] = {}
    anchor: dt.date | None = None
    for day in sorted(set(days)):
        if (
            anchor is not None
            and (day - anchor).days < window_days
            and not any(anchor <= cut < day for cut in cuts)
        ):
            out[day] = anchor
            continue
        anchor = day
        out[day] = day
    return out


def assessments_from_record(
    record: PatientRecord,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lesions_after: dt.date | None = None,
    window_days: int = 1,
    breaks: Iterable[dt.date] = (),
) -> list[Assessment]:
    """Response assessments from the record's lab series, within [start, end].

    Results drawn inside one window (``group_windows``; ``window_days=1`` = one per date) make
    one assessment dated at the window's first lab; a measure repeated inside a window takes its
    latest value. With ``lesions_after``, imaging PD after that date (``imaging_pd_dates``) is
    a ``new_lesion`` on its own date: imaging is dated by the scan, not by a lab window.
    """

    def inside(day: dt.date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    by_date = _daily_values(record)
    kept = sorted(d for d in by_date if inside(d))
    anchors = group_windows(kept, window_days, breaks)
    merged: dict[dt.date, dict[str, float | bool]] = {}
    for day in kept:
        merged.setdefault(anchors[day], {}).update(by_date[day])
    if lesions_after is not None:
        for day in imaging_pd_dates(record, lesions_after):
            if inside(day):
                merged.setdefault(day, {})["new_lesion"] = True
    return [
        Assessment(date=day, **merged[day])  # type: ignore[arg-type]
        for day in sorted(merged)
    ]


def _carry_marrow(b: Baseline, after: list[Assessment], notes: list[str]) -> list[Assessment]:
    """Bone-marrow results need not be repeated to confirm CR/sCR (IMWG 2016): inside a run of
    consecutive assessments with negative serum and urine immunofixation, one marrow < 5 %
    (and its clonality) stands for the assessments of the run that have no marrow. Not on the
    marrow path, where the marrow is the measure that excludes progression."""
    if b.path not in (Path.m_protein, Path.flc):
        return after
    out = list(after)
    run: list[int] = []

    def flush() -> None:
        marrows = [i for i in run if out[i].marrow_pc is not None]
        if not marrows or any(
            (out[i].marrow_pc or 0.0) >= t.CR_MARROW_MAX_PCT - EPS for i in marrows
        ):
            return
        for i in run:
            if out[i].marrow_pc is not None:
                continue
            source = min(marrows, key=lambda j: (abs(j - i), j > i))
            out[i] = replace(
                out[i], marrow_pc=out[source].marrow_pc, marrow_clonal=out[source].marrow_clonal
            )
            notes.append(
                f"the marrow of {out[source].date} stands for the assessment of {out[i].date} "
                "(IMWG 2016: bone-marrow results need not be repeated to confirm a response)"
            )

    for i, a in enumerate(out):
        if a.serum_ife is False and a.urine_ife is False:
            run.append(i)
            continue
        flush()
        run = []
    flush()
    return out


def _follow_plasmacytomas(
    record: PatientRecord, baseline: dt.date, rows: list[AssessmentResult], notes: list[str]
) -> list[AssessmentResult]:
    """CR needs every baseline plasmacytoma gone: a CR/sCR at a date by which the record does
    not show each of them gone is VGPR, and the missing imaging is listed."""
    present = baseline_plasmacytomas(record, baseline)
    if not present:
        return rows
    out: list[AssessmentResult] = []
    for row in rows:
        if row.category in (ResponseCategory.CR, ResponseCategory.sCR) and not all(
            _gone_by(record, site, baseline, row.date) for site in present
        ):
            notes.append(
                f"{row.date}: CR criteria met on labs, but a plasmacytoma present at baseline is "
                "not shown gone on imaging; CR needs it gone"
            )
            row = replace(
                row,
                category=ResponseCategory.VGPR,
                rule="vgpr_flc" if row.path in ("flc", "flc_fallback") else "vgpr",
                missing=row.missing | int(Missing.PLASMACYTOMA),
            )
        out.append(row)
    return out


def evaluate_record(
    record: PatientRecord,
    *,
    treatment_start: dt.date,
    end: dt.date | None,
    lookback_days: int = 60,
    window_days: int = t.ASSESSMENT_WINDOW_DAYS,
) -> ResponseResult | None:
    """IMWG 2016 response to a treatment started on ``treatment_start``, from the record.

    Baseline = the last assessment window on or before the start (within ``lookback_days``);
    assessments = windows after it up to ``end`` inclusive (labs drawn on the day the next
    therapy starts are its pre-treatment assessment, so they still count here). Adds to
    ``evaluate``: assessment windows, M-protein "not detected" = 0, new lesions and growing or
    returning plasmacytomas as PD without a confirming assessment (imaging is not repeated
    to confirm), baseline plasmacytomas followed for CR, one marrow confirming CR. Returns
    ``None`` when there is no baseline.
    """
    start = treatment_start - dt.timedelta(days=lookback_days)
    items = assessments_from_record(
        record,
        start=start,
        end=end,
        lesions_after=treatment_start,
        window_days=window_days,
        breaks=(treatment_start,),
    )
    pre = [a for a in items if a.date <= treatment_start]
    if not pre:
        return None
    involved = record.diagnosis.isotype.light_chain
    ordered = _merge_same_day(items)
    b = build_baseline(ordered, pre[-1].date, involved)
    notes: list[str] = []
    after = _carry_marrow(b, [a for a in ordered if b.date is None or a.date > b.date], notes)
    rows = _classify_series(b, after)
    rows = _follow_plasmacytomas(record, treatment_start, rows, notes)
    result = _summarise(b, after, rows, imaging_confirms=True)
    result.notes.extend(notes)
    grown = set(plasmacytoma_growth_dates(record))
    for row in rows:
        if row.rule == "pd_new_lesion" and row.date in grown:
            result.notes.append(
                f"{row.date}: a known plasmacytoma grew >= 50% or came back (PD on imaging)"
            )
    if result.relapse_from_cr_date is not None:
        result.notes.append(
            f"relapse from CR on {result.relapse_from_cr_date}: M-protein (immunofixation) or "
            "marrow plasma cells came back after CR; this is not progression (PD) by itself"
        )
    return result


def involved_chain(record: PatientRecord) -> LightChain | None:
    return record.diagnosis.isotype.light_chain


__all__ = [
    "MISSING_LABEL",
    "RULES",
    "Assessment",
    "AssessmentResult",
    "Baseline",
    "Missing",
    "Path",
    "ResponseResult",
    "assessments_from_record",
    "baseline_plasmacytomas",
    "build_baseline",
    "classify",
    "evaluate",
    "evaluate_record",
    "flc_ratio_abnormal",
    "flc_ratio_normal",
    "group_windows",
    "imaging_pd_dates",
    "involved_chain",
    "m_protein_value",
    "missing_labels",
    "new_lesion_dates",
    "plasmacytoma_growth_dates",
]
