"""Strict schemas for the curated visit content in ``visit/data/*.yaml``.

Every model forbids unknown keys, so a typo in a data file fails at load with the file and
field named. Anything that states a medical fact carries citations and ``last_reviewed``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from myelonav.datafiles import Citation
from myelonav.datafiles import Strict as _Strict
from myelonav.knowledge.schema import FACTS, AllNode, AnyNode, FactSpec, Leaf, Node, NotNode

# ----------------------------------------------------------------------------- questions


class Trigger(StrEnum):
    """How a question comes onto the list: always, once per matched trial, or when its
    ``when`` rule (all/any/not over facts, the options engine's three-valued logic) is true."""

    always = "always"
    matched_trial = "matched_trial"
    fitting_option = "fitting_option"  # once for each of the first options that may fit
    rule = "rule"


QUESTION_FACTS: dict[str, FactSpec] = {
    **FACTS,
    "low_counts": FactSpec("bool", "A blood count misses a common trial threshold."),
    "low_crcl": FactSpec("bool", "Creatinine clearance misses a common trial threshold."),
    "labs_not_current": FactSpec(
        "bool", "Blood counts or myeloma tests are older than the current-lab window, or absent."
    ),
    "options_need_information": FactSpec(
        "bool", "At least one option needs more information to be judged."
    ),
    "diary_infection_signs": FactSpec(
        "bool", "The symptom diary notes fever or infection signs in the last 90 days."
    ),
}
"""Facts question rules may read: the clinical picture's, plus what the visit itself knows."""

_NODE: TypeAdapter[Node] = TypeAdapter(Node)


class QuestionTemplate(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    trigger: Trigger
    when: Any = Field(None, description="Rule tree over QUESTION_FACTS (trigger: rule).")

    @field_validator("when")
    @classmethod
    def _rule_tree(cls, raw: Any) -> Any:
        if raw is None or isinstance(raw, AllNode | AnyNode | NotNode | Leaf):
            return raw
        return _NODE.validate_python(raw, context={"facts": QUESTION_FACTS})

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
        if (self.when is None) == (self.trigger is Trigger.rule):
            raise ValueError("a question has a `when` rule exactly when its trigger is 'rule'")
        if "{detail}" in self.text and self.trigger not in (
            Trigger.matched_trial,
            Trigger.fitting_option,
        ):
            raise ValueError("only matched_trial and fitting_option questions take a {detail}")
        if self.citations and self.last_reviewed is None:
            raise ValueError("a cited question needs last_reviewed")
        return self


class QuestionFile(_Strict):
    questions: list[QuestionTemplate] = Field(min_length=1)
    last_reviewed: dt.date

    @model_validator(mode="after")
    def _unique(self) -> QuestionFile:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate question ids: {dupes}")
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
