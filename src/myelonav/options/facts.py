"""Record → the closed table of facts the knowledge base's rules read (``schema.FACTS``).

Each fact is computed as of a date, with a plain statement of where it came from ("platelets
48 ×10⁹/L on 2026-11-12"). A fact that cannot be computed is ``UNKNOWN``, never false: a lab
older than ``CURRENT_LAB_DAYS`` is unknown, an untested cytogenetic finding is unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from myelonav.clinical.renal import cockcroft_gault
from myelonav.errors import CalculationError
from myelonav.knowledge.schema import FACTS
from myelonav.options.car_t_outcome import CarTOutcome, car_t_outcome
from myelonav.options.rules import UNKNOWN
from myelonav.patient.lines import count_prior_lines
from myelonav.patient.models import (
    HIGH_RISK_ABNORMALITIES,
    Analyte,
    CytogeneticAbnormality,
    DiseaseSiteKind,
    PatientRecord,
    Sex,
    TransplantKind,
)
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.patient.vocabulary import vocabulary

# IMWG 2021 definition of plasma-cell leukaemia: >= 5 % circulating plasma cells
# (Fernández de Larrea et al., Blood Cancer J 2021;11:192, doi:10.1038/s41408-021-00587-0).
PCL_CIRCULATING_PCT = 5.0


@dataclass
class Facts:
    """Fact values (``UNKNOWN`` when not known) and, for each, what it was computed from."""

    as_of: dt.date
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    car_t: CarTOutcome | None = None

    def set(self, name: str, value: Any, source: str) -> None:
        if name not in FACTS:
            raise KeyError(f"{name!r} is not a fact in knowledge.schema.FACTS")
        self.values[name] = value
        self.sources[name] = source

    def unknown(self, name: str, why: str) -> None:
        self.set(name, UNKNOWN, why)

    def known(self, name: str) -> bool:
        return self.values.get(name, UNKNOWN) is not UNKNOWN

    def describe(self, name: str) -> str:
        return self.sources.get(name, f"{name} not computed")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FACTS:
            value = self.values.get(name, UNKNOWN)
            if value is UNKNOWN:
                shown: Any = None
            elif isinstance(value, frozenset | set):
                shown = sorted(value)
            else:
                shown = value
            out[name] = {
                "value": shown,
                "known": value is not UNKNOWN,
                "source": self.describe(name),
            }
        return out


def compute_facts(record: PatientRecord, as_of: dt.date) -> Facts:
    facts = Facts(as_of=as_of)
    _history(record, as_of, facts)
    _car_t(record, as_of, facts)
    _cytogenetics(record, facts)
    _disease(record, as_of, facts)
    _fitness(record, as_of, facts)
    _preferences(record, facts)
    missing = set(FACTS) - set(facts.values)
    if missing:  # every fact must be decided, known or unknown
        raise AssertionError(f"facts not computed: {sorted(missing)}")
    return facts


# --------------------------------------------------------------------------- history


def _history(record: PatientRecord, as_of: dt.date, facts: Facts) -> None:
    vocab = vocabulary()
    lines = [ln for ln in record.therapy_lines if ln.start is None or ln.start <= as_of]
    episodes = [c for c in record.car_t if c.infusion_date <= as_of]
    if not lines and not episodes:
        why = "no treatment history in the record"
        for name in (
            "prior_agents",
            "refractory_agents",
            "prior_classes",
            "refractory_classes",
            "exposed_to_target",
            "refractory_to_target",
            "lines_of_therapy",
        ):
            facts.unknown(name, why)
        facts.unknown("prior_allo_transplant", why)
        facts.set("prior_car_t_count", 0, "no CAR T infusion recorded")
        return
    prior = {a for ln in lines for a in ln.agents}
    prior |= {c.product for c in episodes} | {a for c in episodes for a in c.bridging_agents}
    refractory = {a for ln in lines if ln.refractory for a in ln.agents}
    facts.set("prior_agents", frozenset(prior), f"{len(prior)} agents in the treatment history")
    facts.set(
        "refractory_agents",
        frozenset(refractory),
        "refractory to " + (", ".join(sorted(refractory)) or "no recorded agent"),
    )
    facts.set("prior_classes", frozenset(vocab.classes_of(prior)), "classes of the agents received")
    facts.set(
        "refractory_classes",
        frozenset(vocab.classes_of(refractory)),
        "classes of the agents the disease is refractory to",
    )
    targets = {d.target for a in prior if (d := vocab.resolve(a)) and d.target}
    refractory_targets = {d.target for a in refractory if (d := vocab.resolve(a)) and d.target}
    facts.set(
        "exposed_to_target",
        frozenset(targets),
        "targets treated before: " + (", ".join(sorted(targets)) or "none"),
    )
    facts.set(
        "refractory_to_target",
        frozenset(refractory_targets),
        "refractory to therapy against: " + (", ".join(sorted(refractory_targets)) or "none"),
    )
    count = count_prior_lines(record, as_of)
    told = record.lines_before_car_t_reported
    facts.set(
        "lines_of_therapy",
        count,
        f"{count} prior lines (IMWG grouping"
        + (f"; at least {told} before CAR T as reported)" if told is not None else ")"),
    )
    allo = any(t.kind is TransplantKind.allogeneic for t in record.transplants)
    facts.set(
        "prior_allo_transplant",
        allo,
        "allogeneic transplant recorded" if allo else "no allogeneic transplant recorded",
    )
    facts.set("prior_car_t_count", len(episodes), f"{len(episodes)} CAR T infusion(s) recorded")


def _car_t(record: PatientRecord, as_of: dt.date, facts: Facts) -> None:
    episodes = [c for c in record.car_t if c.infusion_date <= as_of]
    if not episodes:
        why = "no CAR T infusion in the record"
        for name in (
            "car_t_relapse_class",
            "months_since_car_t_infusion",
            "car_t_target",
            "bcma_status_at_relapse",
            "car_t_crs_max_grade",
            "car_t_icans_max_grade",
        ):
            facts.unknown(name, why)
        return
    episode = episodes[-1]
    outcome = car_t_outcome(record, episode, as_of)
    facts.car_t = outcome
    months = round((as_of - episode.infusion_date).days / 30.4375, 1)
    facts.set(
        "months_since_car_t_infusion",
        months,
        f"{episode.product} infused {episode.infusion_date}, {months} months before {as_of}",
    )
    if outcome.relapse_class is None:
        facts.unknown("car_t_relapse_class", outcome.explanation)
    else:
        facts.set("car_t_relapse_class", outcome.relapse_class, outcome.explanation)
    if episode.target_antigen in FACTS["car_t_target"].allowed():  # type: ignore[operator]
        facts.set(
            "car_t_target",
            episode.target_antigen,
            f"{episode.product} targets {episode.target_antigen}",
        )
    else:
        facts.unknown("car_t_target", f"target of {episode.product} not known")
    bcma_episodes = [c for c in episodes if c.target_antigen == "BCMA"]
    status = next(
        (
            c.antigen_status_at_relapse
            for c in reversed(bcma_episodes)
            if c.antigen_status_at_relapse is not None
        ),
        None,
    )
    if status is None:
        facts.unknown("bcma_status_at_relapse", "BCMA status at relapse is not in the record")
    else:
        facts.set("bcma_status_at_relapse", status.value, f"BCMA at relapse: {status.value}")
    for name, grade, label in (
        ("car_t_crs_max_grade", episode.crs_max_grade, "CRS"),
        ("car_t_icans_max_grade", episode.icans_max_grade, "ICANS"),
    ):
        if grade is None:
            facts.unknown(name, f"worst {label} grade after CAR T not recorded")
        else:
            facts.set(name, grade, f"worst {label} grade {grade} after {episode.product}")


# --------------------------------------------------------------------------- disease


def _cytogenetics(record: PatientRecord, facts: Facts) -> None:
    for name, abnormality in (
        ("t_11_14", CytogeneticAbnormality.t_11_14),
        ("del_17p", CytogeneticAbnormality.del_17p),
    ):
        found = record.has_abnormality(abnormality)
        if found is None:
            facts.unknown(name, f"{abnormality.value} not tested in the record")
        else:
            facts.set(name, found, f"{abnormality.value} {'found' if found else 'not found'}")
    detected = sorted(
        f.abnormality.value
        for f in record.cytogenetics
        if f.detected and f.abnormality in HIGH_RISK_ABNORMALITIES
    )
    if detected:
        facts.set("high_risk_cytogenetics", True, "high-risk: " + ", ".join(detected))
    elif record.has_abnormality(CytogeneticAbnormality.del_17p) is False:
        facts.set("high_risk_cytogenetics", False, "no high-risk abnormality found on FISH")
    else:
        facts.unknown("high_risk_cytogenetics", "high-risk FISH results not in the record")


def _disease(record: PatientRecord, as_of: dt.date, facts: Facts) -> None:
    sites = [
        s
        for s in record.disease_sites
        if s.active is not False and (s.date is None or s.date <= as_of)
    ]

    def has(kind: DiseaseSiteKind) -> list[str]:
        return [s.location or kind.value.replace("_", " ") for s in sites if s.kind is kind]

    emd = has(DiseaseSiteKind.extramedullary_plasmacytoma)
    facts.set(
        "extramedullary_disease",
        bool(emd),
        f"extramedullary disease: {', '.join(emd)}"
        if emd
        else "no extramedullary plasmacytoma recorded",
    )
    cns = has(DiseaseSiteKind.cns)
    facts.set(
        "cns_disease",
        bool(cns),
        f"CNS disease: {', '.join(cns)}" if cns else "no CNS disease recorded",
    )
    pcl = has(DiseaseSiteKind.plasma_cell_leukemia)
    cpc = record.latest(Analyte.circulating_plasma_cells, as_of)
    if pcl:
        facts.set("plasma_cell_leukemia", True, "plasma-cell leukaemia recorded")
    elif cpc is not None and cpc.value is not None and cpc.value >= PCL_CIRCULATING_PCT:
        facts.set(
            "plasma_cell_leukemia",
            True,
            f"{cpc.value:g}% circulating plasma cells on {cpc.date} (>= 5%, IMWG 2021)",
        )
    else:
        facts.set("plasma_cell_leukemia", False, "no plasma-cell leukaemia recorded")
    painful = [s.location or s.kind.value.replace("_", " ") for s in sites if s.painful]
    facts.set(
        "painful_bone_lesion",
        bool(painful)
        and any(
            s.painful
            and s.kind
            in (
                DiseaseSiteKind.bone_lesion,
                DiseaseSiteKind.paraskeletal_plasmacytoma,
                DiseaseSiteKind.extramedullary_plasmacytoma,
            )
            for s in sites
        ),
        f"painful lesion: {', '.join(painful)}" if painful else "no painful lesion recorded",
    )
    outcome = facts.car_t
    if not sites:
        facts.set("single_site_progression", False, "no single site of progression recorded")
    elif len(sites) == 1 and outcome is not None and outcome.biochemical_progression is False:
        facts.set(
            "single_site_progression",
            True,
            f"one active site ({sites[0].location}) without rising blood markers",
        )
    elif len(sites) > 1 or (outcome is not None and outcome.biochemical_progression):
        facts.set(
            "single_site_progression",
            False,
            "progression is in the blood markers or at more than one site",
        )
    else:
        facts.unknown(
            "single_site_progression",
            "whether progression is local or systemic is not clear from the record",
        )


# --------------------------------------------------------------------------- fitness


def _current_lab(record: PatientRecord, analyte: Analyte, as_of: dt.date) -> Any:
    lab = record.latest(analyte, as_of)
    if lab is None or lab.value is None:
        return None, f"no {analyte.value.replace('_', ' ')} result in the record"
    age = (as_of - lab.date).days
    if age > CURRENT_LAB_DAYS:
        return None, (
            f"latest {analyte.value.replace('_', ' ')} is {age} days old "
            f"({lab.date}); a current value is needed"
        )
    return lab, ""


def _fitness(record: PatientRecord, as_of: dt.date, facts: Facts) -> None:
    age = record.demographics.age_on(as_of)
    if age is None:
        facts.unknown("age", "age not known")
    else:
        facts.set("age", age, f"age {age} on {as_of}")
    ecog = record.latest_ecog(as_of)
    if ecog is None:
        facts.unknown("ecog", "ECOG performance status not recorded")
    else:
        facts.set("ecog", ecog.score, f"ECOG {ecog.score} ({ecog.date or 'undated'})")
    for name, analyte, unit in (
        ("platelets", Analyte.platelets, "×10⁹/L"),
        ("anc", Analyte.anc, "×10⁹/L"),
        ("hemoglobin", Analyte.hemoglobin, "g/dL"),
        ("bilirubin_mg_dl", Analyte.bilirubin, "mg/dL"),
    ):
        lab, why = _current_lab(record, analyte, as_of)
        if lab is None:
            facts.unknown(name, why)
        else:
            facts.set(name, lab.value, f"{analyte.value} {lab.value:g} {unit} on {lab.date}")
    creatinine, why = _current_lab(record, Analyte.creatinine, as_of)
    weight = record.latest(Analyte.body_weight, as_of)
    sex = record.demographics.sex
    if creatinine is None:
        facts.unknown("crcl_ml_min", why)
    elif weight is None or weight.value is None:
        facts.unknown("crcl_ml_min", "body weight needed for creatinine clearance")
    elif age is None or sex not in (Sex.female, Sex.male):
        facts.unknown("crcl_ml_min", "age and sex needed for creatinine clearance")
    else:
        try:
            crcl = cockcroft_gault(
                age=age, weight_kg=weight.value, sex=sex, creatinine=creatinine.value
            ).value
        except CalculationError as exc:  # implausible input: unknown, with the reason
            facts.unknown("crcl_ml_min", f"{exc.message}; kidney function unknown")
            return
        facts.set(
            "crcl_ml_min",
            round(crcl, 1),
            f"creatinine clearance {crcl:.0f} mL/min (Cockcroft-Gault: creatinine "
            f"{creatinine.value:g} mg/dL on {creatinine.date}, weight {weight.value:g} kg)",
        )


def _preferences(record: PatientRecord, facts: Facts) -> None:
    prefs = record.preferences
    facts.set(
        "trial_interest",
        prefs.trial_interest.value,
        f"interest in trials: {prefs.trial_interest.value}",
    )
    if prefs.max_travel_miles is None:
        facts.unknown("max_travel_miles", "how far the patient can travel is not recorded")
    else:
        facts.set(
            "max_travel_miles",
            prefs.max_travel_miles,
            f"will travel up to {prefs.max_travel_miles:g} miles",
        )
    if prefs.goals:
        facts.set(
            "goals",
            frozenset(g.value for g in prefs.goals),
            "goals: " + ", ".join(g.value.replace("_", " ") for g in prefs.goals),
        )
    else:
        facts.unknown("goals", "goals of care not recorded")


__all__ = ["PCL_CIRCULATING_PCT", "Facts", "compute_facts"]
