"""Patient × study: each structured criterion → met / not met / unknown, with the fact used.

Semantics (read before changing anything):

* An atom states a fact about the patient; evaluation gives true, false or unknown
  (``myelonav.logic.Truth``, Kleene and/or). An unknown carries why (``Why``): a fact missing
  from the record, a routine item the study team checks (screening), or text the parser did
  not understand (ask the study team).
  An inclusion criterion is *met* when its tree is TRUE; an exclusion criterion is *met*
  (the patient is not excluded) when its tree is FALSE.
* A missing or stale fact (older than 90 days for labs and disease measurements) is UNKNOWN,
  never TRUE or FALSE. Unknowns are never counted as met.
* Therapy history, transplants, disease sites and FISH findings are read as complete: an
  agent that is not in the record was not given. A rare disease feature (CNS disease,
  plasma-cell leukaemia, extramedullary disease) that is not recorded does not trigger an
  exclusion ("none recorded"), but cannot satisfy an inclusion that requires it (unknown).
* Verdict: any criterion not met → ``likely_ineligible`` (listing them); otherwise any unknown
  → ``possibly_eligible`` (listing what to find out); otherwise ``likely_eligible``. Screening
  items and text to ask about are listed but do not change the verdict, except that text
  naming a drug or class the patient has had is treated as unknown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from myelonav.clinical import renal
from myelonav.clinical import thresholds as th
from myelonav.errors import MyelonavError
from myelonav.logic import Truth, all_of, any_of
from myelonav.patient.models import (
    Analyte,
    AntigenStatus,
    CytogeneticAbnormality,
    DiseaseSiteKind,
    Sex,
)
from myelonav.patient.vocabulary import vocabulary
from myelonav.trials._facts import CURRENT_DAYS, Exposure, PatientFacts
from myelonav.trials.categories import TrialCategories, categorise
from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    AgeAtom,
    AntigenAtom,
    Criterion,
    CriterionKind,
    CytogeneticAtom,
    DiseaseStateAtom,
    ExposureAtom,
    FeatureAtom,
    Group,
    LabAtom,
    MeasurableAtom,
    Node,
    OtherAtom,
    ParsedCriteria,
    PerformanceAtom,
    PriorLinesAtom,
    ScreeningAtom,
    Section,
    TimeSinceAtom,
    TransplantAtom,
)
from myelonav.trials.criteria.parser import parse_criteria
from myelonav.trials.criteria.residue import BOTH_WAYS, REGION
from myelonav.trials.models import Study

LAST_REVIEWED = "2026-11-25"


class Why(StrEnum):
    """Why a criterion or atom is unknown (the truth itself is three-valued: ``logic.Truth``).

    ``missing``: a fact the record does not hold; ``ask``: text (or a part of it) the parser did
    not understand, so ask the study team; ``screening``: a routine item the study team checks.
    When parts are combined, ``missing`` outranks ``ask``, which outranks ``screening``.
    """

    missing = "missing"
    ask = "ask"
    screening = "screening"


_WHY_RANK = {Why.missing: 2, Why.ask: 1, Why.screening: 0}


class Result(StrEnum):
    met = "met"
    not_met = "not_met"
    unknown = "unknown"
    screening = "screening"
    ask = "ask"


class Verdict(StrEnum):
    likely_eligible = "likely_eligible"
    possibly_eligible = "possibly_eligible"
    likely_ineligible = "likely_ineligible"


@dataclass(slots=True)
class CriterionResult:
    """One criterion judged for one patient. (A dataclass: matching builds many of these.)"""

    id: str
    section: Section
    text: str
    kind: CriterionKind
    kinds: list[CriterionKind]
    result: Result
    patient_fact: str
    exception: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "section": self.section.value,
            "text": self.text,
            "kind": self.kind.value,
            "result": self.result.value,
            "patient_fact": self.patient_fact,
        }
        if self.exception:
            out["exception"] = self.exception
        return out


@dataclass(slots=True)
class TrialMatch:
    nct_id: str
    title: str
    verdict: Verdict
    judged: Sequence[tuple[Criterion, Result, str]]  # in order; may be shared between matches
    failing: list[str] = field(default_factory=list)  # ids of criteria not met
    unknown: list[str] = field(default_factory=list)  # ids of criteria we cannot judge
    ask_study_team: list[str] = field(default_factory=list)
    is_sample: bool = False
    categories: TrialCategories | None = None
    _criteria: list[CriterionResult] | None = None

    @property
    def criteria(self) -> list[CriterionResult]:
        """Criterion results, built on first use (ranking thousands of studies needs only ids)."""
        if self._criteria is None:
            self._criteria = [
                CriterionResult(
                    id=c.id,
                    section=c.section,
                    text=c.text,
                    kind=c.kind,
                    kinds=list(c.kinds),
                    result=r,
                    patient_fact=f,
                    exception=c.exception,
                )
                for c, r, f in self.judged
            ]
        return self._criteria

    def by_id(self, criterion_id: str) -> CriterionResult:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "nct_id": self.nct_id,
            "title": self.title,
            "verdict": self.verdict.value,
            "is_sample": self.is_sample,
            "categories": (self.categories or TrialCategories()).as_dict(),
            "failing": self.failing,
            "unknown": self.unknown,
            "ask_study_team": self.ask_study_team,
            "criteria": [c.as_dict() for c in self.criteria],
        }


# --------------------------------------------------------------------------- atom evaluation

Eval = tuple[Truth, str]
# an atom's value: truth, the patient fact, and why it is unknown (None when known)
Value = tuple[Truth, str, Why | None]
_UNKNOWN_PREFIX = "unknown: "


def _tri(value: bool) -> Truth:
    return Truth.of(value)


def _age(f: PatientFacts, a: AgeAtom) -> Eval:
    if f.age is None:
        return Truth.unknown, "age not recorded"
    lo = f"{a.min_years:g}" if a.min_years is not None else ""
    hi = f"{a.max_years:g}" if a.max_years is not None else ""
    ok = (a.min_years is None or f.age >= a.min_years) and (
        a.max_years is None or f.age <= a.max_years
    )
    return _tri(ok), f"age {f.age} on {f.as_of} (allowed {lo}-{hi})"


# ECOG → Karnofsky ranges as commonly tabulated (e.g. Prasad KT et al., World J Clin Oncol
# 2018;9:140-7, doi:10.5306/wjco.v9.i7.140). The scales match only approximately, so a range
# that straddles the limit stays unknown.
_KPS_RANGE = {0: (90, 100), 1: (70, 80), 2: (50, 60), 3: (30, 40), 4: (10, 20), 5: (0, 0)}


def _performance(f: PatientFacts, a: PerformanceAtom) -> Eval:
    ecog = f.record.latest_ecog(f.as_of)
    if ecog is None:
        return Truth.unknown, "no ECOG performance status recorded"
    when = f" on {ecog.date}" if ecog.date else ""
    if ecog.date is not None and (f.as_of - ecog.date).days > CURRENT_DAYS:
        return Truth.unknown, f"last ECOG {ecog.score}{when} is more than {CURRENT_DAYS} days old"
    if a.max_ecog is not None:
        return _tri(ecog.score <= a.max_ecog), f"ECOG {ecog.score}{when} (max {a.max_ecog})"
    assert a.min_karnofsky is not None
    low, high = _KPS_RANGE[ecog.score]
    fact = f"ECOG {ecog.score}{when} ≈ Karnofsky {low}-{high} (min {a.min_karnofsky})"
    if low >= a.min_karnofsky:
        return Truth.true, fact
    if high < a.min_karnofsky:
        return Truth.false, fact
    return Truth.unknown, fact + "; the scales do not convert exactly"


def _flc(f: PatientFacts) -> tuple[float | None, float | None, str]:
    """(involved FLC mg/L, kappa/lambda ratio, label) from current results."""
    kappa, lam = f.lab(Analyte.kappa_flc), f.lab(Analyte.lambda_flc)
    ratio_lab = f.lab(Analyte.flc_ratio)
    ratio = ratio_lab.value if ratio_lab is not None else None
    if ratio is None and kappa and lam and kappa.value is not None and lam.value:
        ratio = kappa.value / lam.value
    chain = f.record.diagnosis.isotype.light_chain
    if chain is None:
        if kappa is None or lam is None or kappa.value is None or lam.value is None:
            return None, ratio, "free light chain"
        return (
            max(kappa.value, lam.value),
            ratio,
            "kappa FLC" if kappa.value >= lam.value else "lambda FLC",
        )
    involved = kappa if chain.value == "kappa" else lam
    value = involved.value if involved is not None else None
    return value, ratio, f"{chain.value} FLC"


def _measurable(f: PatientFacts, a: MeasurableAtom) -> Eval:
    missing: list[str] = []
    below: list[str] = []
    if a.serum_g_dl is not None:
        lab = f.lab(Analyte.serum_m_protein)
        if lab is None or lab.value is None:
            missing.append(f.lab_missing(Analyte.serum_m_protein, "serum M-protein"))
        elif lab.value + th.EPS >= a.serum_g_dl:
            return (
                Truth.true,
                f"serum M-protein {lab.value:g} g/dL on {lab.date} (>= {a.serum_g_dl:g})",
            )
        else:
            below.append(f"serum M-protein {lab.value:g} g/dL on {lab.date} (< {a.serum_g_dl:g})")
    if a.urine_mg_24h is not None:
        lab = f.lab(Analyte.urine_m_protein)
        if lab is None or lab.value is None:
            missing.append(f.lab_missing(Analyte.urine_m_protein, "24-hour urine M-protein"))
        elif lab.value + th.EPS >= a.urine_mg_24h:
            return (
                Truth.true,
                f"urine M-protein {lab.value:g} mg/24h on {lab.date} (>= {a.urine_mg_24h:g})",
            )
        else:
            below.append(f"urine M-protein {lab.value:g} mg/24h (< {a.urine_mg_24h:g})")
    if a.flc_mg_dl is not None:
        value, ratio, label = _flc(f)
        if value is None:
            missing.append(f.lab_missing(Analyte.kappa_flc, "free light chain result"))
        else:
            mg_dl = value / 10.0
            abnormal = ratio is not None and (
                ratio < th.FLC_RATIO_NORMAL_LOW or ratio > th.FLC_RATIO_NORMAL_HIGH
            )
            if mg_dl + th.EPS >= a.flc_mg_dl and abnormal:
                return Truth.true, (
                    f"involved {label} {mg_dl:g} mg/dL with abnormal ratio "
                    f"{ratio:.3g} (>= {a.flc_mg_dl:g} mg/dL)"
                )
            if mg_dl + th.EPS >= a.flc_mg_dl and ratio is None:
                missing.append("kappa/lambda ratio not available")
            else:
                below.append(f"involved {label} {mg_dl:g} mg/dL")
    if missing:
        return Truth.unknown, "; ".join(below + missing)
    return Truth.false, "no measurable disease: " + "; ".join(below)


def _lines(f: PatientFacts, a: PriorLinesAtom) -> Eval:
    n = f.line_count
    bound = " and ".join(
        x
        for x in (
            f">= {a.min_lines}" if a.min_lines is not None else "",
            f"<= {a.max_lines}" if a.max_lines is not None else "",
        )
        if x
    )
    fact = f"{n} prior lines (IMWG grouping; {f.regimen_count} regimens listed) {bound}"
    if not f.treated:
        fact = f"no prior therapy recorded {bound}"
    ok = (a.min_lines is None or n >= a.min_lines) and (a.max_lines is None or n <= a.max_lines)
    return _tri(ok), fact


def _matches(e: Exposure, groups: Iterable[tuple[str, ...]], drugs: Iterable[str]) -> bool:
    for g in groups:
        if len(g) == 1 and g[0].startswith("drug:"):
            if e.agent == g[0][5:]:
                return True
        elif set(g) <= e.classes:
            return True
    return e.agent in set(drugs)


_CLASS_LABEL = {
    "bcma_directed": "BCMA-directed",
    "gprc5d_directed": "GPRC5D-directed",
    "car_t": "CAR T",
    "bispecific": "bispecific",
    "adc": "antibody-drug conjugate",
    "fcrh5_directed": "FcRH5-directed",
    "proteasome_inhibitor": "PI",
    "imid": "IMiD",
    "anti_cd38": "anti-CD38",
    "celmod": "CELMoD",
    "bcl2_inhibitor": "BCL-2 inhibitor",
    "xpo1_inhibitor": "XPO1 inhibitor",
}


def target_label(groups: Sequence[tuple[str, ...]], drugs: Sequence[str]) -> str:
    parts = [
        " ".join(
            _CLASS_LABEL.get(c, c)
            for c in sorted(g, key=lambda c: c in {"car_t", "bispecific", "adc"})
        )
        for g in groups
    ]
    parts += list(drugs)
    return " or ".join(parts) or "therapy"


def _exposure(f: PatientFacts, a: ExposureAtom) -> Eval:
    if a.any_therapy:
        if f.treated:
            return Truth.true, f"{f.line_count} prior lines of anti-myeloma therapy"
        return Truth.false, "no prior anti-myeloma therapy recorded"
    label = target_label(a.groups, a.drugs)
    hits = [
        e
        for e in f.exposures
        if _matches(e, a.groups, a.drugs) and not _matches(e, a.except_groups, ())
    ]
    names = list(dict.fromkeys(e.agent for e in hits))
    if a.allowed:
        had = f"; you have had {', '.join(names)}" if names else ""
        return Truth.true, f"prior {label} therapy is allowed{had}"
    if a.refractory:
        refr = [e for e in hits if e.refractory]
        agents = list(dict.fromkeys(e.agent for e in refr))
        if len(agents) >= a.min_agents:
            return Truth.true, f"refractory to {label}: {', '.join(agents)}"
        if any(e.refractory is None for e in hits):
            return (
                Truth.unknown,
                f"received {label} ({', '.join(names)}) but refractoriness not recorded",
            )
        if not hits:
            return _unresolved_or_false(f, f"no prior {label} therapy")
        return Truth.false, f"not refractory to {label} ({', '.join(names)})"
    if len(names) >= a.min_agents:
        return Truth.true, f"prior {label}: {', '.join(names)}"
    if names:
        return (
            Truth.false,
            f"prior {label}: {', '.join(names)} ({len(names)} of {a.min_agents} needed)",
        )
    return _unresolved_or_false(f, f"no prior {label} therapy")


def _unresolved_or_false(f: PatientFacts, fact: str) -> Eval:
    unknown = sorted({e.agent for e in f.exposures if not e.known})
    if unknown:
        return Truth.unknown, f"{fact} among known agents; not recognised: {', '.join(unknown)}"
    return Truth.false, fact


def _event_date(f: PatientFacts, a: TimeSinceAtom) -> tuple[dt.date | None, str, bool]:
    """(date of the most recent event, label, known). (None, "", True) = never happened."""
    if a.event == "car_t_infusion":
        if not f.car_t:
            return None, "no CAR T", True
        c = f.car_t[-1]
        return c.infusion_date, f"CAR T infusion {c.infusion_date}", True
    if a.event == "last_therapy":
        end, label, known = f.last_therapy_end()
        if end is None and not label:
            return None, "no prior anti-myeloma therapy", True
        return end, f"last anti-myeloma therapy ({label}) ended {end}", known
    if a.event == "exposure":
        hits = [e for e in f.exposures if _matches(e, a.groups, a.drugs)]
        if not hits:
            return None, f"no prior {target_label(a.groups, a.drugs)}", True
        if any(e.ongoing for e in hits):
            return f.as_of, f"{hits[0].agent} ongoing", True
        if any(e.end is None for e in hits):
            return None, f"{hits[0].agent}: end date not recorded", False
        latest = max(hits, key=lambda e: e.end or dt.date.min)
        return latest.end, f"{latest.agent} last given {latest.end}", True
    if a.event == "radiotherapy":
        if not f.record.radiation:
            return None, "no radiotherapy recorded", True
        dates = [
            d for r in f.record.radiation if (d := r.end or r.start) is not None and d <= f.as_of
        ]
        if not dates:
            return None, "radiotherapy dates not recorded", False
        return max(dates), f"radiotherapy ended {max(dates)}", True
    kinds = {
        "autologous_transplant": {"autologous"},
        "allogeneic_transplant": {"allogeneic"},
        "any_transplant": {"autologous", "allogeneic"},
    }[a.event]
    found = [t for t in f.record.transplants if t.kind.value in kinds]
    if not found:
        return None, f"no {a.event.replace('_', ' ')} recorded", True
    dated = [t.date for t in found if t.date is not None and t.date <= f.as_of]
    if not dated:
        return None, f"{a.event.replace('_', ' ')} date not recorded", False
    return max(dated), f"{found[0].kind.value} transplant {max(dated)}", True


def _time_since(f: PatientFacts, a: TimeSinceAtom) -> Eval:
    when, label, known = _event_date(f, a)
    if not known or (when is None and a.event == "last_therapy" and "ended" in label):
        return Truth.unknown, label
    if when is None:
        return _tri(a.op == "ge"), f"{label} (window {a.days} days)"
    days = (f.as_of - when).days
    bound = f"{'min' if a.op == 'ge' else 'within'} {a.days}"
    fact = f"{days} days since {label} (as of {f.as_of}; {bound})"
    return _tri(days >= a.days if a.op == "ge" else days < a.days), fact


def _transplant(f: PatientFacts, a: TransplantAtom) -> Eval:
    found = [t for t in f.record.transplants if a.kind == "any" or t.kind.value == a.kind]
    if found:
        dates = ", ".join(str(t.date) for t in found if t.date) or "date not recorded"
        return Truth.true, f"{found[0].kind.value} transplant ({dates})"
    return Truth.false, f"no {a.kind if a.kind != 'any' else ''} transplant recorded".replace(
        "  ", " "
    )


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


# Plasma-cell leukaemia: ≥5% circulating plasma cells (IMWG 2021 definition; Fernández de
# Larrea C, et al. Blood Cancer J 2021;11:192. doi:10.1038/s41408-021-00587-0).
PCL_CIRCULATING_PCT = 5.0


def _feature(f: PatientFacts, a: FeatureAtom, need_true: bool) -> Eval:
    rec = f.record
    absent: Eval = (Truth.unknown, "") if need_true else (Truth.false, "")
    if a.feature == "non_secretory":
        iso = rec.diagnosis.isotype
        if iso.non_secretory:
            return Truth.true, "non-secretory myeloma recorded"
        if iso.heavy_chain or iso.light_chain:
            return Truth.false, f"secretory disease ({iso.label()})"
        return absent[0], "isotype not recorded"
    kinds = {
        "cns": {DiseaseSiteKind.cns},
        "pcl": {DiseaseSiteKind.plasma_cell_leukemia},
        "extramedullary": {DiseaseSiteKind.extramedullary_plasmacytoma}
        | ({DiseaseSiteKind.paraskeletal_plasmacytoma} if a.paraskeletal else set()),
    }[a.feature]
    label = {
        "cns": "CNS involvement",
        "pcl": "plasma cell leukemia",
        "extramedullary": "extramedullary disease",
    }[a.feature]
    sites = [
        s
        for s in rec.disease_sites
        if s.kind in kinds and s.active is not False and (s.date is None or s.date <= f.as_of)
    ]
    if a.feature == "pcl":
        cpc = rec.latest(Analyte.circulating_plasma_cells, f.as_of)
        if cpc is not None and cpc.value is not None:
            if cpc.value + th.EPS >= PCL_CIRCULATING_PCT:
                return (
                    Truth.true,
                    f"plasma cell leukemia ({cpc.value:g}% circulating plasma cells on {cpc.date})",
                )
            if not sites and (f.as_of - cpc.date).days <= CURRENT_DAYS:
                return (
                    Truth.false,
                    f"{cpc.value:g}% circulating plasma cells on {cpc.date} "
                    f"(< {PCL_CIRCULATING_PCT:g}%)",
                )
    if sites:
        where = f" ({sites[0].location})" if sites[0].location else ""
        return Truth.true, f"{label} recorded{where}"
    if need_true:
        return Truth.unknown, f"no {label} in the record"
    return Truth.false, f"no {label} recorded"


def _antigen(f: PatientFacts, a: AntigenAtom) -> Eval:
    target = a.antigen.upper()
    episodes = [
        c
        for c in f.car_t
        if (c.target_antigen or "").upper() == target
        or (target == "BCMA" and "bcma_directed" in vocabulary().classes_of([c.product]))
    ]
    tested = [
        c for c in episodes if c.antigen_status_at_relapse not in (None, AntigenStatus.not_tested)
    ]
    if not tested:
        return Truth.unknown, f"{target} expression at relapse not recorded"
    c = tested[-1]
    status = c.antigen_status_at_relapse
    assert status is not None
    if status is AntigenStatus.negative:
        return Truth.false, f"{target} negative at relapse after CAR T"
    fact = f"{target} {status.value} at relapse after CAR T"
    if a.after_latest_relapse:
        tested_on = c.antigen_status_date or c.progression_date or c.infusion_date
        later = [
            e
            for e in f.exposures
            if e.source != "CAR T"
            and e.start is not None
            and e.start > c.infusion_date
            and e.stopped_for_progression
            and (e.end is None or e.end > tested_on)
        ]
        if later:
            return Truth.unknown, (
                f"{target} {status.value} at post-CAR T relapse, but not re-tested "
                f"after the most recent relapse (on {later[-1].source})"
            )
    return Truth.true, fact


def _cytogenetic(f: PatientFacts, a: CytogeneticAtom) -> Eval:
    abn = CytogeneticAbnormality(a.abnormality)
    found = f.record.has_abnormality(abn)
    if found is True:
        return Truth.true, f"{abn.value} on FISH"
    if found is False:
        return Truth.false, f"{abn.value} tested and not found"
    reported = sorted({c.abnormality.value for c in f.record.cytogenetics if c.detected})
    if f.record.cytogenetics:
        return (
            Truth.false,
            f"FISH reports {', '.join(reported) or 'no abnormality'}; {abn.value} not reported",
        )
    return Truth.unknown, "no FISH results in the record"


def _disease_state(f: PatientFacts, a: DiseaseStateAtom) -> Eval:
    treated = f.treated
    answers: list[Eval] = []
    for state in a.states:
        if state == "rrmm":
            answers.append(
                (
                    _tri(treated),
                    "previously treated, relapsed/refractory myeloma"
                    if treated
                    else "no prior therapy recorded",
                )
            )
        elif state == "ndmm":
            answers.append(
                (
                    _tri(not treated),
                    "previously treated relapsed/refractory myeloma, not newly diagnosed"
                    if treated
                    else "no prior therapy recorded (newly diagnosed)",
                )
            )
        elif state == "smoldering":
            answers.append(
                (Truth.false, "active relapsed/refractory myeloma, not smoldering myeloma")
                if treated
                else (Truth.unknown, "untreated; whether smoldering is not recorded")
            )
        elif state == "active_mm":
            answers.append(
                (Truth.true, "treated (active) multiple myeloma")
                if treated
                else (
                    Truth.unknown,
                    "untreated; whether myeloma-defining events are present is not recorded",
                )
            )
        elif state == "al_amyloidosis":
            answers.append(
                (Truth.false, "diagnosis is multiple myeloma; AL amyloidosis not recorded")
            )
        else:
            answers.append((Truth.false, "diagnosis is multiple myeloma, not MGUS"))
    rank = {Truth.true: 2, Truth.unknown: 1, Truth.false: 0}
    return max(answers, key=lambda x: rank[x[0]])


_OTHER_TERMS = re.compile(r"\bBCMA\b|\bGPRC5D\b|\bCAR[\s-]?T\b|\bbispecific\b|\bFcRH5\b", re.I)


def _other(f: PatientFacts, a: OtherAtom) -> Value:
    """Text we could not structure. If it names something this patient has had, it matters."""
    named = {d.id for d in vocabulary().find_in_text(a.text)}
    had = sorted(named & {e.agent for e in f.exposures})
    classes = {c for e in f.exposures for c in e.classes}
    if had:
        return (
            Truth.unknown,
            f"mentions {', '.join(had)}, which you have had; ask the study team",
            Why.missing,
        )
    if _OTHER_TERMS.search(a.text) and classes & {
        "bcma_directed",
        "gprc5d_directed",
        "car_t",
        "bispecific",
    }:
        return (
            Truth.unknown,
            "mentions a therapy type you have had; ask the study team",
            Why.missing,
        )
    return Truth.unknown, "ask the study team", Why.ask


def _screening(a: ScreeningAtom) -> Value:
    return Truth.unknown, "the study team will check", Why.screening


def _needs_true(section: Section, negations: int) -> bool:
    return (section is Section.inclusion) == (negations % 2 == 0)


@dataclass(frozen=True, slots=True)
class ParsedJudgement:
    """Criteria judged for one patient, in order, with the ids that decide the verdict."""

    judged: tuple[tuple[Criterion, Result, str], ...]
    failing: tuple[str, ...]
    unknown: tuple[str, ...]
    ask: tuple[str, ...]

    @property
    def verdict(self) -> Verdict:
        if self.failing:
            return Verdict.likely_ineligible
        if self.unknown:
            return Verdict.possibly_eligible
        return Verdict.likely_eligible


class Matcher:
    """Evaluates criteria for one patient on one date.

    Everything it answers is memoised for the query: each distinct atom (by value), each
    distinct criterion text per section, each parse object and each (condition, age, parse)
    triple, so a study costs a few lookups once its criteria have been seen. Memoised answers
    are exactly what evaluating afresh gives (tests/trials/test_match_equivalence.py).
    """

    def __init__(self, facts: PatientFacts) -> None:
        self.facts = facts
        self._cache: dict[tuple[object, bool], Value] = {}
        self._by_id: dict[tuple[int, bool], tuple[Node, Value]] = {}
        # criterion text -> answer, one table per section (the parser is deterministic, so equal
        # text in the same section means an equal tree; str hashes are cached)
        self._inclusion: dict[str, tuple[Result, str]] = {}
        self._exclusion: dict[str, tuple[Result, str]] = {}
        # id(parse) -> (parse, its judgement); the parse is held so its id cannot be reused
        self._parses: dict[int, tuple[ParsedCriteria, ParsedJudgement]] = {}
        # (id(condition), id(age), id(parse)) -> (the three, the study's judgement)
        self._studies: dict[tuple[int, int, int], tuple[object, object, object, ParsedJudgement]]
        self._studies = {}
        self._registry: dict[int, tuple[Criterion, tuple[Result, str]]] = {}

    def atom(self, node: Node, need_true: bool) -> Value:
        # by identity first (the parser shares atoms between texts; hashing a model is slow),
        # then by value
        seen = self._by_id.get((id(node), need_true))
        if seen is not None and seen[0] is node:
            return seen[1]
        key = (node, need_true)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._atom(node, need_true)
        self._by_id[(id(node), need_true)] = (node, hit)
        return hit

    def _atom(self, node: Node, need_true: bool) -> Value:
        f = self.facts
        if isinstance(node, ScreeningAtom):
            return _screening(node)
        if isinstance(node, OtherAtom):
            return _other(f, node)
        if isinstance(node, FeatureAtom):
            tri, fact = _feature(f, node, need_true != node.negate)
        elif isinstance(node, AgeAtom):
            tri, fact = _age(f, node)
        elif isinstance(node, PerformanceAtom):
            tri, fact = _performance(f, node)
        elif isinstance(node, MeasurableAtom):
            tri, fact = _measurable(f, node)
        elif isinstance(node, PriorLinesAtom):
            tri, fact = _lines(f, node)
        elif isinstance(node, ExposureAtom):
            tri, fact = _exposure(f, node)
        elif isinstance(node, TimeSinceAtom):
            tri, fact = _time_since(f, node)
        elif isinstance(node, TransplantAtom):
            tri, fact = _transplant(f, node)
        elif isinstance(node, LabAtom):
            tri, fact = _lab(f, node)
        elif isinstance(node, AntigenAtom):
            tri, fact = _antigen(f, node)
        elif isinstance(node, CytogeneticAtom):
            tri, fact = _cytogenetic(f, node)
        elif isinstance(node, DiseaseStateAtom):
            tri, fact = _disease_state(f, node)
        else:  # pragma: no cover - Group handled by tree()
            raise TypeError(type(node).__name__)
        if node.negate:
            tri = tri.negate()
        return tri, fact, None if tri.known else Why.missing

    def tree(
        self, node: Node, need_true: bool
    ) -> tuple[Truth, Why | None, list[tuple[Truth, str]]]:
        """Value of a tree (Kleene, ``myelonav.logic``), why it is unknown, and the
        (truth, fact) of each atom that decided it."""
        if not isinstance(node, Group):
            truth, fact, atom_why = self.atom(node, need_true)
            return truth, atom_why, [(truth, fact)]
        parts = [self.tree(item, need_true) for item in node.items]
        truths = [p[0] for p in parts]
        value = all_of(truths) if node.op == "and" else any_of(truths)
        why: Why | None = None
        if value is Truth.unknown:
            why = max(
                (p[1] or Why.missing for p in parts if p[0] is Truth.unknown),
                key=_WHY_RANK.__getitem__,
            )
        everything = [fact for p in parts for fact in p[2]]
        if why in (Why.ask, Why.screening) or (node.op == "and" and value is Truth.true):
            return value, why, everything
        deciding = [fact for p in parts if p[0] is value and p[1] is why for fact in p[2]]
        return value, why, deciding or everything

    def criterion(self, c: Criterion) -> CriterionResult:
        result, fact = self.judge(c)
        return CriterionResult(
            id=c.id,
            section=c.section,
            text=c.text,
            kind=c.kind,
            kinds=list(c.kinds),
            result=result,
            patient_fact=fact,
            exception=c.exception,
        )

    def judge_parsed(self, parsed: ParsedCriteria) -> ParsedJudgement:
        """Every criterion of one stored parse, judged once per parse object (stores share one
        parse between studies with the same text, and a parse is immutable)."""
        hit = self._parses.get(id(parsed))
        if hit is not None and hit[0] is parsed:
            return hit[1]
        inclusion, exclusion = self._inclusion, self._exclusion
        incl = Section.inclusion
        not_met, unknown_, ask_ = Result.not_met, Result.unknown, Result.ask
        judged: list[tuple[Criterion, Result, str]] = []
        failing: list[str] = []
        unknown: list[str] = []
        ask: list[str] = []
        for c in parsed.criteria:
            text = c.text
            table = inclusion if c.section is incl else exclusion
            answer = table.get(text)
            if answer is None:
                answer = table[text] = self._judge(c)
            result = answer[0]
            judged.append((c, result, answer[1]))
            if result is not_met:
                failing.append(c.id)
            elif result is unknown_:
                unknown.append(c.id)
            elif result is ask_:
                ask.append(text)
        value = ParsedJudgement(tuple(judged), tuple(failing), tuple(unknown), tuple(ask))
        self._parses[id(parsed)] = (parsed, value)
        return value

    def judge(self, c: Criterion) -> tuple[Result, str]:
        table = self._inclusion if c.section is Section.inclusion else self._exclusion
        hit = table.get(c.text)
        if hit is None:
            hit = table[c.text] = self._judge(c)
        return hit

    def judge_study(
        self, condition: Criterion | None, age: Criterion | None, parsed: ParsedCriteria
    ) -> ParsedJudgement:
        """The registry's condition and age criteria, then the parsed ones. Memoised per
        distinct (condition, age, parse) objects: the first two are shared between studies."""
        key = (id(condition), id(age), id(parsed))
        hit = self._studies.get(key)
        if hit is not None and hit[0] is condition and hit[1] is age and hit[2] is parsed:
            return hit[3]
        body = self.judge_parsed(parsed)
        head: list[tuple[Criterion, Result, str]] = []
        if condition is not None and isinstance(condition.tree, OtherAtom):
            head.append((condition, Result.not_met, _NOT_MYELOMA))
        elif condition is not None:
            head.append((condition, *self._judge_registry(condition)))
        if age is not None:
            head.append((age, *self._judge_registry(age)))
        value = body
        if head:
            failing, unknown, ask = [], [], []
            for c, r, _ in head:
                if r is Result.not_met:
                    failing.append(c.id)
                elif r is Result.unknown:
                    unknown.append(c.id)
                elif r is Result.ask:
                    ask.append(c.text)
            value = ParsedJudgement(
                (*head, *body.judged),
                (*failing, *body.failing) if failing else body.failing,
                (*unknown, *body.unknown) if unknown else body.unknown,
                (*ask, *body.ask) if ask else body.ask,
            )
        self._studies[key] = (condition, age, parsed, value)
        return value

    def _judge_registry(self, c: Criterion) -> tuple[Result, str]:
        """A criterion built from registry fields. Unlike parsed criteria, equal text does not
        mean an equal tree here (the condition criterion's text names the conditions, its tree
        also reads the title), so these are cached per object; the builders are memoised on
        every field they read, so equal inputs give the same object."""
        hit = self._registry.get(id(c))
        if hit is not None and hit[0] is c:
            return hit[1]
        answer = self._judge(c)
        self._registry[id(c)] = (c, answer)
        return answer

    def _judge(self, c: Criterion) -> tuple[Result, str]:
        need_true = c.section is Section.inclusion
        if c.region is not None:
            home = self.facts.record.demographics.country
            if home is not None and home.upper() != c.region:
                return Result.met, f"applies only to participants in {c.region} (you: {home})"
            if home is not None:
                # the note applies: judge it as written, without the region caveat
                c = c.model_copy(
                    update={
                        "unaccounted": tuple(u for u in c.unaccounted if not u.startswith(REGION))
                    }
                )
        value, why, facts = self.tree(c.tree, need_true)
        return outcome(c, need_true, value, why, facts)


def outcome(
    c: Criterion,
    need_true: bool,
    value: Truth,
    why: Why | None,
    facts: Sequence[tuple[Truth, str]],
) -> tuple[Result, str]:
    """A criterion's result from its tree's value."""
    shown = "; ".join(dict.fromkeys(fact for _, fact in facts if fact))
    if value is Truth.unknown:
        if why is Why.screening:
            return Result.screening, shown
        if why is Why.ask:
            return Result.ask, shown
        return Result.unknown, shown
    met = (value is Truth.true) == need_true
    if met and not any(u.startswith(BOTH_WAYS) for u in c.unaccounted):
        return Result.met, shown
    if c.unaccounted:
        # safety by construction: a part of the text was not understood, so the criterion
        # cannot be called failed; show what was not understood
        left = "; ".join(c.unaccounted)
        return Result.unknown, f"{shown}; not understood: {left} (ask the study team)".lstrip("; ")
    return (Result.met if met else Result.not_met), shown


# --------------------------------------------------------------------------- study level

_MYELOMA = re.compile(r"myeloma|plasma[\s-]cell|plasmacytoma|\bMM\b|\bRRMM\b|\bNDMM\b", re.I)


def condition_criterion(study: Study) -> Criterion | None:
    """The population a study is for, from its conditions and title, as a criterion."""
    return _condition_criterion(tuple(study.conditions), study.title)


@lru_cache(maxsize=16384)
def _condition_criterion(condition_list: tuple[str, ...], title: str) -> Criterion | None:
    conditions = " | ".join(condition_list)
    text = f"{conditions} | {title}"
    states: list[str] = []
    for pattern, state in lx.DISEASE_STATES:
        if pattern.search(text) and state in {"ndmm", "smoldering", "al_amyloidosis", "mgus"}:
            states.append(state)
    myeloma = bool(_MYELOMA.search(conditions)) or (not conditions and bool(_MYELOMA.search(title)))
    if lx.RRMM_PHRASE.search(text) or re.search(
        r"\brelapse\w*|\brefractory\b|\bafter CAR", text, re.I
    ):
        states.append("rrmm")
    if myeloma and not states:
        return None  # any myeloma: nothing to check
    if not myeloma and not states:
        tree: Node = OtherAtom(text=f"Condition studied: {conditions or title}")
        return Criterion(
            id="C1",
            section=Section.inclusion,
            text=f"Condition studied: {conditions}",
            tree=tree,
            kinds=(CriterionKind.disease_state,),
        )
    if myeloma and "al_amyloidosis" in states and len(states) == 1:
        states.append("rrmm")  # myeloma with amyloidosis: myeloma patients can fit
    return Criterion(
        id="C1",
        section=Section.inclusion,
        text=f"Condition studied: {conditions or title}",
        tree=DiseaseStateAtom(states=tuple(dict.fromkeys(states))),
        kinds=(CriterionKind.disease_state,),
    )


def registry_age_criterion(study: Study) -> Criterion | None:
    e = study.eligibility
    if e.minimum_age_years is None and e.maximum_age_years is None:
        return None
    return _age_criterion(e.minimum_age, e.maximum_age, e.minimum_age_years, e.maximum_age_years)


@lru_cache(maxsize=1024)
def _age_criterion(
    minimum: str | None, maximum: str | None, lo_years: float | None, hi_years: float | None
) -> Criterion:
    lo = minimum or "no minimum"
    hi = maximum or "no maximum"
    return Criterion(
        id="A1",
        section=Section.inclusion,
        text=f"Registered age range: {lo} to {hi}",
        tree=AgeAtom(min_years=lo_years, max_years=hi_years),
        kinds=(CriterionKind.age,),
    )


_NOT_MYELOMA = "this study is not for multiple myeloma"


def match_study(matcher: Matcher, study: Study, parsed: ParsedCriteria | None = None) -> TrialMatch:
    """Judge one study for the matcher's patient. ``parsed`` is the stored parse, if any."""
    if parsed is None:
        parsed = parse_criteria(study.eligibility.criteria_text)
    j = matcher.judge_study(condition_criterion(study), registry_age_criterion(study), parsed)
    return TrialMatch(
        nct_id=study.nct_id,
        title=study.title,
        verdict=j.verdict,
        judged=j.judged,
        failing=list(j.failing),
        unknown=list(j.unknown),
        ask_study_team=list(j.ask),
        is_sample=study.is_sample,
        categories=categorise(study),
    )


def matcher_for(record: object, as_of: dt.date) -> Matcher:
    from myelonav.patient.models import PatientRecord

    if not isinstance(record, PatientRecord):
        raise TypeError("matcher_for needs a PatientRecord")
    return Matcher(PatientFacts.build(record, as_of))


def match_studies(
    record: object,
    studies: Iterable[tuple[Study, ParsedCriteria | None]],
    as_of: dt.date,
) -> list[TrialMatch]:
    """Judge every study for one patient; atoms shared between studies are evaluated once."""
    matcher = matcher_for(record, as_of)
    return [match_study(matcher, s, p) for s, p in studies]


__all__ = [
    "LAST_REVIEWED",
    "PCL_CIRCULATING_PCT",
    "CriterionResult",
    "Matcher",
    "ParsedJudgement",
    "Result",
    "TrialMatch",
    "Verdict",
    "Why",
    "condition_criterion",
    "match_studies",
    "match_study",
    "matcher_for",
    "outcome",
    "registry_age_criterion",
    "target_label",
]
