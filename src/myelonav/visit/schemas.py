"""Strict schemas for the curated visit content in ``visit/data/*.yaml``.

Every model forbids unknown keys, so a typo in a data file fails at load with the file and
field named. Anything that states a medical fact carries citations and ``last_reviewed``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from myelonav.datafiles import Citation
from myelonav.datafiles import Strict as _Strict

# ----------------------------------------------------------------------------- questions


class Trigger(StrEnum):
    """Why a question is asked. Each trigger is decided in code from the record's facts
    (``myelonav.visit.questions``); the wording lives in ``questions.yaml``."""

    always = "always"
    bcma_status_unknown = "bcma_status_unknown"
    bcma_negative = "bcma_negative"
    t_11_14 = "t_11_14"
    t_11_14_untested = "t_11_14_untested"
    painful_lesion = "painful_lesion"
    after_car_t = "after_car_t"
    early_car_t_failure = "early_car_t_failure"
    low_igg = "low_igg"
    infection_in_diary = "infection_in_diary"
    extramedullary = "extramedullary"
    plasma_cell_leukemia = "plasma_cell_leukemia"
    cns_disease = "cns_disease"
    low_counts = "low_counts"
    low_crcl = "low_crcl"
    stale_labs = "stale_labs"
    high_risk_cytogenetics = "high_risk_cytogenetics"
    options_need_information = "options_need_information"
    matched_trial = "matched_trial"


class QuestionTemplate(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    trigger: Trigger
    topic: Literal["treatment", "trials", "tests", "side_effects", "timing", "support"]
    text: str = Field(min_length=10, description="The question, in the patient's voice.")
    why: str = Field(
        min_length=3,
        description="Why it is on the list; '{fact}' is replaced by the fact that fired it.",
    )
    citations: list[Citation] = Field(default_factory=list)
    last_reviewed: dt.date | None = None

    @model_validator(mode="after")
    def _reviewed_with_citations(self) -> QuestionTemplate:
        if "{fact}" not in self.why:
            raise ValueError("why must name the fact that put the question on the list: {fact}")
        if "{detail}" in self.text and self.trigger is not Trigger.matched_trial:
            raise ValueError("only matched_trial questions take a {detail}")
        if self.citations and self.last_reviewed is None:
            raise ValueError("a cited question needs last_reviewed")
        return self


class QuestionFile(_Strict):
    questions: list[QuestionTemplate] = Field(min_length=1)
    # Fact thresholds the triggers read, each cited.
    igg_low_mg_dl: float = Field(gt=0, le=2000)
    igg_citations: list[Citation] = Field(min_length=1)
    last_reviewed: dt.date

    @model_validator(mode="after")
    def _unique(self) -> QuestionFile:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate question ids: {dupes}")
        missing = {t for t in Trigger} - {q.trigger for q in self.questions}
        if missing:
            raise ValueError(f"no question for trigger(s): {sorted(missing)}")
        return self


# ----------------------------------------------------------------------------- checklist


class Check(StrEnum):
    """How the record is checked for one checklist item (code in ``visit.checklist``)."""

    pathology_fish = "pathology_fish"
    car_t_summary = "car_t_summary"
    therapy_lines = "therapy_lines"
    recent_labs = "recent_labs"
    imaging = "imaging"
    transplant = "transplant"
    antigen_testing = "antigen_testing"
    medicines = "medicines"


class ChecklistTemplate(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    check: Check
    title: str = Field(min_length=3)
    gather: str = Field(min_length=10, description="What to ask the clinic for, plainly.")
    why: str = Field(min_length=10)


class ChecklistFile(_Strict):
    items: list[ChecklistTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def _all_checks(self) -> ChecklistFile:
        seen = [i.check for i in self.items]
        if len(set(seen)) != len(seen):
            raise ValueError("each check appears once")
        missing = {c for c in Check} - set(seen)
        if missing:
            raise ValueError(f"no item for check(s): {sorted(missing)}")
        return self


# ----------------------------------------------------------------------------- centres


class CentreResource(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    organization: str
    helps_with: str = Field(min_length=10)
    url: str = Field(pattern=r"^https://")
    phone: str | None = None
    citations: list[Citation] = Field(min_length=1)
    last_reviewed: dt.date


class CentreFile(_Strict):
    note: str = Field(min_length=10)
    resources: list[CentreResource] = Field(min_length=1)


# ----------------------------------------------------------------------------- lab thresholds


class ThresholdExample(_Strict):
    trial: str
    value: float = Field(ge=0)
    citation: Citation


class LabThreshold(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    source: Literal["anc", "platelets", "hemoglobin", "crcl", "bilirubin_uln", "ast_uln", "alt_uln"]
    comparator: Literal[">=", "<="]
    unit: str
    examples: list[ThresholdExample] = Field(min_length=1)
    last_reviewed: dt.date


class ThresholdFile(_Strict):
    note: str = Field(min_length=10)
    thresholds: list[LabThreshold] = Field(min_length=1)


__all__ = [
    "CentreFile",
    "CentreResource",
    "Check",
    "ChecklistFile",
    "ChecklistTemplate",
    "Citation",
    "LabThreshold",
    "QuestionFile",
    "QuestionTemplate",
    "ThresholdExample",
    "ThresholdFile",
    "Trigger",
]
