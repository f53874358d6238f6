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

from myelonav.trials.eligibility.disease import PCL_CIRCULATING_PCT
from myelonav.trials.eligibility.matcher import Matcher
from myelonav.trials.eligibility.study import (
    condition_criterion,
    match_studies,
    match_study,
    matcher_for,
    registry_age_criterion,
)
from myelonav.trials.eligibility.therapy import target_label
from myelonav.trials.eligibility.values import Why
from myelonav.trials.eligibility.verdict import (
    CriterionResult,
    ParsedJudgement,
    Result,
    TrialMatch,
    Verdict,
    outcome,
)

LAST_REVIEWED = "2026-11-25"

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
