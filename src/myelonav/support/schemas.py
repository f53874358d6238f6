"""Strict schemas for the curated support content in ``support/data/*.yaml``.

Every model forbids unknown keys, so a typo in a data file fails at load with the
file and field named. Every piece of content carries citations and ``last_reviewed``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from myelonav.datafiles import Citation
from myelonav.datafiles import Strict as _Strict


class Reviewed(_Strict):
    citations: list[Citation] = Field(min_length=1)
    last_reviewed: dt.date


# ----------------------------------------------------------------------------- schedules


class StepKind(StrEnum):
    step_up = "step_up"
    first_treatment = "first_treatment"


class Step(_Strict):
    """One dose of the step-up schedule, as in the label's dosing table."""

    label: str
    dose: str
    kind: StepKind
    day: int = Field(
        ge=1, le=60, description="The day the label's table gives (day 1 = first dose)."
    )
    min_days_after_previous: int | None = Field(None, ge=1, le=14)
    max_days_after_previous: int | None = Field(None, ge=1, le=14)
    max_delay_days: int | None = Field(
        None, ge=1, le=28, description="Latest allowed gap to let side effects settle."
    )
    hospital_monitoring_hours: int | None = Field(None, ge=0, le=96)
    premedication: bool = False

    @model_validator(mode="after")
    def _window(self) -> Step:
        lo, hi = self.min_days_after_previous, self.max_days_after_previous
        if lo is not None and hi is not None and hi < lo:
            raise ValueError("max_days_after_previous is below min_days_after_previous")
        return self

    def window_text(self) -> str | None:
        lo, hi, late = (
            self.min_days_after_previous,
            self.max_days_after_previous,
            self.max_delay_days,
        )
        if lo is None and hi is None and late is None:
            return None
        if lo is not None and hi is not None:
            text = f"{lo} to {hi} days after the previous dose"
        elif lo is not None:
            text = f"at least {lo} days after the previous dose"
        else:
            text = f"up to {hi} days after the previous dose"
        if late is not None:
            text += f"; may be given up to {late} days after it to let side effects settle"
        return text


class TreatmentPhase(_Strict):
    """Doses after the step-up schedule that follow without any condition."""

    name: str
    dose: str
    interval_days: int = Field(ge=1, le=56)
    min_interval_days: int | None = Field(None, ge=1, le=56)
    doses: int | None = Field(None, ge=1, description="Number of doses; None = open-ended.")


class SpacingOption(_Strict):
    """A label rule that spaces doses out only when a clinical condition is met."""

    interval_days: int = Field(ge=1, le=56)
    from_week: int | None = Field(None, ge=2, le=104)
    condition: str = Field(min_length=10)


class Schedule(Reviewed):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    drug: str
    brand: str
    variant: str = Field(pattern=r"^[a-z0-9_]+$")
    route: str
    dose_basis: str
    steps: list[Step] = Field(min_length=2)
    phases: list[TreatmentPhase] = Field(min_length=1)
    spacing_options: list[SpacingOption] = Field(default_factory=list)
    premedication: str
    monitoring: str

    @model_validator(mode="after")
    def _shape(self) -> Schedule:
        if self.steps[0].day != 1:
            raise ValueError("the first step must be on day 1")
        if self.steps[-1].kind is not StepKind.first_treatment:
            raise ValueError("the last step must be the first treatment dose")
        days = [s.day for s in self.steps]
        if days != sorted(set(days)):
            raise ValueError("step days must increase")
        if any(p.doses is None for p in self.phases[:-1]):
            raise ValueError("only the last treatment phase may be open-ended")
        return self


class ScheduleFile(_Strict):
    schema_: Literal["myelonav.support.schedules/1"] = Field(alias="schema")
    schedules: list[Schedule] = Field(min_length=1)


# ------------------------------------------------------------------------------- triage

UrgencyName = Literal["emergency", "call_team_now", "mention_next_visit"]


class Condition(_Strict):
    """All given parts must hold. ``flags_any``: at least one of these symptoms is present."""

    flags_any: list[str] = Field(default_factory=list)
    flags_all: list[str] = Field(default_factory=list)
    temperature_c_at_least: float | None = Field(None, ge=34, le=43)
    temperature_c_below: float | None = Field(None, ge=34, le=37)
    systolic_below: int | None = Field(None, ge=50, le=140)
    spo2_below: int | None = Field(None, ge=70, le=100)
    ice_score_at_most: int | None = Field(None, ge=0, le=9)
    t_cell_therapy: bool | None = Field(
        None,
        description="True: only on a bispecific or after CAR T; False: only when not; None: any.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        parts = (
            self.flags_any,
            self.flags_all,
            self.temperature_c_at_least,
            self.temperature_c_below,
            self.systolic_below,
            self.spo2_below,
            self.ice_score_at_most,
        )
        if not any(p for p in parts if p is not None):
            raise ValueError("a condition must test at least one symptom or measurement")
        return self


class TriageRule(Reviewed):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    level: UrgencyName
    when: Condition
    patient_text: str = Field(min_length=10)
    clinical_concept: str = Field(min_length=10)


class IceItem(_Strict):
    id: str = Field(pattern=r"^[a-z_]+$")
    points: int = Field(ge=1, le=4)
    task: str
    caregiver_prompt: str


class IceBand(_Strict):
    min_score: int = Field(ge=0, le=10)
    max_score: int = Field(ge=0, le=10)
    astct_icans_grade: int | None = Field(None, ge=1, le=4)
    meaning: str


class IceSpec(Reviewed):
    items: list[IceItem] = Field(min_length=5)
    bands: list[IceBand] = Field(min_length=2)

    @model_validator(mode="after")
    def _ten_points(self) -> IceSpec:
        if sum(i.points for i in self.items) != 10:
            raise ValueError("ICE items must add up to 10 points")
        for score in range(11):
            hits = [b for b in self.bands if b.min_score <= score <= b.max_score]
            if len(hits) != 1:
                raise ValueError(f"ICE score {score} must fall in exactly one band")
        return self


class TriageFile(_Strict):
    schema_: Literal["myelonav.support.triage/1"] = Field(alias="schema")
    rules: list[TriageRule] = Field(min_length=1)
    ice: IceSpec


# ---------------------------------------------------------------------------- resources


class Contact(_Strict):
    phone: str | None = None
    text: str | None = None
    url: str = Field(pattern=r"^https?://")
    how: str = Field(min_length=5, description="How to reach it, in plain words.")


class Resource(Reviewed):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    organization: str
    offers: str = Field(min_length=20)
    tags: list[str] = Field(min_length=1)
    contact: Contact
    crisis: bool = False


class ResourceFile(_Strict):
    schema_: Literal["myelonav.support.resources/1"] = Field(alias="schema")
    resources: list[Resource] = Field(min_length=1)


# ------------------------------------------------------------------------------ distress


class ScreenItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    text: str


class Screen(Reviewed):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    items: list[ScreenItem] = Field(default_factory=list)
    item_min: int = 0
    item_max: int
    positive_at_least: int
    positive_meaning: str
    resource_tags: list[str] = Field(min_length=1)


class ProblemArea(_Strict):
    id: str = Field(pattern=r"^[a-z_]+$")
    label: str
    resource_tags: list[str] = Field(min_length=1)


class DistressFile(_Strict):
    schema_: Literal["myelonav.support.distress/1"] = Field(alias="schema")
    answer_scale: list[str] = Field(min_length=4, max_length=4)
    screens: list[Screen] = Field(min_length=1)
    problem_areas: list[ProblemArea] = Field(min_length=1)
    problem_areas_citations: list[Citation] = Field(min_length=1)


# ----------------------------------------------------------------------------- education


class EducationPiece(Reviewed):
    id: str = Field(pattern=r"^[a-z0-9\-]+$")
    title: str
    summary: str = Field(min_length=20)
    body: list[str] = Field(min_length=1)
    clinician_notes: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)

    def patient_text(self) -> str:
        return " ".join([self.summary, *self.body])


class EducationFile(_Strict):
    schema_: Literal["myelonav.support.education/1"] = Field(alias="schema")
    pieces: list[EducationPiece] = Field(min_length=1)
