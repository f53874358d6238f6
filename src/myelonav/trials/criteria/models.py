"""Structured eligibility criteria: the JSON-serialisable output of ``parse_criteria``.

A study's free text becomes a list of numbered ``Criterion`` objects. Each holds an
and/or ``tree`` of atoms. An atom states a *fact about the patient* ("ANC ≥ 1.0 ×10⁹/L",
"has received a GPRC5D-directed agent"). Whether that fact qualifies or disqualifies
depends on the criterion's section: an inclusion needs it true, an exclusion needs it false.
``negate`` flips an atom ("no prior therapy").

Atoms are frozen and hashable so a matcher can cache one patient's answer per distinct atom;
many studies repeat the same thresholds word for word.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PARSER_VERSION = "3"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(StrEnum):
    inclusion = "inclusion"
    exclusion = "exclusion"


class CriterionKind(StrEnum):
    """What a criterion is about; used for display and per-type evaluation."""

    age = "age"
    performance_status = "performance_status"
    measurable_disease = "measurable_disease"
    prior_lines = "prior_lines"
    class_exposure = "class_exposure"
    prior_bcma = "prior_bcma"
    prior_car_t = "prior_car_t"
    prior_bispecific = "prior_bispecific"
    prior_gprc5d = "prior_gprc5d"
    prior_agent = "prior_agent"
    prior_therapy = "prior_therapy"
    car_t_timing = "car_t_timing"
    washout = "washout"
    transplant = "transplant"
    lab = "lab"
    cns = "cns"
    plasma_cell_leukemia = "plasma_cell_leukemia"
    extramedullary = "extramedullary"
    non_secretory = "non_secretory"
    antigen_expression = "antigen_expression"
    cytogenetics = "cytogenetics"
    disease_state = "disease_state"
    infection = "infection"
    other_malignancy = "other_malignancy"
    screening = "screening"
    other = "other"


# --------------------------------------------------------------------------- atoms


class AgeAtom(_Frozen):
    type: Literal["age"] = "age"
    min_years: float | None = None
    max_years: float | None = None
    negate: bool = False


class PerformanceAtom(_Frozen):
    """ECOG ≤ max_ecog, or Karnofsky ≥ min_karnofsky."""

    type: Literal["performance"] = "performance"
    max_ecog: int | None = Field(None, ge=0, le=5)
    min_karnofsky: int | None = Field(None, ge=0, le=100)
    negate: bool = False


class MeasurableAtom(_Frozen):
    """Measurable disease by IMWG-style thresholds; any one suffices. None = route not offered."""

    type: Literal["measurable"] = "measurable"
    serum_g_dl: float | None = None
    urine_mg_24h: float | None = None
    flc_mg_dl: float | None = None
    negate: bool = False


class PriorLinesAtom(_Frozen):
    type: Literal["prior_lines"] = "prior_lines"
    min_lines: int | None = Field(None, ge=0)
    max_lines: int | None = Field(None, ge=0)
    negate: bool = False
    # counted in "regimens", which protocols use for lines or for single regimens: when the
    # two counts disagree the criterion is unknown
    regimens: bool = False


class ExposureAtom(_Frozen):
    """The patient has received (or is refractory to) an agent matching the target.

    ``groups``: any-of list of all-of drug-class sets, e.g. ((bcma_directed, bispecific),)
    for "a BCMA×CD3 bispecific". ``drugs``: canonical names that match on their own.
    ``any_therapy``: any anti-myeloma therapy at all. ``except_groups`` are carved out
    ("other than CAR T"). ``min_agents``: distinct matching agents needed (penta = 2 PI, 2 IMiD).
    ``allowed`` marks a permissive statement ("prior BCMA therapy is allowed"): always met.
    """

    type: Literal["exposure"] = "exposure"
    groups: tuple[tuple[str, ...], ...] = ()
    drugs: tuple[str, ...] = ()
    any_therapy: bool = False
    except_groups: tuple[tuple[str, ...], ...] = ()
    refractory: bool = False
    min_agents: int = Field(1, ge=1)
    allowed: bool = False
    negate: bool = False


TimeEvent = Literal[
    "car_t_infusion",
    "last_therapy",
    "exposure",
    "autologous_transplant",
    "allogeneic_transplant",
    "any_transplant",
    "radiotherapy",
    "lymphodepletion",  # before the most recent CAR T infusion (its date is not recorded)
]


class TimeSinceAtom(_Frozen):
    """Days from the last ``event`` to the as-of date compared with ``days``.

    ``op`` "ge": at least ``days`` have passed (true when the event never happened);
    "lt": the event happened fewer than ``days`` ago (false when it never happened).
    For event "exposure", ``groups``/``drugs`` name the agents as in ``ExposureAtom``.
    """

    type: Literal["time_since"] = "time_since"
    event: TimeEvent
    op: Literal["ge", "lt"]
    days: int = Field(ge=0)
    groups: tuple[tuple[str, ...], ...] = ()
    drugs: tuple[str, ...] = ()
    negate: bool = False


class IntervalAtom(_Frozen):
    """Time between two events in the patient's history, not counted back from today:
    "progression within 12 months after CAR T infusion" is progression − infusion < 360 days.
    ``op`` "lt": the later event came fewer than ``days`` after the earlier; "ge": at least."""

    type: Literal["interval"] = "interval"
    start: Literal["car_t_infusion"]
    end: Literal["progression"] = "progression"
    op: Literal["lt", "ge"]
    days: int = Field(ge=0)
    negate: bool = False
    # the CAR T's target when the text names one ("within 6 months after BCMA CAR-T infusion")
    target: str | None = None


class TransplantAtom(_Frozen):
    type: Literal["transplant"] = "transplant"
    kind: Literal["autologous", "allogeneic", "any"]
    negate: bool = False


LabName = Literal[
    "anc",
    "platelets",
    "hemoglobin",
    "crcl",
    "egfr",
    "creatinine",
    "bilirubin",
    "ast",
    "alt",
    "calcium",
]


class LabAtom(_Frozen):
    """A lab threshold in canonical units (counts 10⁹/L, Hb g/dL, CrCl/eGFR mL/min,
    creatinine and bilirubin mg/dL), or a multiple of the upper limit of normal."""

    type: Literal["lab"] = "lab"
    analyte: LabName
    op: Literal["ge", "gt", "le", "lt"]
    value: float | None = None
    uln_multiple: float | None = None
    negate: bool = False


class FeatureAtom(_Frozen):
    """A disease feature is present: CNS involvement, plasma-cell leukaemia, extramedullary
    disease (``paraskeletal`` widens it to paraskeletal masses), non-secretory disease."""

    type: Literal["feature"] = "feature"
    feature: Literal["cns", "pcl", "extramedullary", "non_secretory"]
    paraskeletal: bool = False
    negate: bool = False


class AntigenAtom(_Frozen):
    type: Literal["antigen"] = "antigen"
    antigen: str
    after_latest_relapse: bool = False
    negate: bool = False


class CytogeneticAtom(_Frozen):
    type: Literal["cytogenetic"] = "cytogenetic"
    abnormality: str
    negate: bool = False


DiseaseState = Literal["rrmm", "ndmm", "smoldering", "active_mm", "al_amyloidosis", "mgus"]


class DiseaseStateAtom(_Frozen):
    type: Literal["disease_state"] = "disease_state"
    states: tuple[DiseaseState, ...]
    negate: bool = False


class ScreeningAtom(_Frozen):
    """A routine item the study team checks at screening (consent, serology, cardiac…)."""

    type: Literal["screening"] = "screening"
    topic: Literal[
        "consent",
        "contraception",
        "serology",
        "infection",
        "cardiac",
        "other_malignancy",
        "compliance",
        "life_expectancy",
        "toxicity_recovery",
        "allergy",
        "organ_other",
        "neurologic",
        "language",
    ]
    negate: bool = False


class OtherAtom(_Frozen):
    """Text the parser does not understand: shown as "ask the study team"."""

    type: Literal["other"] = "other"
    text: str
    negate: bool = False


Atom = Annotated[
    AgeAtom
    | PerformanceAtom
    | MeasurableAtom
    | PriorLinesAtom
    | ExposureAtom
    | TimeSinceAtom
    | IntervalAtom
    | TransplantAtom
    | LabAtom
    | FeatureAtom
    | AntigenAtom
    | CytogeneticAtom
    | DiseaseStateAtom
    | ScreeningAtom
    | OtherAtom,
    Field(discriminator="type"),
]


class Group(_Frozen):
    """All (``and``) or any (``or``) of the items must hold."""

    type: Literal["group"] = "group"
    op: Literal["and", "or"]
    items: tuple[Node, ...] = Field(min_length=1)


Node = Annotated[
    AgeAtom
    | PerformanceAtom
    | MeasurableAtom
    | PriorLinesAtom
    | ExposureAtom
    | TimeSinceAtom
    | IntervalAtom
    | TransplantAtom
    | LabAtom
    | FeatureAtom
    | AntigenAtom
    | CytogeneticAtom
    | DiseaseStateAtom
    | ScreeningAtom
    | OtherAtom
    | Group,
    Field(discriminator="type"),
]

Group.model_rebuild()


class Criterion(_Frozen):
    """One numbered criterion as written, with its structure."""

    id: str = Field(description="I3 = third inclusion criterion, E1 = first exclusion.")
    section: Section
    text: str
    tree: Node
    kinds: tuple[CriterionKind, ...] = Field(description="What the criterion is about, main first.")
    exception: str | None = Field(
        None, description="An 'unless/except/allowed if' clause the parser could not structure."
    )
    excludes: bool = Field(
        False,
        description="An exclusion written inside the inclusion list ('patients with CNS "
        "involvement are not eligible'): the tree states what excludes.",
    )
    region: str | None = Field(
        None,
        description="ISO country code when the criterion is a country note ('France specific: …'); "
        "it applies only to participants in that country.",
    )
    unaccounted: tuple[str, ...] = Field(
        (),
        description="Clinically meaningful parts of the text no recogniser accounted for "
        "(exceptions, permissions, conditions, region notes, target or time qualifiers). A "
        "criterion with any of these is never judged 'not met': it is 'ask the study team'.",
    )

    @property
    def kind(self) -> CriterionKind:
        return self.kinds[0]


class ParsedCriteria(_Frozen):
    """Everything parsed from one study's eligibility text."""

    parser_version: str = PARSER_VERSION
    criteria: tuple[Criterion, ...] = ()
    unsectioned: bool = Field(
        False, description="True when the text had no inclusion/exclusion headings."
    )

    @property
    def inclusion(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.section is Section.inclusion)

    @property
    def exclusion(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.section is Section.exclusion)


__all__ = [
    "PARSER_VERSION",
    "AgeAtom",
    "AntigenAtom",
    "Atom",
    "Criterion",
    "CriterionKind",
    "CytogeneticAtom",
    "DiseaseStateAtom",
    "ExposureAtom",
    "FeatureAtom",
    "Group",
    "IntervalAtom",
    "LabAtom",
    "MeasurableAtom",
    "Node",
    "OtherAtom",
    "ParsedCriteria",
    "PerformanceAtom",
    "PriorLinesAtom",
    "ScreeningAtom",
    "Section",
    "TimeSinceAtom",
    "TransplantAtom",
]
