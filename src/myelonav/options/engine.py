"""The options engine: every curated option, judged against one patient's facts.

For each option the engine evaluates its rules (``options.rules``), derives a status, keeps
the reasons with the facts they used, orders the evidence so that studies of patients after
BCMA CAR T come first, lists what missing fact would change the answer, and scores it for a
stable, explainable ranking. It is deterministic: the same record, date and knowledge give
the same output.

Status, from the rules that fired:

- ``unlikely to fit``: an ``excludes`` rule fired, or a ``requires`` rule is not met;
- ``need more information``: none of those, but a ``requires`` rule could not be decided
  (an ``excludes`` rule that cannot be decided is listed as missing information: the fact
  that would change the answer, without holding the option back);
- ``consider with caution``: a ``caution`` rule fired;
- ``fits``: none of the above.

``favours`` and ``disfavours`` move an option up or down the ranking without changing its
status: a reason it fits better or less well, not a reason it may not fit. Supportive care
goes alongside every treatment, so it is listed after the treatments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.schema import Citation, Evidence, Option, Rule, iter_leaves
from myelonav.options.facts import Facts, compute_facts
from myelonav.options.rules import UNKNOWN, Truth, evaluate, unknown_facts
from myelonav.patient.models import PatientRecord
from myelonav.picture import ClinicalPicture

Audience = Literal["patient", "clinician"]


class Status(StrEnum):
    fits = "fits"
    caution = "consider with caution"
    need_info = "need more information"
    unlikely = "unlikely to fit"


STATUS_WEIGHT: dict[Status, int] = {
    Status.fits: 300,
    Status.caution: 200,
    Status.need_info: 150,
    Status.unlikely: 0,
}
FAVOURS_POINTS = 20
DISFAVOURS_POINTS = -10
CAUTION_POINTS = -5
POST_CAR_T_EVIDENCE_POINTS = 10

_DESIGN_ORDER = {
    "phase_3": 0,
    "phase_2": 1,
    "phase_1_2": 2,
    "pooled_analysis": 3,
    "phase_1": 4,
    "prospective_observational": 5,
    "retrospective": 6,
    "case_series": 7,
    "guideline": 8,
}
_POST_ORDER = {"yes": 0, "partial": 1, "not_reported": 2, "no": 3}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FactUsed(_Out):
    fact: str
    value: Any
    known: bool
    source: str


class Reason(_Out):
    rule: str
    effect: str
    result: Literal["fired", "not_met", "met", "unknown"]
    text: str
    facts: list[FactUsed]
    citations: list[str]


class EvidenceView(_Out):
    study: str
    cohort: str | None
    design: str
    population: str
    post_bcma_car_t: str
    post_bispecific: str
    n: int | None
    figures: dict[str, float | str]
    citation: str | None
    notes: str | None
    figures_withheld: bool = False


class Assessment(_Out):
    id: str
    name: str
    category: str
    status: Status
    score: int
    score_parts: list[str]
    summary: str
    how_it_works: str
    reasons: list[Reason]
    evidence: list[EvidenceView]
    missing_information: list[str]
    safety: str
    logistics: dict[str, Any]
    approval: list[str]
    last_reviewed: dt.date


def format_citation(citation: Citation) -> str:
    ids = [
        f"PMID {citation.pmid}" if citation.pmid else None,
        f"doi:{citation.doi}" if citation.doi else None,
        citation.url if not (citation.pmid or citation.doi) else None,
    ]
    head = f"{citation.authors.rstrip('.')}. " if citation.authors else ""
    title = f"{citation.title}. " if citation.title else ""
    return f"{head}{title}{citation.source} {citation.year}. " + "; ".join(i for i in ids if i)


def _evidence_key(entry: Evidence) -> tuple[int, int, int, int]:
    return (
        _POST_ORDER[entry.post_bcma_car_t],
        _POST_ORDER[entry.post_bispecific],
        _DESIGN_ORDER[entry.design],
        -(entry.n or 0),
    )


def _evidence(option: Option) -> list[EvidenceView]:
    return [
        EvidenceView(
            study=e.study,
            cohort=e.cohort,
            design=e.design,
            population=e.population,
            post_bcma_car_t=e.post_bcma_car_t,
            post_bispecific=e.post_bispecific,
            n=e.n,
            figures=e.figures(),
            citation=format_citation(e.citation) if e.citation else None,
            notes=e.notes,
            figures_withheld=e.figures_withheld,
        )
        for e in sorted(option.evidence, key=_evidence_key)
    ]


def _facts_used(rule: Rule, facts: Facts) -> list[FactUsed]:
    seen: list[str] = []
    for leaf in iter_leaves(rule.when):
        if leaf.fact not in seen:
            seen.append(leaf.fact)
    out = []
    for name in seen:
        value = facts.values.get(name, UNKNOWN)
        known = value is not UNKNOWN
        shown = (
            sorted(value) if known and isinstance(value, frozenset) else (value if known else None)
        )
        out.append(FactUsed(fact=name, value=shown, known=known, source=facts.describe(name)))
    return out


def _missing_message(rule: Rule, facts: Facts, audience: Audience = "clinician") -> str:
    if rule.missing_fact_message:
        return rule.missing_fact_message
    names = unknown_facts(rule.when, facts.values)
    if audience == "patient":  # the picture's plain words, not "X not recorded"
        return " ".join(facts.plain.get(n) or facts.describe(n) for n in names) or (
            "Something this option depends on is not known yet."
        )
    return "; ".join(facts.describe(n) for n in names) or "a needed fact is not known"


def assess_option(option: Option, facts: Facts, audience: Audience = "patient") -> Assessment:
    reasons: list[Reason] = []
    missing: list[str] = []
    excluded = blocked_unknown = careful = False
    score_parts: list[str] = []
    favour_points = 0
    for rule in option.rules:
        truth = evaluate(rule.when, facts.values)
        requirement = rule.effect == "requires"
        fired = (truth is Truth.false) if requirement else (truth is Truth.true)
        text = rule.reason_patient if audience == "patient" else rule.reason_clinician
        used = _facts_used(rule, facts)
        cites = [format_citation(c) for c in rule.citations]
        if truth is Truth.unknown:
            message = _missing_message(rule, facts, audience)
            # an unknown preference-style favours/disfavours rule is not worth a question
            worth_asking = rule.missing_fact_message or rule.effect not in ("favours", "disfavours")
            if worth_asking and message not in missing:
                missing.append(message)
            if rule.effect == "requires":
                blocked_unknown = True
            reasons.append(
                Reason(
                    rule=rule.id,
                    effect=rule.effect,
                    result="unknown",
                    text=message,
                    facts=used,
                    citations=cites,
                )
            )
            continue
        if not fired:
            if requirement:
                needed = "; ".join(f.source for f in used)
                reasons.append(
                    Reason(
                        rule=rule.id,
                        effect=rule.effect,
                        result="met",
                        text=f"Needed, and met: {needed}",
                        facts=used,
                        citations=cites,
                    )
                )
            continue
        reasons.append(
            Reason(
                rule=rule.id,
                effect=rule.effect,
                result="not_met" if requirement else "fired",
                text=text,
                facts=used,
                citations=cites,
            )
        )
        if rule.effect in ("excludes", "requires"):
            excluded = True
        elif rule.effect == "caution":
            careful = True
            favour_points += CAUTION_POINTS
            score_parts.append(f"{CAUTION_POINTS:+d} caution ({rule.id})")
        elif rule.effect == "disfavours":
            favour_points += DISFAVOURS_POINTS
            score_parts.append(f"{DISFAVOURS_POINTS:+d} disfavours ({rule.id})")
        elif rule.effect == "favours":
            favour_points += FAVOURS_POINTS
            score_parts.append(f"{FAVOURS_POINTS:+d} favours ({rule.id})")

    if excluded:
        status = Status.unlikely
    elif blocked_unknown:
        status = Status.need_info
    elif careful:
        status = Status.caution
    else:
        status = Status.fits
    evidence = _evidence(option)
    score = STATUS_WEIGHT[status] + favour_points
    score_parts.insert(0, f"{STATUS_WEIGHT[status]} for status '{status.value}'")
    # outcomes reported after CAR T, shown or withheld for want of a verified PMID/DOI
    if any(
        e.post_bcma_car_t in ("yes", "partial") and (e.figures or e.figures_withheld)
        for e in evidence
    ):
        score += POST_CAR_T_EVIDENCE_POINTS
        score_parts.append(f"+{POST_CAR_T_EVIDENCE_POINTS} evidence from patients after CAR T")
    safety = (
        option.safety.key_risks_patient
        if audience == "patient"
        else (
            option.safety.boxed_warning
            or option.safety.on_target_effects
            or option.safety.key_risks_patient
        )
    )
    logistics = option.logistics
    return Assessment(
        id=option.id,
        name=option.name,
        category=option.category,
        status=status,
        score=score,
        score_parts=score_parts,
        summary=option.summary_patient if audience == "patient" else option.summary_clinician,
        how_it_works=option.how_it_works_patient,
        reasons=reasons,
        evidence=evidence,
        missing_information=missing,
        safety=safety,
        logistics={
            "route": logistics.route,
            "step_up_dosing": logistics.step_up_dosing,
            "hospital_stay": logistics.hospital_stay,
            "duration": logistics.duration,
            "rems": logistics.rems,
            "schedule": logistics.schedule,
            "list_price": logistics.list_price.model_dump(mode="json")
            if logistics.list_price
            else None,
            "assistance_programs": [
                p.model_dump(mode="json") for p in logistics.assistance_programs
            ],
        },
        approval=[
            " ".join(
                filter(
                    None,
                    [
                        a.status,
                        a.region,
                        a.date.isoformat() if a.date else None,
                        f"({a.indication})" if a.indication else None,
                    ],
                )
            )
            for a in option.approval
        ],
        last_reviewed=option.last_reviewed,
    )


def assess(
    record: PatientRecord,
    as_of: dt.date,
    audience: Audience = "patient",
    options: Mapping[str, Option] | None = None,
    picture: ClinicalPicture | None = None,
) -> tuple[Facts, list[Assessment]]:
    """Every option for this patient, best first (score, then name: a stable order)."""
    facts = compute_facts(record, as_of, picture)
    catalogue = options if options is not None else bundled_options()
    results = [assess_option(option, facts, audience) for option in catalogue.values()]
    results.sort(key=lambda a: (a.category == "supportive_care", -a.score, a.name.lower(), a.id))
    return facts, results


__all__ = [
    "Assessment",
    "Audience",
    "EvidenceView",
    "Reason",
    "Status",
    "assess",
    "assess_option",
    "format_citation",
]
