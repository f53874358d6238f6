"""Study level: the registry's condition and age as criteria, and matching one study."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from myelonav.trials._facts import PatientFacts
from myelonav.trials.categories import TrialCategories, categorise
from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    AgeAtom,
    Criterion,
    CriterionKind,
    DiseaseStateAtom,
    Node,
    OtherAtom,
    ParsedCriteria,
    Section,
)
from myelonav.trials.criteria.parser import parse_criteria
from myelonav.trials.eligibility.matcher import Matcher
from myelonav.trials.eligibility.verdict import TrialMatch
from myelonav.trials.models import OPEN_STATUSES, Study

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
        r"\brelapse\w*|\brefractory\b|\bafter CAR|\bR/R\s*MM\b|\bRRMM\b", text, re.I
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


@dataclass(frozen=True, slots=True)
class StudyHead:
    """What matching reads from a study besides its parsed criteria, worked out once per study
    (``study_head``): a store keeps these with its candidates, so a query does not rebuild them
    for every study."""

    condition: Criterion | None
    age: Criterion | None
    categories: TrialCategories
    title: str
    relevant: bool  # a plasma-cell disorder study (``patient_match.is_candidate``)
    open: bool  # a person can still join it


def study_head(study: Study) -> StudyHead:
    from myelonav.trials.patient_match import is_candidate

    return StudyHead(
        condition_criterion(study),
        registry_age_criterion(study),
        categorise(study),
        study.title,
        is_candidate(study, include_closed=True),
        (study.overall_status or "") in OPEN_STATUSES,
    )


def match_study(
    matcher: Matcher,
    study: Study,
    parsed: ParsedCriteria | None = None,
    head: StudyHead | None = None,
) -> TrialMatch:
    """Judge one study for the matcher's patient. ``parsed`` is the stored parse, if any;
    ``head`` is ``study_head(study)``, if the caller kept it."""
    if parsed is None:
        parsed = parse_criteria(study.eligibility.criteria_text)
    if head is None:
        head = study_head(study)
    j = matcher.judge_study(head.condition, head.age, parsed)
    return TrialMatch(
        nct_id=study.nct_id,
        title=head.title,
        verdict=j.verdict,
        judged=j.judged,
        failing=list(j.failing),
        unknown=list(j.unknown),
        ask_study_team=list(j.ask),
        is_sample=study.is_sample,
        categories=head.categories,
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
