"""Criterion results, the trial verdict and the match record (one JSON shape for CLI, web,
visit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from myelonav.logic import Truth
from myelonav.trials.categories import TrialCategories
from myelonav.trials.criteria.models import (
    Criterion,
    CriterionKind,
    Section,
)
from myelonav.trials.criteria.residue import BOTH_WAYS
from myelonav.trials.eligibility.values import Why


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


def _needs_true(section: Section, negations: int) -> bool:
    return (section is Section.inclusion) == (negations % 2 == 0)


@dataclass(frozen=True, slots=True)
class ParsedJudgement:
    """Criteria judged for one patient, in order, with the ids that decide the verdict."""

    judged: Sequence[tuple[Criterion, Result, str]]  # facts built on first read
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
        if why is Why.ask and not any(u.startswith(BOTH_WAYS) for u in c.unaccounted):
            return Result.ask, shown
        # a structured part may be misread either way: unknown, not a routine question
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


_NOT_MYELOMA = "this study is not for multiple myeloma"
