"""The patient record: everything myelonav reasons over, as strict pydantic v2 models.

The record is a *normalised* view: every lab is in one canonical unit (see
``myelonav.patient.units``), every drug is a canonical generic name from the drug
vocabulary, and what the source said but could not be mapped sits in
``PatientRecord.unmapped`` rather than being dropped.

Unknown is a first-class answer: ``None`` always means "not known", never "no".
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

SCHEMA_VERSION: Literal["1.0"] = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


# --------------------------------------------------------------------------- vocabularies


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class HeavyChain(StrEnum):
    IgG = "IgG"
    IgA = "IgA"
    IgD = "IgD"
    IgM = "IgM"
    IgE = "IgE"


class LightChain(StrEnum):
    kappa = "kappa"
    lambda_ = "lambda"


class ResponseCategory(StrEnum):
    """IMWG 2016 response categories (Kumar et al., Lancet Oncol 2016;17:e328-46)."""

    sCR = "sCR"
    CR = "CR"
    VGPR = "VGPR"
    PR = "PR"
    MR = "MR"
    SD = "SD"
    PD = "PD"
    NE = "NE"  # not evaluable


RESPONSE_ORDER: dict[ResponseCategory, int] = {
    ResponseCategory.sCR: 7,
    ResponseCategory.CR: 6,
    ResponseCategory.VGPR: 5,
    ResponseCategory.PR: 4,
    ResponseCategory.MR: 3,
    ResponseCategory.SD: 2,
    ResponseCategory.PD: 1,
    ResponseCategory.NE: 0,
}


class StopReason(StrEnum):
    completed = "completed"  # planned course finished
    progression = "progression"
    toxicity = "toxicity"
    patient_choice = "patient_choice"
    ongoing = "ongoing"
    other = "other"
    unknown = "unknown"


class CytogeneticAbnormality(StrEnum):
    t_4_14 = "t(4;14)"
    t_14_16 = "t(14;16)"
    t_14_20 = "t(14;20)"
    t_11_14 = "t(11;14)"
    t_6_14 = "t(6;14)"
    del_17p = "del(17p)"
    tp53_mutation = "TP53 mutation"
    gain_1q = "gain(1q)"
    amp_1q = "amp(1q)"
    del_1p = "del(1p)"
    del_13q = "del(13q)"
    hyperdiploidy = "hyperdiploidy"


HIGH_RISK_ABNORMALITIES = frozenset(
    {
        CytogeneticAbnormality.t_4_14,
        CytogeneticAbnormality.t_14_16,
        CytogeneticAbnormality.t_14_20,
        CytogeneticAbnormality.del_17p,
        CytogeneticAbnormality.tp53_mutation,
        CytogeneticAbnormality.gain_1q,
        CytogeneticAbnormality.amp_1q,
        CytogeneticAbnormality.del_1p,
    }
)


class AntigenStatus(StrEnum):
    positive = "positive"
    low = "low"
    negative = "negative"  # antigen loss
    not_tested = "not_tested"


class TransplantKind(StrEnum):
    autologous = "autologous"
    allogeneic = "allogeneic"


class DiseaseSiteKind(StrEnum):
    bone_lesion = "bone_lesion"
    extramedullary_plasmacytoma = "extramedullary_plasmacytoma"
    paraskeletal_plasmacytoma = "paraskeletal_plasmacytoma"
    cns = "cns"
    plasma_cell_leukemia = "plasma_cell_leukemia"


class Analyte(StrEnum):
    """Every measured quantity the record holds, with its canonical unit in ``CANONICAL_UNIT``."""

    hemoglobin = "hemoglobin"
    anc = "anc"
    platelets = "platelets"
    wbc = "wbc"
    lymphocytes = "lymphocytes"
    creatinine = "creatinine"
    bilirubin = "bilirubin"
    ast = "ast"
    alt = "alt"
    calcium = "calcium"
    albumin = "albumin"
    beta2_microglobulin = "beta2_microglobulin"
    ldh = "ldh"
    igg = "igg"
    body_weight = "body_weight"
    body_height = "body_height"
    # response labs (IMWG)
    serum_m_protein = "serum_m_protein"
    urine_m_protein = "urine_m_protein"
    kappa_flc = "kappa_flc"
    lambda_flc = "lambda_flc"
    flc_ratio = "flc_ratio"
    serum_immunofixation = "serum_immunofixation"
    urine_immunofixation = "urine_immunofixation"
    marrow_plasma_cells = "marrow_plasma_cells"
    circulating_plasma_cells = "circulating_plasma_cells"


CANONICAL_UNIT: dict[Analyte, str] = {
    Analyte.hemoglobin: "g/dL",
    Analyte.anc: "10*9/L",
    Analyte.platelets: "10*9/L",
    Analyte.wbc: "10*9/L",
    Analyte.lymphocytes: "10*9/L",
    Analyte.creatinine: "mg/dL",
    Analyte.bilirubin: "mg/dL",
    Analyte.ast: "U/L",
    Analyte.alt: "U/L",
    Analyte.calcium: "mg/dL",
    Analyte.albumin: "g/dL",
    Analyte.beta2_microglobulin: "mg/L",
    Analyte.ldh: "U/L",
    Analyte.igg: "mg/dL",
    Analyte.body_weight: "kg",
    Analyte.body_height: "cm",
    Analyte.serum_m_protein: "g/dL",
    Analyte.urine_m_protein: "mg/24h",
    Analyte.kappa_flc: "mg/L",
    Analyte.lambda_flc: "mg/L",
    Analyte.flc_ratio: "1",
    Analyte.serum_immunofixation: "",
    Analyte.urine_immunofixation: "",
    Analyte.marrow_plasma_cells: "%",
    Analyte.circulating_plasma_cells: "%",
}

QUALITATIVE_ANALYTES = frozenset({Analyte.serum_immunofixation, Analyte.urine_immunofixation})

RESPONSE_ANALYTES = frozenset(
    {
        Analyte.serum_m_protein,
        Analyte.urine_m_protein,
        Analyte.kappa_flc,
        Analyte.lambda_flc,
        Analyte.flc_ratio,
        Analyte.serum_immunofixation,
        Analyte.urine_immunofixation,
        Analyte.marrow_plasma_cells,
    }
)


class Qualitative(StrEnum):
    positive = "positive"
    negative = "negative"
    low = "low"
    normal = "normal"
    high = "high"


class Goal(StrEnum):
    longest_control = "longest_control"
    time_off_treatment = "time_off_treatment"
    quality_of_life = "quality_of_life"
    stay_near_home = "stay_near_home"
    avoid_hospital_stays = "avoid_hospital_stays"
    try_new_treatments = "try_new_treatments"


class TrialInterest(StrEnum):
    yes = "yes"
    maybe = "maybe"
    no = "no"
    unknown = "unknown"


class FactSource(StrEnum):
    """Where one fact came from, when the record says (else the profile's source decides:
    the intake form is the patient's word, a FHIR or C-CDA import is the medical record)."""

    patient = "patient"
    records = "records"


# --------------------------------------------------------------------------- parts

Grade = Annotated[int, Field(ge=0, le=5)]
NonNegative = Annotated[float, Field(ge=0)]


class Demographics(_Model):
    """Who the patient is, as far as reasoning needs. No names: they are not needed."""

    birth_date: dt.date | None = Field(None, description="Date of birth, if known.")
    age_years: int | None = Field(
        None, ge=0, le=120, description="Age in whole years when no birth date is given."
    )
    age_recorded_on: dt.date | None = Field(None, description="Date on which age_years was true.")
    sex: Sex = Sex.unknown
    postal_code: str | None = Field(None, max_length=16)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")

    def age_on(self, when: dt.date) -> int | None:
        """Age in completed years on ``when``, or None when neither birth date nor age is known."""
        if self.birth_date is not None:
            years = when.year - self.birth_date.year
            if (when.month, when.day) < (self.birth_date.month, self.birth_date.day):
                years -= 1
            return years
        if self.age_years is not None:
            if self.age_recorded_on is None:
                return self.age_years
            return self.age_years + max(0, (when - self.age_recorded_on).days // 365)
        return None


class Isotype(_Model):
    """Monoclonal protein type. Light-chain-only disease has no heavy chain."""

    heavy_chain: HeavyChain | None = None
    light_chain: LightChain | None = None
    non_secretory: bool = False

    @property
    def light_chain_only(self) -> bool:
        return self.heavy_chain is None and self.light_chain is not None and not self.non_secretory

    def label(self) -> str:
        if self.non_secretory:
            return "non-secretory"
        if self.heavy_chain is None and self.light_chain is None:
            return "unknown"
        if self.heavy_chain is None:
            return f"light-chain {self.light_chain}"
        return f"{self.heavy_chain} {self.light_chain or ''}".strip()


class Diagnosis(_Model):
    date: dt.date | None = Field(None, description="Date multiple myeloma was diagnosed.")
    isotype: Isotype = Field(default_factory=Isotype)
    iss_stage_at_diagnosis: Literal[1, 2, 3] | None = None


class CytogeneticFinding(_Model):
    abnormality: CytogeneticAbnormality
    detected: bool = Field(True, description="False records a tested-and-absent abnormality.")
    date: dt.date | None = None
    method: Literal["FISH", "karyotype", "NGS", "other"] | None = None
    clone_fraction_pct: float | None = Field(None, ge=0, le=100)
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")


class TherapyLine(_Model):
    """One regimen as the record gives it. ``line_number`` is what the source said, if anything;
    IMWG line counts group planned sequences (induction + transplant + maintenance) and are
    computed, not stored (``myelonav.patient.lines``)."""

    agents: list[str] = Field(
        min_length=1, description="Canonical generic names (drug vocabulary)."
    )
    start: dt.date | None = None
    end: dt.date | None = None
    line_number: int | None = Field(None, ge=1)
    best_response: ResponseCategory | None = None
    stop_reason: StopReason = StopReason.unknown
    refractory: bool | None = Field(
        None, description="Progression on or within 60 days of the last dose (IMWG)."
    )
    regimen: str | None = Field(None, description="The regimen as written in the source.")
    after_car_t: bool = False
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> TherapyLine:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class CarTEpisode(_Model):
    product: str = Field(description="Canonical product name, e.g. 'idecabtagene vicleucel'.")
    target_antigen: str | None = Field(None, description="e.g. BCMA, GPRC5D, CD19.")
    infusion_date: dt.date
    line_number: int | None = Field(None, ge=1)
    bridging_agents: list[str] = Field(default_factory=list)
    best_response: ResponseCategory | None = None
    progression_date: dt.date | None = None
    crs_max_grade: Grade | None = None
    icans_max_grade: Grade | None = None
    antigen_status_at_relapse: AntigenStatus | None = Field(
        None, description="None = not known; not_tested = known not to have been tested."
    )
    antigen_status_date: dt.date | None = None
    investigational: bool = False
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")

    @model_validator(mode="after")
    def _progression_after_infusion(self) -> CarTEpisode:
        if self.progression_date and self.progression_date < self.infusion_date:
            raise ValueError(
                f"progression_date {self.progression_date} is before infusion {self.infusion_date}"
            )
        return self


class Transplant(_Model):
    kind: TransplantKind
    date: dt.date | None = None
    conditioning: str | None = None
    line_number: int | None = Field(None, ge=1, description="Line number as the source gave it.")
    best_response: ResponseCategory | None = None
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")


class RadiationCourse(_Model):
    site: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    dose_gy: float | None = Field(None, ge=0, le=100)
    fractions: int | None = Field(None, ge=1, le=60)


# analytes whose "low" result in a pre-issue-17 profile was a detection limit ('< value')
_DETECTION_LIMIT_ANALYTES = frozenset(
    {
        "serum_m_protein",
        "urine_m_protein",
        "marrow_plasma_cells",
        "circulating_plasma_cells",
    }
)


class LabResult(_Model):
    """One dated measurement in the canonical unit of its analyte.

    ``value`` is numeric; ``qualitative`` holds a coded result (immunofixation positive,
    LDH 'high') when no number was given. At least one of the two is present.
    """

    analyte: Analyte
    date: dt.date
    value: float | None = None
    unit: str | None = Field(None, description="Canonical unit; set from the analyte.")
    qualitative: Qualitative | None = None
    upper_limit_normal: float | None = Field(None, ge=0)
    source_code: str | None = Field(None, description="e.g. LOINC code of the source observation")
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")
    below_limit: bool | None = Field(
        None,
        description="True: the result was below the limit given as ``value`` ('< value', "
        "under the detection or quantitation limit). Not the 'low' flag "
        "(``qualitative``: low), which marks a measured value under the reference range.",
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_low(cls, data: Any) -> Any:
        """Profiles written before issue 17 kept '< value' and a 'low' flag both as
        ``qualitative: low``. Labs now carry ``below_limit`` whenever a value is flagged low,
        so its absence marks an old profile: for analytes reported against a detection limit
        (M-protein, plasma cells) it meant '<', for the others the flag."""
        if (
            isinstance(data, dict)
            and data.get("below_limit") is None
            and data.get("qualitative") == "low"
            and data.get("value") is not None
        ):
            data = dict(data)
            if data.get("analyte") in _DETECTION_LIMIT_ANALYTES:
                data["below_limit"] = True
                data["qualitative"] = None
            else:
                data["below_limit"] = False
        return data

    @model_validator(mode="after")
    def _value_or_qualitative(self) -> LabResult:
        if self.value is None and self.qualitative is None:
            raise ValueError("a lab result needs a value or a qualitative result")
        if self.below_limit and self.value is None:
            raise ValueError("below_limit needs the limit as value")
        if self.value is not None:
            if self.value != self.value or self.value in (float("inf"), float("-inf")):
                raise ValueError("value must be a finite number")
            if self.value < 0:
                raise ValueError("value must not be negative")
        canonical = CANONICAL_UNIT[self.analyte]
        if self.unit is None:
            object.__setattr__(self, "unit", canonical)
        elif self.unit != canonical:
            raise ValueError(
                f"unit {self.unit!r} is not the canonical unit {canonical!r} for {self.analyte}; "
                "convert it on import"
            )
        return self


class EcogAssessment(_Model):
    date: dt.date | None = None
    score: int = Field(ge=0, le=5)
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")


class DiseaseSite(_Model):
    kind: DiseaseSiteKind
    location: str | None = None
    date: dt.date | None = None
    size_cm: float | None = Field(None, ge=0, description="Largest diameter, or SPD when known.")
    painful: bool | None = None
    # tri-state: True, False, or None = unknown; written as "unknown" so that a save and a load
    # (which drop None) do not turn an unknown activity into the default "active"
    active: bool | None = Field(
        True,
        description='true, false or "unknown" (null is read as unknown)',
        json_schema_extra={"anyOf": [{"type": "boolean"}, {"type": "null"}, {"const": "unknown"}]},
    )
    cord_compression: bool | None = Field(
        None, description="The lesion presses on the spinal cord or its nerve roots."
    )
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")

    @field_validator("active", mode="before")
    @classmethod
    def _unknown_activity(cls, value: object) -> object:
        return None if value == "unknown" else value

    @model_serializer(mode="wrap")
    def _dump_activity(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        if self.active is None:
            data["active"] = "unknown"
        return data


class SiteNotFound(_Model):
    """A kind of disease site looked for and not found: a scan without myeloma outside the
    bones, a spinal-fluid test without myeloma cells, a blood smear below the leukaemia
    level, or the patient's own "no". A kind never looked for is unknown, never absent."""

    kind: DiseaseSiteKind
    date: dt.date | None = Field(None, description="When it was looked for (or told).")
    reported_by: FactSource | None = Field(
        None, description="patient (told by the patient) or records (medical records); "
                          "unset: the profile's source says.")


class Comorbidities(_Model):
    """Conditions that change which treatments are safe. ``None`` means not recorded.

    Each is read from the record (FHIR Condition/Observation, C-CDA problems) or told by the
    patient; a condition not recorded is unknown, never "absent".
    """

    recorded_on: dt.date | None = Field(None, description="When these were last reviewed.")
    heart_failure: bool | None = None
    lvef_pct: float | None = Field(None, ge=5, le=90, description="Left-ventricular EF, %.")
    lvef_date: dt.date | None = None
    peripheral_neuropathy_grade: int | None = Field(None, ge=0, le=4, description="CTCAE 0-4.")
    eye_disease: bool | None = Field(None, description="Corneal or ocular-surface disease.")
    active_infection: bool | None = None
    infection_detail: str | None = Field(None, max_length=500)
    movement_disorder_after_car_t: bool | None = Field(
        None, description="Parkinsonism or another movement disorder after CAR T."
    )
    secondary_malignancy: bool | None = Field(None, description="A second primary cancer.")
    transfusion_dependent: bool | None = Field(
        None, description="Needs regular red-cell or platelet transfusions."
    )


PHONE_PATTERN = r"^\+?[0-9(][0-9 ().\-]{2,38}$"  # digits, spaces, ( ) . - ; shown as a tel: link


class Preferences(_Model):
    max_travel_miles: float | None = Field(None, ge=0)
    trial_interest: TrialInterest = TrialInterest.unknown
    goals: list[Goal] = Field(default_factory=list)
    notes: str | None = Field(None, max_length=2000)
    care_team_phone: str | None = Field(
        None, max_length=40, pattern=PHONE_PATTERN, description="The care team's phone number."
    )
    after_hours_phone: str | None = Field(
        None, max_length=40, pattern=PHONE_PATTERN,
        description="The number to call at night and at weekends.",
    )
    stem_cell_donor: Literal["found", "none_found", "unknown"] = Field(
        "unknown",
        description=(
            "found: a matched or haploidentical donor has been found; none_found: a donor "
            "search found no suitable donor; unknown: not searched or not known."
        ),
    )
    name_on_packet: str | None = Field(
        None, max_length=120,
        description="The name to print on the visit packet, only if the patient wants it "
                    "there; unset (the default): no name.",
    )


class UnmappedItem(_Model):
    """Something in the source that the importer could not map; kept, not dropped."""

    path: str
    resource_type: str | None = None
    reason: str
    text: str | None = None


# --------------------------------------------------------------------------- the record


class PatientRecord(_Model):
    """The whole patient profile myelonav reasons over."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
    demographics: Demographics = Field(default_factory=Demographics)
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    cytogenetics: list[CytogeneticFinding] = Field(default_factory=list)
    therapy_lines: list[TherapyLine] = Field(default_factory=list)
    car_t: list[CarTEpisode] = Field(default_factory=list)
    transplants: list[Transplant] = Field(default_factory=list)
    radiation: list[RadiationCourse] = Field(default_factory=list)
    labs: list[LabResult] = Field(default_factory=list)
    ecog: list[EcogAssessment] = Field(default_factory=list)
    disease_sites: list[DiseaseSite] = Field(default_factory=list)
    sites_not_found: list[SiteNotFound] = Field(
        default_factory=list,
        description="Kinds of disease site looked for and not found. A kind neither here nor "
        "in disease_sites is unknown (profiles saved before this field load as unknown).",
    )
    preferences: Preferences = Field(default_factory=Preferences)
    comorbidities: Comorbidities = Field(default_factory=Comorbidities)
    lines_before_car_t_reported: int | None = Field(
        None,
        ge=0,
        le=30,
        description="Lines of therapy before the first CAR T as the patient told them, for a "
        "record without the detailed, dated history. Line counts never fall below it.",
    )
    unmapped: list[UnmappedItem] = Field(default_factory=list)
    sample: bool = Field(False, description="True for the fictional patients bundled as samples.")

    @field_validator("therapy_lines", "car_t", "labs")
    @classmethod
    def _sorted_by_date(cls, items: list[_Model]) -> list[_Model]:
        def key(item: _Model) -> dt.date:
            for name in ("start", "infusion_date", "date"):
                value = getattr(item, name, None)
                if isinstance(value, dt.date):
                    return value
            return dt.date.min

        return sorted(items, key=key)

    # ---- convenient, read-only views

    def series(self, analyte: Analyte) -> list[LabResult]:
        """All results for one analyte, oldest first."""
        return [lab for lab in self.labs if lab.analyte == analyte]

    def latest(self, analyte: Analyte, as_of: dt.date | None = None) -> LabResult | None:
        """Most recent result on or before ``as_of``."""
        candidates = [lab for lab in self.series(analyte) if as_of is None or lab.date <= as_of]
        return candidates[-1] if candidates else None

    def latest_ecog(self, as_of: dt.date | None = None) -> EcogAssessment | None:
        dated = [e for e in self.ecog if as_of is None or e.date is None or e.date <= as_of]
        if not dated:
            return None
        return max(dated, key=lambda e: e.date or dt.date.min)

    def last_car_t(self) -> CarTEpisode | None:
        return self.car_t[-1] if self.car_t else None

    def findings(self, abnormality: CytogeneticAbnormality) -> list[CytogeneticFinding]:
        return [f for f in self.cytogenetics if f.abnormality == abnormality]

    def has_abnormality(self, abnormality: CytogeneticAbnormality) -> bool | None:
        """True if ever detected, False if tested and absent, None if never tested."""
        found = self.findings(abnormality)
        if not found:
            return None
        return any(f.detected for f in found)

    def all_agents(self) -> set[str]:
        """Every agent the patient has received, CAR T products included."""
        agents = {a for line in self.therapy_lines for a in line.agents}
        agents |= {c.product for c in self.car_t}
        agents |= {a for c in self.car_t for a in c.bridging_agents}
        return agents


__all__ = [
    "CANONICAL_UNIT",
    "HIGH_RISK_ABNORMALITIES",
    "QUALITATIVE_ANALYTES",
    "RESPONSE_ANALYTES",
    "RESPONSE_ORDER",
    "SCHEMA_VERSION",
    "Analyte",
    "AntigenStatus",
    "CarTEpisode",
    "CytogeneticAbnormality",
    "CytogeneticFinding",
    "Demographics",
    "Diagnosis",
    "DiseaseSite",
    "DiseaseSiteKind",
    "EcogAssessment",
    "FactSource",
    "Goal",
    "HeavyChain",
    "Isotype",
    "LabResult",
    "LightChain",
    "PatientRecord",
    "Preferences",
    "Qualitative",
    "RadiationCourse",
    "ResponseCategory",
    "Sex",
    "SiteNotFound",
    "StopReason",
    "TherapyLine",
    "Transplant",
    "TransplantKind",
    "TrialInterest",
    "UnmappedItem",
]
