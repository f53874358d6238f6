"""Evaluators for the disease: measurable disease, features (CNS, PCL, extramedullary,
non-secretory), antigen at relapse, cytogenetics, disease state."""

from __future__ import annotations

from myelonav.clinical import thresholds as th
from myelonav.logic import Truth
from myelonav.patient.models import (
    Analyte,
    AntigenStatus,
    CytogeneticAbnormality,
    DiseaseSiteKind,
)
from myelonav.patient.vocabulary import vocabulary
from myelonav.trials._facts import CURRENT_DAYS, PatientFacts
from myelonav.trials.criteria.models import (
    AntigenAtom,
    CytogeneticAtom,
    DiseaseStateAtom,
    FeatureAtom,
    MeasurableAtom,
)
from myelonav.trials.eligibility.values import Eval, _tri


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
