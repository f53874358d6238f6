"""The schema of the curated knowledge base: one treatment option per YAML file.

Every model forbids unknown keys and is strict about types, so a typo in a data file fails
validation instead of silently dropping a fact. Every outcome or safety figure must carry a
citation; percentages must lie in 0-100; every rule names only facts from ``FACTS``, the
closed table of record facts the options engine computes. ``README.md`` next to this file
documents every field and the rule language for curators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from myelonav.knowledge.identifiers import checkable
from myelonav.knowledge.sources import FIGURE_KINDS, check_url, source_kind
from myelonav.patient.vocabulary import DRUG_CLASSES, vocabulary

SCHEMA_ID = "myelonav.option/1"

# --------------------------------------------------------------------------- the fact table

FactType = Literal["bool", "number", "enum", "set"]
Domain = Literal["drug_id", "drug_class", "target"]

TARGETS: frozenset[str] = frozenset(
    {"BCMA", "GPRC5D", "FcRH5", "CD38", "SLAMF7", "XPO1", "BCL2", "CD19"}
)
CAR_T_RELAPSE_CLASSES = ("primary_refractory", "early", "late", "no_relapse", "none")
ANTIGEN_STATUSES = ("positive", "low", "negative", "not_tested")
TRIAL_INTEREST = ("yes", "maybe", "no", "unknown")
GOALS = (
    "longest_control",
    "time_off_treatment",
    "quality_of_life",
    "stay_near_home",
    "avoid_hospital_stays",
    "try_new_treatments",
)


@dataclass(frozen=True)
class FactSpec:
    """What one record fact means: its type, unit and, for enums and sets, its allowed values.

    ``values`` closes an enum or a set of strings; ``domain`` closes a set whose members come
    from the drug vocabulary (agent ids, drug classes) or from ``TARGETS``.
    """

    type: FactType
    description: str
    unit: str | None = None
    values: tuple[str, ...] | None = None
    domain: Domain | None = None

    def allowed(self) -> frozenset[str] | None:
        """The closed set of string values this fact (or its members) may take, or None."""
        if self.values is not None:
            return frozenset(self.values)
        if self.domain == "drug_id":
            return frozenset(vocabulary().drugs)
        if self.domain == "drug_class":
            return DRUG_CLASSES
        if self.domain == "target":
            return TARGETS
        return None


# The closed list of facts a rule may use. The engine computes each from the record as of a
# date; a fact it cannot compute is *unknown* (never false). Sets are empty when the record
# is complete and holds nothing (e.g. no prior therapy), unknown when the history is missing.
FACTS: dict[str, FactSpec] = {
    # ---- treatment history
    "prior_agents": FactSpec(
        "set", "Every agent the patient has received, any line (vocabulary ids).", domain="drug_id"
    ),
    "refractory_agents": FactSpec(
        "set",
        "Agents the disease is refractory to: progression on or within 60 days of the last "
        "dose, or no response (IMWG).",
        domain="drug_id",
    ),
    "prior_classes": FactSpec(
        "set", "Drug classes of every agent received (vocabulary classes).", domain="drug_class"
    ),
    "refractory_classes": FactSpec(
        "set", "Drug classes of the agents the disease is refractory to.", domain="drug_class"
    ),
    "exposed_to_target": FactSpec(
        "set",
        "Antigens targeted by any prior therapy (CAR T, bispecific, antibody, ADC).",
        domain="target",
    ),
    "refractory_to_target": FactSpec(
        "set", "Antigens targeted by a therapy the disease is refractory to.", domain="target"
    ),
    "lines_of_therapy": FactSpec(
        "number",
        "Prior lines of therapy counted by IMWG rules (CAR T counts as a line).",
        unit="lines",
    ),
    "prior_allo_transplant": FactSpec("bool", "The patient has had an allogeneic transplant."),
    "prior_car_t_count": FactSpec("number", "Number of CAR T infusions received.", unit="count"),
    # ---- the (most recent) CAR T episode
    "car_t_relapse_class": FactSpec(
        "enum",
        "How the most recent CAR T failed: primary_refractory (never responded), early "
        "(progression < 6 months after infusion), late (>= 6 months); no_relapse (still "
        "responding); none (no CAR T in the record).",
        values=CAR_T_RELAPSE_CLASSES,
    ),
    "months_since_car_t_infusion": FactSpec(
        "number", "Months from the most recent CAR T infusion to the as-of date.", unit="months"
    ),
    "car_t_target": FactSpec(
        "enum",
        "Antigen targeted by the most recent CAR T; none when the record has no CAR T.",
        values=(*sorted(TARGETS), "none"),
    ),
    "bcma_status_at_relapse": FactSpec(
        "enum",
        "BCMA on myeloma cells at relapse after BCMA-directed therapy (negative = antigen loss).",
        values=ANTIGEN_STATUSES,
    ),
    "car_t_crs_max_grade": FactSpec(
        "number",
        "Worst cytokine release syndrome grade with the last CAR T (ASTCT).",
        unit="grade 0-5",
    ),
    "car_t_icans_max_grade": FactSpec(
        "number", "Worst ICANS grade with the last CAR T (ASTCT).", unit="grade 0-5"
    ),
    # ---- disease features
    "t_11_14": FactSpec("bool", "t(11;14) detected (False only if tested and absent)."),
    "del_17p": FactSpec("bool", "del(17p) detected (False only if tested and absent)."),
    "high_risk_cytogenetics": FactSpec(
        "bool",
        "Any of t(4;14), t(14;16), t(14;20), del(17p), TP53 mutation, gain/amp(1q), del(1p).",
    ),
    "extramedullary_disease": FactSpec(
        "bool", "Active soft-tissue plasmacytoma not contiguous with bone (EMD)."
    ),
    "plasma_cell_leukemia": FactSpec("bool", "Circulating plasma cells meet the PCL definition."),
    "cns_disease": FactSpec("bool", "Myeloma in the central nervous system."),
    "painful_bone_lesion": FactSpec("bool", "An active bone lesion that causes pain."),
    "single_site_progression": FactSpec(
        "bool", "Progression is confined to one site (local, not systemic)."
    ),
    # ---- fitness and organ function (latest value on or before the as-of date)
    "age": FactSpec("number", "Age in years on the as-of date.", unit="years"),
    "ecog": FactSpec("number", "ECOG performance status.", unit="score 0-5"),
    "crcl_ml_min": FactSpec("number", "Creatinine clearance (Cockcroft-Gault).", unit="mL/min"),
    "platelets": FactSpec("number", "Platelet count.", unit="10^9/L"),
    "anc": FactSpec("number", "Absolute neutrophil count.", unit="10^9/L"),
    "hemoglobin": FactSpec("number", "Hemoglobin.", unit="g/dL"),
    "bilirubin_mg_dl": FactSpec("number", "Total bilirubin.", unit="mg/dL"),
    # ---- preferences
    "trial_interest": FactSpec(
        "enum", "Whether the patient wants to hear about clinical trials.", values=TRIAL_INTEREST
    ),
    "max_travel_miles": FactSpec(
        "number", "How far the patient is willing to travel for care.", unit="miles"
    ),
    "goals": FactSpec("set", "The patient's stated goals of care.", values=GOALS),
    # ---- the clinical picture (computed by the picture module; unknown until it is merged)
    "heart_failure": FactSpec("bool", "Heart failure (clinical diagnosis, any class)."),
    "lvef_pct": FactSpec("number", "Left-ventricular ejection fraction.", unit="%"),
    "peripheral_neuropathy_grade": FactSpec(
        "number", "Current peripheral neuropathy grade (CTCAE).", unit="grade 0-4"
    ),
    "eye_disease": FactSpec("bool", "Corneal or ocular-surface disease."),
    "active_infection": FactSpec("bool", "An active infection now (being treated or untreated)."),
    "igg_mg_dl": FactSpec("number", "Serum polyclonal IgG (latest current value).", unit="mg/dL"),
    "transfusion_dependent": FactSpec("bool", "Needs regular red-cell or platelet transfusions."),
    "movement_disorder_after_car_t": FactSpec(
        "bool", "Parkinsonism or another movement disorder after CAR T."
    ),
    "secondary_malignancy": FactSpec(
        "bool", "A second cancer (e.g. MDS/AML, T-cell lymphoma) after myeloma treatment."
    ),
    "cord_compression": FactSpec("bool", "Spinal cord or nerve-root compression by myeloma."),
    "triple_class_exposed": FactSpec("bool", "Exposed to a PI, an IMiD and an anti-CD38 antibody."),
    "triple_class_refractory": FactSpec(
        "bool", "Refractory to a PI, an IMiD and an anti-CD38 antibody."
    ),
    "penta_refractory": FactSpec(
        "bool", "Refractory to two PIs, two IMiDs and an anti-CD38 antibody."
    ),
    "stopped_working_agents": FactSpec(
        "set", "Agents the patient reports stopped working (vocabulary ids).", domain="drug_id"
    ),
    "rapid_progression": FactSpec(
        "bool", "Rapidly rising disease or organ threat (kidney, calcium, cord, cytopenias)."
    ),
    "donor_available": FactSpec("bool", "A matched or haploidentical stem cell donor is known."),
    "months_since_last_therapy": FactSpec(
        "number", "Months from the last dose of any myeloma therapy.", unit="months"
    ),
}

# The facts above that the clinical-picture module (issue 12) computes. Until it lands, the
# engine leaves them unknown, so a rule that needs one says "need more information".
PICTURE_FACTS: tuple[str, ...] = (
    "heart_failure",
    "lvef_pct",
    "peripheral_neuropathy_grade",
    "eye_disease",
    "active_infection",
    "igg_mg_dl",
    "transfusion_dependent",
    "movement_disorder_after_car_t",
    "secondary_malignancy",
    "cord_compression",
    "triple_class_exposed",
    "triple_class_refractory",
    "penta_refractory",
    "stopped_working_agents",
    "rapid_progression",
    "donor_available",
    "months_since_last_therapy",
)

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "is_known", "is_unknown"]
_OPS_BY_TYPE: dict[FactType, frozenset[str]] = {
    "bool": frozenset({"eq", "ne", "is_known", "is_unknown"}),
    "number": frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "is_known", "is_unknown"}),
    "enum": frozenset({"eq", "ne", "in", "is_known", "is_unknown"}),
    "set": frozenset({"contains", "is_known", "is_unknown"}),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------- primitives

Percent = Annotated[float, Field(ge=0, le=100)]
Months = Annotated[float, Field(ge=0, le=600)]
Median = Months | Literal["not_reached"]
Text = Annotated[str, Field(min_length=1)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$")]


class Citation(_Model):
    """Where a figure comes from. At least one of pmid, doi, url or abstract is required.

    A URL must be on the allow-list of ``knowledge.sources`` (publisher, regulator, registry,
    guideline, meeting or the organisation's own site): never a news site or a mirror.
    """

    source: Text = Field(description='Journal, or "FDA label", or meeting abstract source.')
    year: int = Field(ge=1950, le=2100)
    pmid: str | None = Field(None, pattern=r"^\d{1,9}$")
    doi: str | None = Field(None, pattern=r"^10\.\d{4,9}/\S+$")
    url: Url | None = None
    abstract: str | None = Field(
        None, description="Meeting abstract identifier, e.g. 'ASH 2021 abstract 84'."
    )
    title: str | None = None
    authors: str | None = None

    @field_validator("url")
    @classmethod
    def _allowed_url(cls, url: str | None) -> str | None:
        if url is not None and (problem := check_url(url)):
            raise ValueError(problem)
        return url

    @model_validator(mode="after")
    def _has_identifier(self) -> Citation:
        if not (self.pmid or self.doi or self.url or self.abstract):
            raise ValueError("a citation needs at least one of pmid, doi, url or abstract")
        return self

    def primary_identifier(self) -> str | None:
        """The identifier that makes this a primary source for a figure, or None."""
        if self.pmid:
            return f"PMID {self.pmid}"
        if self.doi:
            return f"doi:{self.doi}"
        if self.abstract:
            return self.abstract
        if self.url and source_kind(self.url) in FIGURE_KINDS:
            return self.url
        return None

    def has_pmid_or_doi(self) -> bool:
        return bool(self.pmid or self.doi)

    def checkable_identifier(self) -> str | None:
        """PMID, DOI, meeting abstract, or a label/guideline page (``knowledge.identifiers``)."""
        return checkable(pmid=self.pmid, doi=self.doi, abstract=self.abstract, url=self.url)


def _check_figure_citation(present: list[str], citation: Citation | None) -> None:
    if not present:
        return
    if citation is None:
        raise ValueError(f"figures {present} need a citation")
    if citation.checkable_identifier() is None:
        raise ValueError(
            f"figures {present} need a PMID, a DOI, a meeting abstract number, or the "
            "label/guideline page; a publisher or registry page is not enough "
            "(knowledge/identifiers.py): add the verified PMID/DOI, cite the label, or leave "
            "the figure out"
        )


YesNo = Literal["yes", "no", "partial", "not_reported"]
StudyDesign = Literal[
    "phase_1",
    "phase_1_2",
    "phase_2",
    "phase_3",
    "retrospective",
    "prospective_observational",
    "case_series",
    "pooled_analysis",
    "guideline",
]

_OUTCOME_FIGURES = (
    "orr_pct",
    "cr_or_better_pct",
    "median_pfs_months",
    "median_dor_months",
    "median_os_months",
)


class Evidence(_Model):
    """One study (or one cohort of a study) and what it found."""

    study: Text = Field(description="Trial or series name, e.g. 'MajesTEC-1'.")
    cohort: str | None = Field(None, description="Arm or cohort, e.g. 'cohort B (prior BCMA)'.")
    design: StudyDesign
    population: Text
    post_bcma_car_t: YesNo = Field(
        description="yes: all had prior BCMA CAR T; partial: some did; no: none/excluded."
    )
    post_bispecific: YesNo
    n: int | None = Field(None, ge=1, le=1_000_000)
    orr_pct: Percent | None = None
    cr_or_better_pct: Percent | None = None
    median_pfs_months: Median | None = None
    median_dor_months: Median | None = None
    median_os_months: Median | None = None
    follow_up_months: Months | None = Field(None, description="Median follow-up.")
    notes: str | None = None
    citation: Citation | None = None
    figures_withheld: bool = Field(
        False,
        description=(
            "The study reported outcomes in this population, but its figures are left out "
            "because the paper's PMID/DOI could not be verified; the notes say so."
        ),
    )

    @model_validator(mode="after")
    def _figures_cited(self) -> Evidence:
        present = [f for f in (*_OUTCOME_FIGURES, "n") if getattr(self, f) is not None]
        _check_figure_citation(present, self.citation)
        if self.figures_withheld and (present or not self.notes):
            raise ValueError(
                "figures_withheld: the entry must carry no figures and a note saying why"
            )
        cr, orr = self.cr_or_better_pct, self.orr_pct
        if cr is not None and orr is not None and cr > orr:
            raise ValueError("cr_or_better_pct cannot exceed orr_pct")
        return self

    def figures(self) -> dict[str, float | str]:
        """The outcome figures this entry reports, by name."""
        return {f: v for f in _OUTCOME_FIGURES if (v := getattr(self, f)) is not None}


_SAFETY_FIGURES = (
    "crs_pct",
    "crs_grade3plus_pct",
    "icans_pct",
    "icans_grade3plus_pct",
    "infections_pct",
    "infections_grade3plus_pct",
    "neutropenia_grade3plus_pct",
    "treatment_related_deaths_pct",
)
# Every numeric figure field of an evidence entry (what the text check matches claims to).
FIGURE_FIELDS = ("n", *_OUTCOME_FIGURES, "follow_up_months", *_SAFETY_FIGURES)


class SafetyData(_Model):
    """Adverse-event rates from one study or label, all from the one cited source."""

    study: Text
    population: str | None = None
    crs_pct: Percent | None = None
    crs_grade3plus_pct: Percent | None = None
    icans_pct: Percent | None = None
    icans_grade3plus_pct: Percent | None = None
    infections_pct: Percent | None = None
    infections_grade3plus_pct: Percent | None = None
    neutropenia_grade3plus_pct: Percent | None = None
    treatment_related_deaths_pct: Percent | None = None
    notes: str | None = None
    citation: Citation | None = None

    @model_validator(mode="after")
    def _figures_cited(self) -> SafetyData:
        present = [f for f in _SAFETY_FIGURES if getattr(self, f) is not None]
        _check_figure_citation(present, self.citation)
        for total, severe in (
            ("crs_pct", "crs_grade3plus_pct"),
            ("icans_pct", "icans_grade3plus_pct"),
            ("infections_pct", "infections_grade3plus_pct"),
        ):
            a, b = getattr(self, total), getattr(self, severe)
            if a is not None and b is not None and b > a:
                raise ValueError(f"{severe} cannot exceed {total}")
        return self

    def figures(self) -> dict[str, float]:
        return {f: v for f in _SAFETY_FIGURES if (v := getattr(self, f)) is not None}


class Safety(_Model):
    data: list[SafetyData] = Field(default_factory=list)
    boxed_warning: str | None = Field(None, description="The label's boxed warning, if any.")
    on_target_effects: str | None = Field(
        None, description="Effects from hitting the target on healthy tissue (clinician voice)."
    )
    key_risks_patient: Text = Field(description="The main risks in plain words.")


class ListPrice(_Model):
    amount_usd: float = Field(gt=0)
    per: Text = Field(description="What the price buys, e.g. 'one infusion', '28-day cycle'.")
    source: Text
    date: dt.date
    url: Url | None = None

    @field_validator("url")
    @classmethod
    def _primary_url(cls, url: str | None) -> str | None:
        if url is not None and (problem := check_url(url, for_figure=True)):
            raise ValueError(problem)
        return url


class AssistanceProgram(_Model):
    """Help paying or getting to treatment, pointed at the organisation that runs it."""

    name: Text
    kind: Literal["manufacturer", "foundation", "government", "other"]
    url: Url | None = None
    notes: str | None = None
    last_reviewed: dt.date | None = None

    @field_validator("url")
    @classmethod
    def _allowed_url(cls, url: str | None) -> str | None:
        if url is not None and (problem := check_url(url)):
            raise ValueError(problem)
        return url


Route = Literal[
    "subcutaneous",
    "intravenous",
    "oral",
    "cell_infusion",
    "oral_and_intravenous",
    "external_beam",
    "procedure",
    "varies",
    "none",
]


class Logistics(_Model):
    route: Route
    step_up_dosing: bool
    hospital_stay: Text = Field(description="Whether and how long a hospital stay is needed.")
    duration: Literal["continuous", "fixed", "varies"]
    schedule: str | None = None
    rems: bool = Field(description="FDA Risk Evaluation and Mitigation Strategy required.")
    where_given: str | None = Field(None, description="e.g. certified centres only.")
    list_price: ListPrice | None = Field(
        description="Published list price, or null when none is published or verified."
    )
    assistance_programs: list[AssistanceProgram] = Field(default_factory=list)
    cost_patient: str | None = Field(
        None,
        description="Plain words on what costs and logistics to expect (stays, travel, visits).",
    )
    notes: str | None = None
    citations: list[Citation] = Field(
        default_factory=list, description="Sources for schedule, stay and REMS facts."
    )


class Approval(_Model):
    status: Literal["approved", "accelerated", "investigational", "off_label"]
    region: str | None = Field(None, description="e.g. US, EU.")
    date: dt.date | None = None
    indication: str | None = None
    citation: Citation | None = None

    @model_validator(mode="after")
    def _complete(self) -> Approval:
        if self.status in ("approved", "accelerated"):
            needed = ("region", "date", "indication", "citation")
            missing = [f for f in needed if not getattr(self, f)]
            if missing:
                raise ValueError(f"an {self.status} approval needs {missing}")
        return self


# --------------------------------------------------------------------------- rule language


class Leaf(_Model):
    """``{fact, op, value}``: one test of one record fact."""

    fact: str
    op: Op
    value: bool | float | str | list[float | str] | None = None

    @model_validator(mode="after")
    def _well_typed(self, info: ValidationInfo) -> Leaf:
        # Rules outside the options (question triggers) validate against a wider table,
        # passed as validation context: {"facts": {...}}.
        table: Mapping[str, FactSpec] = (info.context or {}).get("facts", FACTS)
        spec = table.get(self.fact)
        if spec is None:
            raise ValueError(f"unknown fact {self.fact!r}; known facts: {sorted(table)}")
        if self.op not in _OPS_BY_TYPE[spec.type]:
            raise ValueError(
                f"op {self.op!r} does not apply to {spec.type} fact {self.fact!r}; "
                f"use one of {sorted(_OPS_BY_TYPE[spec.type])}"
            )
        if self.op in ("is_known", "is_unknown"):
            if self.value is not None:
                raise ValueError(f"op {self.op!r} takes no value")
            return self
        if self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        if self.op == "in":
            if not isinstance(self.value, list) or not self.value:
                raise ValueError("op 'in' needs a non-empty list value")
            for item in self.value:
                _check_scalar(self.fact, spec, item)
        elif isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a single value, not a list")
        else:
            _check_scalar(self.fact, spec, self.value)
        return self


def _check_scalar(fact: str, spec: FactSpec, value: object) -> None:
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"fact {fact!r} is a bool; value must be true or false")
        return
    if spec.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"fact {fact!r} is a number ({spec.unit}); value must be a number")
        return
    if not isinstance(value, str):
        raise ValueError(f"fact {fact!r} takes string values")
    allowed = spec.allowed()
    if allowed is not None and value not in allowed:
        if spec.domain == "drug_id":
            hint = "use a vocabulary id from patient/data/drugs.yaml"
        else:
            hint = f"allowed: {sorted(allowed)}"
        raise ValueError(f"{value!r} is not a value of fact {fact!r}; {hint}")


class AllNode(_Model):
    all: list[Node] = Field(min_length=1)


class AnyNode(_Model):
    any: list[Node] = Field(min_length=1)


class NotNode(_Model):
    not_: Node = Field(alias="not")


def _node_kind(raw: Any) -> str | None:
    if isinstance(raw, dict):
        keys = set(raw)
        for kind in ("all", "any", "not"):
            if kind in keys:
                return kind
        return "leaf"
    if isinstance(raw, AllNode):
        return "all"
    if isinstance(raw, AnyNode):
        return "any"
    if isinstance(raw, NotNode):
        return "not"
    if isinstance(raw, Leaf):
        return "leaf"
    return None


Node = Annotated[
    Annotated[AllNode, Tag("all")]
    | Annotated[AnyNode, Tag("any")]
    | Annotated[NotNode, Tag("not")]
    | Annotated[Leaf, Tag("leaf")],
    Discriminator(
        _node_kind,
        custom_error_type="invalid_rule_node",
        custom_error_message="a rule node is {all: [...]}, {any: [...]}, {not: node} or a leaf "
        "{fact, op, value}",
    ),
]

AllNode.model_rebuild()
AnyNode.model_rebuild()
NotNode.model_rebuild()


def iter_leaves(node: Node) -> Iterator[Leaf]:
    """Every leaf of a rule tree, depth first."""
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, AllNode):
        for child in node.all:
            yield from iter_leaves(child)
    elif isinstance(node, AnyNode):
        for child in node.any:
            yield from iter_leaves(child)
    else:
        yield from iter_leaves(node.not_)


Effect = Literal["excludes", "caution", "favours", "disfavours", "requires"]
Basis = Literal["study", "label", "guideline", "mechanism", "clinical_practice"]


class Rule(_Model):
    """One eligibility or fit rule.

    For ``excludes``, ``caution``, ``favours`` and ``disfavours`` the rule fires when ``when``
    is true. For ``requires``, ``when`` states the requirement and the rule fires when it is
    false. When ``when`` is unknown (a fact it needs is unknown) the engine reports the
    ``missing_fact_message``.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: Node
    effect: Effect
    reason_patient: Text
    reason_clinician: Text
    missing_fact_message: str | None = None
    basis: Basis = Field(
        description="What the rule rests on; study, label and guideline need a citation."
    )
    citations: list[Citation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cited(self) -> Rule:
        if self.basis in ("study", "label", "guideline") and not self.citations:
            raise ValueError(f"a rule with basis {self.basis!r} needs at least one citation")
        return self

    def facts(self) -> frozenset[str]:
        """The record facts this rule reads."""
        return frozenset(leaf.fact for leaf in iter_leaves(self.when))


# --------------------------------------------------------------------------- the option

Category = Literal[
    "car_t_retreatment",
    "bispecific",
    "combination_bispecific",
    "chemotherapy_targeted",
    "antibody_drug_conjugate",
    "alkylator_salvage",
    "radiation",
    "transplant",
    "clinical_trial",
    "supportive_care",
]
OptionTarget = Literal["BCMA", "GPRC5D", "FcRH5", "CD38", "SLAMF7", "XPO1", "BCL2", "CD19"]


class Option(_Model):
    """One treatment option after CAR T, with its evidence and its rules."""

    schema_: Literal["myelonav.option/1"] = Field(alias="schema")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    category: Category
    agents: list[str] = Field(
        default_factory=list, description="Vocabulary ids (patient/data/drugs.yaml)."
    )
    targets: list[OptionTarget] = Field(
        default_factory=list, description="Antigens the option targets; empty for none."
    )
    summary_patient: Text
    summary_clinician: Text
    how_it_works_patient: Text
    who_it_is_for: Text
    evidence: list[Evidence] = Field(min_length=1)
    safety: Safety
    logistics: Logistics
    approval: list[Approval] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    trial_search_terms: list[str] = Field(
        default_factory=list, description="Terms the trial matcher may use for this option."
    )
    last_reviewed: dt.date

    @field_validator("agents")
    @classmethod
    def _known_agents(cls, agents: list[str]) -> list[str]:
        known = vocabulary().drugs
        unknown = [a for a in agents if a not in known]
        if unknown:
            raise ValueError(
                f"agents {unknown} are not vocabulary ids (patient/data/drugs.yaml); "
                "use the canonical id, or add the drug there"
            )
        if len(set(agents)) != len(agents):
            raise ValueError("agents are listed twice")
        return agents

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> Option:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self

    def citations(self) -> list[Citation]:
        """Every citation in the file, de-duplicated, in order of appearance."""
        found: list[Citation] = []
        for cite in _walk_citations(self):
            if cite not in found:
                found.append(cite)
        return found


def _walk_citations(obj: object) -> Iterator[Citation]:
    if isinstance(obj, Citation):
        yield obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk_citations(getattr(obj, name))
    elif isinstance(obj, list):
        for item in obj:
            yield from _walk_citations(item)


def fact_table() -> list[tuple[str, str, str, str]]:
    """The fact table as rows (name, type, unit, description), for docs and the CLI."""
    return [(n, s.type, s.unit or "", s.description) for n, s in FACTS.items()]


__all__ = [
    "FACTS",
    "FIGURE_FIELDS",
    "PICTURE_FACTS",
    "SCHEMA_ID",
    "TARGETS",
    "AllNode",
    "AnyNode",
    "Approval",
    "AssistanceProgram",
    "Citation",
    "Evidence",
    "FactSpec",
    "Leaf",
    "ListPrice",
    "Logistics",
    "Node",
    "NotNode",
    "Option",
    "Rule",
    "Safety",
    "SafetyData",
    "fact_table",
    "iter_leaves",
]
