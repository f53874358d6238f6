"""The guided intake: what a patient or caregiver knows, turned into a ``PatientRecord``.

Every question accepts "I don't know", which is stored as unknown (``None``, or the model's
``unknown`` value, or no finding at all), never as "no". Answers the record has no exact place
for are kept word for word in ``record.unmapped`` so nothing said is lost or invented:

* "it worked at first" is stored as best response PR (the least response that counts as a
  response) and "it never worked" as SD (below PR), each with a note saying so; this is what
  the relapse class needs (IMWG: primary refractory = never reached PR).
* Checked prior treatments become one undated regimen, because the intake does not ask how
  they were grouped; the number of lines before CAR T, if given, is kept in
  ``lines_before_car_t_reported`` so line counts (trial criteria) never fall below it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from myelonav.errors import InputError
from myelonav.patient.models import (
    Analyte,
    AntigenStatus,
    CarTEpisode,
    Comorbidities,
    CytogeneticAbnormality,
    CytogeneticFinding,
    Demographics,
    Diagnosis,
    DiseaseSite,
    DiseaseSiteKind,
    EcogAssessment,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Preferences,
    ResponseCategory,
    Sex,
    SiteNotFound,
    StopReason,
    TherapyLine,
    Transplant,
    TransplantKind,
    TrialInterest,
    UnmappedItem,
)
from myelonav.patient.profile_io import first_error
from myelonav.patient.units import PLAUSIBLE
from myelonav.patient.vocabulary import vocabulary
from myelonav.web.answers import (
    DateFormatError,
    NumberField,
    PartialDate,
    plain_number,
    read_date,
    read_number,
    shown_number,
)

UNKNOWN = "unknown"

# Drug classes offered as checkboxes, in the order a patient meets them.
PRIOR_CLASSES: tuple[tuple[str, str], ...] = (
    ("proteasome_inhibitor", "Proteasome inhibitors"),
    ("imid", "Immunomodulatory drugs (IMiDs)"),
    ("anti_cd38", "Anti-CD38 antibodies"),
    ("anti_slamf7", "Anti-SLAMF7 antibody"),
    ("bispecific", "Bispecific antibodies"),
    ("adc", "Antibody-drug conjugate"),
    ("xpo1_inhibitor", "XPO1 inhibitor"),
    ("bcl2_inhibitor", "BCL-2 inhibitor"),
    ("alkylator", "Alkylating chemotherapy"),
    ("anthracycline", "Anthracyclines"),
    ("platinum", "Platinum chemotherapy"),
    ("topoisomerase_inhibitor", "Topoisomerase inhibitor"),
    ("hdac_inhibitor", "HDAC inhibitor"),
    ("celmod", "CELMoDs (in trials)"),
    ("corticosteroid", "Steroids"),
)

CAR_T_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("idecabtagene vicleucel", "Abecma (ide-cel)"),
    ("ciltacabtagene autoleucel", "Carvykti (cilta-cel)"),
)

ECOG_PLAIN: tuple[tuple[str, str], ...] = (
    ("0", "I can do everything I did before I got sick."),
    ("1", "I can't do hard physical work, but I can walk and do light work like housework."),
    ("2", "I can look after myself but can't work. I am up and about more than half the day."),
    ("3", "I can only partly look after myself. I am in bed or a chair more than half the day."),
    ("4", "I can't look after myself at all. I am in bed or a chair all day."),
)


_PER_UL = (("a count per µL (the same as a count per mm³)", 0.001),)


def _lab(label: str, unit: str, analyte: Analyte,
         alternatives: tuple[tuple[str, float], ...] = ()) -> NumberField:
    low, high = PLAUSIBLE[analyte]
    return NumberField(label, unit, low, high, alternatives=alternatives)


# Each numeric question in words, its unit and plausible range; lab ranges are the record's
# plausibility ranges in the canonical unit, so the intake and importers agree.
NUMBER_FIELDS: dict[str, NumberField] = {
    "age": NumberField("Age", "years", 18, 110, decimal_comma=False, whole=True),
    "prior_lines": NumberField("Number of treatment plans before CAR T", "", 1, 30,
                               decimal_comma=False, whole=True),
    "platelets": _lab("Platelets", "× 10⁹/L", Analyte.platelets, _PER_UL),
    "anc": _lab("Neutrophils (ANC)", "× 10⁹/L", Analyte.anc, _PER_UL),
    "creatinine": _lab("Creatinine", "mg/dL", Analyte.creatinine,
                       (("a value in µmol/L", 1 / 88.42),)),
    "weight_kg": _lab("Weight", "kg", Analyte.body_weight, (("a weight in pounds", 0.45359237),)),
    "m_protein": _lab("M-protein (M-spike)", "g/dL", Analyte.serum_m_protein,
                      (("a value in g/L", 0.1),)),
    "kappa_flc": _lab("Kappa free light chains", "mg/L", Analyte.kappa_flc),
    "lambda_flc": _lab("Lambda free light chains", "mg/L", Analyte.lambda_flc),
    "igg": _lab("IgG", "mg/dL", Analyte.igg, (("a value in g/L", 100.0),)),
    "lvef_pct": NumberField("Heart pumping strength (LVEF)", "%", 5, 90),
    "travel_miles": NumberField("Travel distance", "miles", 0, 25000, decimal_comma=False),
}


@dataclass(frozen=True)
class DrugChoice:
    id: str
    label: str


def prior_choices() -> list[tuple[str, str, list[DrugChoice]]]:
    """(class id, heading, drugs) for the prior-treatment checkboxes; each drug appears once."""
    vocab = vocabulary()
    seen: set[str] = set()
    groups = []
    for cls, heading in PRIOR_CLASSES:
        drugs = []
        for d in sorted(vocab.with_class(cls), key=lambda d: d.id):
            if d.id in seen or d.kind == "cell_therapy":
                continue
            seen.add(d.id)
            brand = f" ({d.brands[0]})" if d.brands else ""
            drugs.append(DrugChoice(d.id, f"{d.id}{brand}"))
        if drugs:
            groups.append((cls, heading, drugs))
    return groups


def allowed_prior_drugs() -> frozenset[str]:
    return frozenset(d.id for _, _, drugs in prior_choices() for d in drugs)


# Free light chains are reported in mg/L or mg/dL (10 mg/L = 1 mg/dL); the person says which.
FLC_UNITS: tuple[tuple[str, str, float], ...] = (
    ("mg/L", "mg/L (milligrams per litre)", 1.0),
    ("mg/dL", "mg/dL (milligrams per decilitre)", 10.0),
)

# Worst grade of a CAR T side effect (ASTCT consensus grading, Lee et al., Biol Blood Marrow
# Transplant 2019;25:625-38, doi:10.1016/j.bbmt.2018.12.758, PMID 30592986), as a patient
# may have been told it.
CRS_GRADES: tuple[tuple[str, str], ...] = (
    ("1", "Grade 1 (fever only)"),
    ("2", "Grade 2 (fever with low blood pressure or needing some oxygen)"),
    ("3", "Grade 3 (needed a drug to raise blood pressure, or a lot of oxygen)"),
    ("4", "Grade 4 (needed several such drugs, or a breathing machine)"),
)
ICANS_GRADES: tuple[tuple[str, str], ...] = (
    ("1", "Grade 1 (mild confusion or trouble with words)"),
    ("2", "Grade 2 (more confused, but easy to wake)"),
    ("3", "Grade 3 (hard to wake, a seizure that stopped quickly, or brain swelling seen)"),
    ("4", "Grade 4 (could not be woken, long seizures, or severe brain swelling)"),
)

# Numbness and tingling in the patient's words (CTCAE v5 peripheral sensory neuropathy grades
# 0-3; grade 4, life-threatening, is not something a person reports at home).
NEUROPATHY_PLAIN: tuple[tuple[str, str], ...] = (
    ("0", "No numbness or tingling"),
    ("1", "Numbness or tingling, but it does not get in my way"),
    ("2", "It gets in the way of things like buttons, writing or cooking"),
    ("3", "It stops me looking after myself (washing, dressing)"),
)

# The record's comorbidities asked as yes / no / I don't know: (field, name in words, question)
COMORBIDITY_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("heart_failure", "Heart failure",
     "Have you been told you have heart failure (a weak heart)?"),
    ("eye_disease", "Eye surface problems",
     "Do you have a problem with the front of your eyes (the cornea), such as severe dry "
     "eye or keratitis?"),
    ("active_infection", "Infection now",
     "Do you have an infection right now that is being treated?"),
    ("movement_disorder_after_car_t", "Movement problems after CAR T",
     "Since CAR T, have you had new problems with movement: shaking, stiffness, slow "
     "movements, or smaller handwriting?"),
    ("secondary_malignancy", "Another cancer",
     "Have you ever had another kind of cancer (not myeloma)?"),
    ("transfusion_dependent", "Regular transfusions",
     "Do you need regular blood or platelet transfusions?"),
)

# Multi-valued form fields (checkbox groups); every other field has one value.
LIST_FIELDS = frozenset({"prior", "transplant"})
CONFIRM_PREFIX = "confirm_"


FIELD_WORDS: dict[str, str] = {
    "birth_date": "Date of birth",
    "sex": "Sex",
    "zip": "ZIP code",
    "heavy_chain": "Type of myeloma",
    "light_chain": "Light chain",
    "diagnosis_date": "Diagnosis date",
    "car_t_product": "CAR T product",
    "car_t_other": "Other CAR T product",
    "car_t_date": "CAR T date",
    "car_t_response": "How CAR T went",
    "progression_date": "Date the myeloma came back",
    "bcma": "BCMA test after relapse",
    "t11_14": "t(11;14)",
    "del17p": "del(17p)",
    "prior": "Earlier treatments",
    "lab_date": "Date of the lab results",
    "ecog": "Daily activity",
    "trial_interest": "Clinical trials",
    "m_protein_not_detected": "M-protein (M-spike)",
    "flc_unit": "Unit of the free light chains",
    "crs": "CRS after CAR T",
    "crs_grade": "Worst CRS grade",
    "icans": "ICANS after CAR T",
    "icans_grade": "Worst ICANS grade",
    "emd": "Myeloma outside the bones",
    "emd_where": "Where the myeloma outside the bones is",
    "cns": "Myeloma in the brain or spinal fluid",
    "stem_cell_donor": "Stem cell donor",
    "neuropathy_grade": "Numbness or tingling (neuropathy)",
    "infection_detail": "What the infection is",
    **{name: words for name, words, _ in COMORBIDITY_QUESTIONS},
}


_ROW_PARTS = {"regimen": "name", "start": "start date", "end": "end date",
              "outcome": "how it ended"}


def field_words(name: str) -> str:
    """A form field's name as a person would say it ("CAR T date", not "car_t_date")."""
    if name in NUMBER_FIELDS:
        return NUMBER_FIELDS[name].label
    row, _, part = name.partition("_")
    if row.startswith("line") and row[4:].isdigit() and part in _ROW_PARTS:
        return f"Treatment {row[4:]} {_ROW_PARTS[part]}"
    return FIELD_WORDS.get(name) or name.replace("_", " ").capitalize()


@dataclass
class IntakeErrors:
    by_field: dict[str, str] = field(default_factory=dict)
    # for an ambiguous or implausible number: what the person may have meant, as
    # (the answer a one-click confirm sends, the words on its button)
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, name: str, message: str, choices: Sequence[tuple[str, str]] = ()) -> None:
        """Keep the first problem per field, led by the field's name in words."""
        words = field_words(name)
        if not message.startswith(words):
            message = f"{words}: {message}"
        if name not in self.by_field and choices:
            self.choices[name] = list(choices)
        self.by_field.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


class IntakeError(InputError):
    """One or more intake answers are not usable; ``errors`` maps field → message."""

    def __init__(self, errors: IntakeErrors) -> None:
        self.errors = errors
        name, message = next(iter(errors.by_field.items()))
        super().__init__(message, location=name)


class _Reader:
    def __init__(self, form: Mapping[str, Any], today: dt.date) -> None:
        self.form = form
        self.today = today
        self.errors = IntakeErrors()
        self.notes: list[UnmappedItem] = []
        self.given: dict[str, PartialDate] = {}

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def choice(self, name: str, allowed: Sequence[str]) -> str:
        value = self.text(name) or UNKNOWN
        if value != UNKNOWN and value not in allowed:
            self.errors.add(name, f"choose one of the listed answers (got {value[:30]!r})")
            return UNKNOWN
        return value

    def partial(self, name: str, *, not_future: bool = True) -> PartialDate | None:
        """A full, month-only or approximate date; a vague one gets a note keeping its words."""
        value = self.text(name)
        if not value:
            return None
        try:
            when = read_date(value, today=self.today)
        except DateFormatError:
            self.errors.add(name, "enter a date such as 2024-03-15, 2024-03 or March 2024 "
                            "(\"about 2023\" is fine too), or leave it empty if you don't know")
            return None
        if when.date.year < 1900:
            self.errors.add(name, "this date is too early")
            return None
        if not_future and when.earliest > self.today:
            self.errors.add(name, "this date is in the future")
            return None
        self.given[name] = when
        if not when.exact:
            self.notes.append(UnmappedItem(
                path=f"intake.{name}",
                reason=f"{field_words(name)} given as '{when.text}': {when.describe()}",
                text=when.text))
        return when

    def date(self, name: str, *, not_future: bool = True) -> dt.date | None:
        when = self.partial(name, not_future=not_future)
        return when.date if when is not None else None

    def number(self, name: str, spec: NumberField | None = None) -> float | None:
        value = self.text(name)
        if not value:
            return None
        spec = spec or NUMBER_FIELDS[name]
        answer = read_number(value, spec)
        if answer.message is not None:
            self.errors.add(name, answer.message, confirm_buttons(answer.choices, spec))
            return None
        return answer.value

    def yes_no(self, name: str) -> bool | None:
        """Yes → True, no → False, "I don't know" or no answer → None (never False)."""
        answer = self.choice(name, ["yes", "no"])
        return None if answer == UNKNOWN else answer == "yes"

    def words(self, name: str, limit: int) -> str:
        value = self.text(name)
        if len(value) > limit:
            self.errors.add(name, f"keep this under {limit} characters")
            return ""
        return value


def confirm_buttons(choices: Sequence[float], spec: NumberField) -> list[tuple[str, str]]:
    """One-click answers for a number the reader asked about: "Yes, 1.4 mg/dL is right" when
    there is one likely meaning, "I meant 1,400 mg/dL" for each of several."""
    unit = f" {spec.unit}" if spec.unit else ""
    if len(choices) == 1:
        return [(plain_number(choices[0]), f"Yes, {shown_number(choices[0])}{unit} is right")]
    return [(plain_number(v), f"I meant {shown_number(v)}{unit}") for v in choices]


def form_answers(form: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted form as plain values (lists for checkbox groups) with any one-click
    confirmation applied: ``confirm_creatinine=1.4`` replaces the creatinine answer, so the
    person never retypes anything."""
    getlist = getattr(form, "getlist", None)
    values: dict[str, Any] = {}
    for key in form:
        raw = getlist(key) if callable(getlist) else form[key]
        items = [v for v in (raw if isinstance(raw, list) else [raw]) if isinstance(v, str)]
        values[key] = items if key in LIST_FIELDS else (items[-1] if items else "")
    for key in [k for k in values if k.startswith(CONFIRM_PREFIX)]:
        name = key.removeprefix(CONFIRM_PREFIX)
        confirmed = values.pop(key)
        if name in NUMBER_FIELDS and isinstance(confirmed, str) and confirmed.strip():
            values[name] = confirmed.strip()
    return values


def _list(form: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if callable(getlist) else form.get(name, [])
    if isinstance(values, str):
        values = [values]
    return [v for v in values if isinstance(v, str)]


LINE_ROWS = 4
# the one undated line that holds the ticked medicines
PRIOR_REGIMEN = "treatments named at intake (grouping into lines not given)"

# "How did it end?" for one treatment, in the patient's words, and what the record stores
LINE_OUTCOMES: tuple[tuple[str, str, StopReason], ...] = (
    ("stopped_working", "It stopped working (the myeloma grew)", StopReason.progression),
    ("side_effects", "It was stopped because of side effects", StopReason.toxicity),
    ("still_on", "I am still on it", StopReason.ongoing),
    ("finished", "The planned course was finished", StopReason.completed),
)

# Short names clinics say aloud ("Dara-Rd", "Tec-Dara", "dara pom dex"); each maps to a
# vocabulary id (checked by a test) and is used only after the full text and regimen
# acronyms have been tried.
SHORT_NAMES: dict[str, str] = {
    "dara": "daratumumab",
    "isa": "isatuximab",
    "elo": "elotuzumab",
    "tec": "teclistamab",
    "tal": "talquetamab",
    "elra": "elranatamab",
    "linvo": "linvoseltamab",
    "len": "lenalidomide",
    "lena": "lenalidomide",
    "rev": "lenalidomide",
    "pom": "pomalidomide",
    "poma": "pomalidomide",
    "bort": "bortezomib",
    "carfil": "carfilzomib",
    "dex": "dexamethasone",
    "pred": "prednisone",
    "cy": "cyclophosphamide",
    "cytoxan": "cyclophosphamide",
    "mel": "melphalan",
    "sel": "selinexor",
    "ven": "venetoclax",
    "belamaf": "belantamab mafodotin",
    "blenrep": "belantamab mafodotin",
}

_PART_SEPARATORS = ("+", ",", "/", ";", "&", " and ", " with ", " plus ")


def _one_name(name: str) -> tuple[str, ...] | None:
    vocab = vocabulary()
    expanded = vocab.expand_regimen(name)
    if expanded is not None:
        return expanded
    drug = vocab.resolve(name) or vocab.resolve(SHORT_NAMES.get(name.strip().lower(), ""))
    return (drug.id,) if drug is not None else None


def regimen_agents(text: str) -> tuple[list[str], list[str]]:
    """Drugs a treatment as written stands for ("VRd", "Dara-Rd", "dara + pom + dex"), and
    the parts that were not understood (shown back to the person, never dropped)."""
    parts = [text.lower()]
    for sep in _PART_SEPARATORS:
        parts = [piece for part in parts for piece in part.split(sep)]
    agents: list[str] = []
    unknown: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        found = _one_name(part)
        if found is None:  # "Dara-Rd", "tec dara": each piece a drug or an acronym
            pieces = [_one_name(piece) for piece in part.replace("-", " ").split()]
            if pieces and all(p is not None for p in pieces):
                found = tuple(a for p in pieces if p is not None for a in p)
        if found is None:
            unknown.append(part)
            continue
        agents.extend(a for a in found if a not in agents)
    if not agents and not unknown and any(c.isalnum() for c in text):
        unknown.append(text.strip())  # only joining words ("and", "with"): nothing named
    return agents, unknown


def _treatment_rows(r: _Reader, infusion: dt.date | None) -> list[TherapyLine]:
    """One line per filled treatment row: drugs, dates (any precision) and how it ended."""
    vocab = vocabulary()
    outcomes = {key: reason for key, _, reason in LINE_OUTCOMES}
    lines: list[TherapyLine] = []
    for i in range(1, LINE_ROWS + 1):
        key = f"line{i}"
        text = r.text(f"{key}_regimen")
        start = r.partial(f"{key}_start")
        end = r.partial(f"{key}_end")
        outcome = r.choice(f"{key}_outcome", list(outcomes))
        if not text:
            if start or end or outcome != UNKNOWN:
                r.errors.add(f"{key}_regimen", "name the treatment (for example VRd, or "
                             "dara + pom + dex), or clear this row")
            continue
        agents, unknown = regimen_agents(text)
        if not agents and not unknown:  # only separators ("+", ",")
            unknown = [text]
        if unknown:
            r.errors.add(f"{key}_regimen", f"we don't know {unknown[0][:40]!r}; check the "
                         "spelling, write the drug names, or tick the medicines above")
            continue
        if any((d := vocab.resolve(a)) is not None and d.kind == "cell_therapy"
               for a in agents):
            r.errors.add(f"{key}_regimen", "enter CAR T in the CAR T section above")
            continue
        if outcome == "still_on" and end is not None:
            r.errors.add(f"{key}_end", "you said you are still on it; leave the end date "
                         "empty, or choose how it ended")
            continue
        start_day = start.date if start else None
        end_day = end.date if end else None
        if start and end and end.date < start.date:
            if end.latest < start.earliest:
                r.errors.add(f"{key}_end", "this date is before the start date")
                continue
            end_day = start.date  # vague dates that may be in order
        lines.append(TherapyLine(
            agents=agents,
            start=start_day,
            end=end_day,
            stop_reason=outcomes.get(outcome, StopReason.unknown),
            regimen=text,
            after_car_t=bool(start and infusion and start.earliest > infusion),
        ))
    return lines


def _side_effect_grade(r: _Reader, name: str, label: str,
                       grades: Sequence[tuple[str, str]]) -> int | None:
    """The worst grade of CRS or ICANS after CAR T: "no" is grade 0, "yes" with a grade is
    that grade, "yes" without one (or "I don't know") stays unknown, with a note for "yes"."""
    answer = r.choice(name, ["yes", "no"])
    grade = r.choice(f"{name}_grade", [g for g, _ in grades])
    if answer == "no" and grade != UNKNOWN:
        r.errors.add(f"{name}_grade", f"you said there was no {label}; choose \"I don't "
                     f"know\" here, or change the answer above")
        return None
    if answer == "no":
        return 0
    if grade != UNKNOWN:
        return int(grade)
    if answer == "yes":
        r.notes.append(UnmappedItem(path=f"intake.{name}", reason=f"{label} after CAR T; "
                                    "worst grade not known", text="yes"))
    return None


def _m_protein(r: _Reader) -> float | None:
    """The serum M-protein; "not detected" is a measurement of 0 (IMWG 2016, Kumar et al.,
    Lancet Oncol 2016;17:e328-46), not a missing one."""
    value = r.number("m_protein")
    if r.text("m_protein_not_detected") not in ("", "on"):
        r.errors.add("m_protein_not_detected", "tick the box or leave it empty")
    elif r.text("m_protein_not_detected") == "on":
        if r.text("m_protein"):
            r.errors.add("m_protein", "you ticked \"not detected\" and gave a number; keep "
                         "the one your report shows")
            return None
        return 0.0
    return value


def _light_chains(r: _Reader) -> dict[Analyte, float | None]:
    """Kappa and lambda free light chains in mg/L, read in the unit the person chose."""
    units = {code: factor for code, _, factor in FLC_UNITS}
    unit = r.choice("flc_unit", list(units))
    out: dict[Analyte, float | None] = {}
    for name, analyte in (("kappa_flc", Analyte.kappa_flc), ("lambda_flc", Analyte.lambda_flc)):
        if not r.text(name):
            out[analyte] = None
            continue
        if unit == UNKNOWN:
            r.errors.add("flc_unit", "choose the unit printed next to the light chain numbers "
                         "on your report (mg/L or mg/dL); 10 mg/L is 1 mg/dL")
            out[analyte] = None
            continue
        base = NUMBER_FIELDS[name]
        factor = units[unit]
        spec = NumberField(base.label, unit, base.low / factor, base.high / factor)
        value = r.number(name, spec)
        out[analyte] = round(value * factor, 6) if value is not None else None
    return out


def _comorbidities(r: _Reader) -> Comorbidities:
    """Each condition as told: yes, no, or unknown ("I don't know" is never "no")."""
    told: dict[str, Any] = {name: r.yes_no(name) for name, _, _ in COMORBIDITY_QUESTIONS}
    lvef = r.number("lvef_pct")
    neuropathy = r.choice("neuropathy_grade", [g for g, _ in NEUROPATHY_PLAIN])
    detail = r.words("infection_detail", 500)
    if detail and told["active_infection"] is not True:
        r.errors.add("infection_detail", "choose \"Yes\" above if you have an infection now, "
                     "or clear this box")
    answered = (any(v is not None for v in told.values()) or lvef is not None
                or neuropathy != UNKNOWN)
    return Comorbidities(
        recorded_on=r.today if answered else None,
        lvef_pct=lvef,
        peripheral_neuropathy_grade=int(neuropathy) if neuropathy != UNKNOWN else None,
        infection_detail=detail or None,
        **told,
    )


# Sites of disease asked as yes / no / I don't know: (field, kind, question). "No" is kept as
# "looked for and not found" (``record.sites_not_found``), "I don't know" as nothing, so the
# clinical picture reads an unanswered question as unknown, never as "no".
SITE_QUESTIONS: tuple[tuple[str, DiseaseSiteKind, str], ...] = (
    ("emd", DiseaseSiteKind.extramedullary_plasmacytoma,
     "Is there myeloma outside the bones (extramedullary disease)?"),
    ("cns", DiseaseSiteKind.cns,
     "Has myeloma been found in the brain or in the fluid around the spine?"),
)

# Has a stem cell donor been found: (value stored in preferences.stem_cell_donor, words);
# the form's own "I don't know" stands for the third value, "unknown".
DONOR_CHOICES: tuple[tuple[str, str], ...] = (
    ("found", "Yes"),
    ("none_found", "They looked and found none"),
)
DONOR_UNKNOWN_WORDS = "No search yet, or I don't know"


def _sites(r: _Reader) -> tuple[list[DiseaseSite], list[SiteNotFound]]:
    """Each site as told: an active site on "yes", looked for and not found on "no"."""
    found: list[DiseaseSite] = []
    absent: list[SiteNotFound] = []
    where = r.words("emd_where", 200)
    for name, kind, _ in SITE_QUESTIONS:
        answer = r.choice(name, ["yes", "no"])
        if answer == "yes":
            location = where if name == "emd" else ""
            found.append(DiseaseSite(kind=kind, location=location or None, active=True))
        elif answer == "no":
            absent.append(SiteNotFound(kind=kind, date=r.today))
    if where and r.text("emd") != "yes":
        r.errors.add("emd_where", "choose \"Yes\" above if there is myeloma outside the bones, "
                     "or clear this box")
    return found, absent


def record_from_intake(form: Mapping[str, Any], *, today: dt.date | None = None) -> PatientRecord:
    """Build a record from intake answers; raises ``IntakeError`` naming every bad field."""
    r = _Reader(form, today or dt.date.today())
    notes = r.notes

    age = r.number("age")
    birth_date = r.date("birth_date")
    sex = r.choice("sex", [s.value for s in Sex])
    zip_code = r.text("zip")
    if zip_code and not (len(zip_code) == 5 and zip_code.isdigit()):
        r.errors.add("zip", "enter a 5-digit US ZIP code, or leave it empty")
        zip_code = ""
    demographics = Demographics(
        birth_date=birth_date,
        age_years=int(age) if age is not None and birth_date is None else None,
        age_recorded_on=r.today if age is not None and birth_date is None else None,
        sex=Sex(sex),
        postal_code=zip_code or None,
        country="US" if zip_code else None,
    )

    heavy = r.choice("heavy_chain", [h.value for h in HeavyChain] + ["light_chain_only",
                                                                      "non_secretory"])
    light = r.choice("light_chain", [lc.value for lc in LightChain])
    isotype = Isotype(
        heavy_chain=HeavyChain(heavy) if heavy in HeavyChain.__members__ else None,
        light_chain=LightChain(light) if light != UNKNOWN else None,
        non_secretory=heavy == "non_secretory",
    )
    if heavy == "light_chain_only" and light == UNKNOWN:
        notes.append(UnmappedItem(path="intake.heavy_chain", reason="light-chain only myeloma; "
                                  "light chain type not known", text="light chain only"))
    diagnosis = Diagnosis(date=r.date("diagnosis_date"), isotype=isotype)

    car_t: list[CarTEpisode] = []
    product = r.choice("car_t_product", [p for p, _ in CAR_T_PRODUCTS] + ["other"])
    if product == "other":
        other = r.text("car_t_other")
        drug = vocabulary().resolve(other) if other else None
        if drug is None or "car_t" not in drug.classes:
            r.errors.add("car_t_other", "we don't know this CAR T product; check the name "
                         "or choose 'I don't know'")
            product = UNKNOWN
        else:
            product = drug.id
    infusion = r.date("car_t_date")
    response = r.choice("car_t_response", ["responded", "never_responded"])
    progression = r.date("progression_date")
    bcma = r.choice("bcma", [a.value for a in AntigenStatus])
    if product != UNKNOWN and infusion is None:
        r.errors.add("car_t_date", "enter the CAR T infusion date (the month is shown on your "
                     "discharge papers); options after CAR T depend on it")
    if progression is not None and infusion is not None and progression < infusion:
        if r.given["progression_date"].latest < r.given["car_t_date"].earliest:
            r.errors.add("progression_date", "this date is before the CAR T infusion")
        else:  # vague dates that may be in order: never before the infusion
            progression = infusion
    if product == UNKNOWN and infusion is not None:
        notes.append(UnmappedItem(path="intake.car_t", reason="CAR T date given but product "
                                  "not known", text=infusion.isoformat()))
    crs_grade = _side_effect_grade(r, "crs", "CRS", CRS_GRADES)
    icans_grade = _side_effect_grade(r, "icans", "ICANS", ICANS_GRADES)
    if product != UNKNOWN and infusion is not None and not r.errors:
        best = {"responded": ResponseCategory.PR,
                "never_responded": ResponseCategory.SD}.get(response)
        drug = vocabulary().resolve(product)
        car_t.append(CarTEpisode(
            product=product,
            target_antigen=drug.target if drug else None,
            infusion_date=infusion,
            best_response=best,
            progression_date=progression,
            antigen_status_at_relapse=AntigenStatus(bcma) if bcma != UNKNOWN else None,
            investigational=bool(drug and drug.investigational),
            crs_max_grade=crs_grade,
            icans_max_grade=icans_grade,
        ))
        if best is not None:
            said = "it worked at first" if response == "responded" else "it never worked"
            notes.append(UnmappedItem(
                path="intake.car_t_response",
                reason=f"told '{said}'; stored as {best.value}, the "
                       + ("least response that counts (partial response)"
                          if best is ResponseCategory.PR else "answer below partial response"),
                text=said))

    if not car_t:  # side effects told without a CAR T to attach them to: kept as notes
        for name, grade, label in (("crs", crs_grade, "CRS"), ("icans", icans_grade, "ICANS")):
            answer = r.text(name)
            if answer in ("yes", "no") and not any(n.path == f"intake.{name}" for n in notes):
                notes.append(UnmappedItem(
                    path=f"intake.{name}", text=answer,
                    reason=f"{label} after CAR T told as '{answer}'; the CAR T product or "
                           "date is not known"))
            if grade:
                notes.append(UnmappedItem(
                    path=f"intake.{name}_grade", text=str(grade),
                    reason=f"worst {label} grade {grade} told; the CAR T product or date is "
                           "not known"))

    cytogenetics: list[CytogeneticFinding] = []
    for name, abnormality in (("t11_14", CytogeneticAbnormality.t_11_14),
                              ("del17p", CytogeneticAbnormality.del_17p)):
        answer = r.choice(name, ["yes", "no"])
        if answer != UNKNOWN:
            cytogenetics.append(CytogeneticFinding(abnormality=abnormality,
                                                   detected=answer == "yes"))

    allowed = allowed_prior_drugs()
    prior = sorted(set(_list(form, "prior")))
    bad = [p for p in prior if p not in allowed]
    if bad:
        r.errors.add("prior", f"unknown treatment {bad[0][:40]!r}")
    lines = _treatment_rows(r, infusion)
    in_rows = {agent for line in lines for agent in line.agents}
    prior = [p for p in prior if p not in in_rows]
    if prior and not bad:
        lines.append(TherapyLine(
            agents=prior,
            regimen=PRIOR_REGIMEN,
        ))
    prior_lines = r.number("prior_lines")
    transplants = [Transplant(kind=TransplantKind(k))
                   for k in sorted(set(_list(form, "transplant")))
                   if k in TransplantKind.__members__]

    labs: list[LabResult] = []
    lab_date = r.date("lab_date")
    lab_values = {
        Analyte.platelets: r.number("platelets"),
        Analyte.anc: r.number("anc"),
        Analyte.creatinine: r.number("creatinine"),
        Analyte.body_weight: r.number("weight_kg"),
        Analyte.serum_m_protein: _m_protein(r),
        Analyte.igg: r.number("igg"),
        **_light_chains(r),
    }
    if any(v is not None for v in lab_values.values()) and lab_date is None:
        r.errors.add("lab_date", "enter the date of these results (old results can mislead)")
    elif lab_date is not None:
        labs = [LabResult(analyte=a, date=lab_date, value=v)
                for a, v in lab_values.items() if v is not None]

    ecog_answer = r.choice("ecog", [k for k, _ in ECOG_PLAIN])
    ecog = ([EcogAssessment(date=r.today, score=int(ecog_answer))]
            if ecog_answer != UNKNOWN else [])

    travel = r.number("travel_miles")
    interest = r.choice("trial_interest", [t.value for t in TrialInterest])
    donor = r.choice("stem_cell_donor", [v for v, _ in DONOR_CHOICES])
    preferences = Preferences(max_travel_miles=travel, trial_interest=TrialInterest(interest),
                              stem_cell_donor=donor)

    comorbidities = _comorbidities(r)
    disease_sites, sites_not_found = _sites(r)

    if r.errors:
        raise IntakeError(r.errors)
    try:
        return PatientRecord(
            id=f"intake-{secrets.token_hex(6)}",
            demographics=demographics,
            diagnosis=diagnosis,
            cytogenetics=cytogenetics,
            therapy_lines=lines,
            lines_before_car_t_reported=int(prior_lines) if prior_lines is not None else None,
            car_t=car_t,
            transplants=transplants,
            labs=labs,
            ecog=ecog,
            preferences=preferences,
            comorbidities=comorbidities,
            disease_sites=disease_sites,
            sites_not_found=sites_not_found,
            unmapped=notes,
        )
    except ValidationError as exc:
        err = first_error(exc, "intake")
        raise IntakeError(IntakeErrors({err.location or "intake": err.message})) from None


# ---- the other direction: a saved record as intake answers (for "edit my answers")

_INTAKE_LABS: dict[Analyte, str] = {
    Analyte.platelets: "platelets",
    Analyte.anc: "anc",
    Analyte.creatinine: "creatinine",
    Analyte.body_weight: "weight_kg",
    Analyte.serum_m_protein: "m_protein",
    Analyte.igg: "igg",
    Analyte.kappa_flc: "kappa_flc",
    Analyte.lambda_flc: "lambda_flc",
}


def _tri(value: bool | None) -> str:
    return UNKNOWN if value is None else ("yes" if value else "no")


def intake_values(record: PatientRecord) -> dict[str, Any]:
    """The intake form's answers for ``record``: the inverse of ``record_from_intake`` (a
    record built from these answers says the same), so editing shows every question,
    including dates as the person wrote them ("March 2024")."""
    said = {n.path.removeprefix("intake."): n.text for n in record.unmapped
            if n.path.startswith("intake.") and n.text}

    def day(name: str, value: dt.date | None) -> str:
        if value is None:
            return ""
        return said.get(name) or value.isoformat()

    v: dict[str, Any] = {}
    demo = record.demographics
    v["birth_date"] = day("birth_date", demo.birth_date)
    v["age"] = str(demo.age_years) if demo.age_years is not None and not demo.birth_date else ""
    v["sex"] = demo.sex.value
    v["zip"] = demo.postal_code or ""
    iso = record.diagnosis.isotype
    v["heavy_chain"] = (
        "non_secretory" if iso.non_secretory
        else iso.heavy_chain.value if iso.heavy_chain is not None
        else "light_chain_only" if iso.light_chain is not None or "heavy_chain" in said
        else UNKNOWN
    )
    v["light_chain"] = iso.light_chain.value if iso.light_chain is not None else UNKNOWN
    v["diagnosis_date"] = day("diagnosis_date", record.diagnosis.date)
    for name, abnormality in (("t11_14", CytogeneticAbnormality.t_11_14),
                              ("del17p", CytogeneticAbnormality.del_17p)):
        v[name] = _tri(record.has_abnormality(abnormality))

    episode = record.last_car_t()
    if episode is None:  # answers kept as notes until the CAR T is known
        v["car_t_date"] = said.get("car_t_date") or said.get("car_t", "")
        for name in ("crs", "icans"):
            v[name] = said.get(name, UNKNOWN)
            v[f"{name}_grade"] = said.get(f"{name}_grade", UNKNOWN)
    else:
        known = {p for p, _ in CAR_T_PRODUCTS}
        v["car_t_product"] = episode.product if episode.product in known else "other"
        v["car_t_other"] = "" if episode.product in known else episode.product
        v["car_t_date"] = day("car_t_date", episode.infusion_date)
        best = episode.best_response
        v["car_t_response"] = (
            UNKNOWN if best is None
            else "never_responded" if best in (ResponseCategory.SD, ResponseCategory.PD)
            else "responded"
        )
        v["progression_date"] = day("progression_date", episode.progression_date)
        status = episode.antigen_status_at_relapse
        v["bcma"] = status.value if status is not None else UNKNOWN
        for name, grade in (("crs", episode.crs_max_grade), ("icans", episode.icans_max_grade)):
            v[name] = ("no" if grade == 0 else "yes" if grade is not None or name in said
                       else UNKNOWN)
            v[f"{name}_grade"] = str(grade) if grade else UNKNOWN

    outcomes = {reason: key for key, _, reason in LINE_OUTCOMES}
    rows = [line for line in record.therapy_lines if line.regimen != PRIOR_REGIMEN]
    v["prior"] = sorted({a for line in record.therapy_lines if line.regimen == PRIOR_REGIMEN
                         for a in line.agents})
    for i, line in enumerate(rows[:LINE_ROWS], start=1):
        key = f"line{i}"
        as_written = line.regimen or ""
        understood = bool(as_written) and not regimen_agents(as_written)[1]
        v[f"{key}_regimen"] = as_written if understood else " + ".join(line.agents)
        v[f"{key}_start"] = day(f"{key}_start", line.start)
        v[f"{key}_end"] = day(f"{key}_end", line.end)
        v[f"{key}_outcome"] = outcomes.get(line.stop_reason, UNKNOWN)
    for line in rows[LINE_ROWS:]:  # more rows than the form has: ticked, never dropped
        v["prior"] = sorted(set(v["prior"]) | set(line.agents))
    reported = record.lines_before_car_t_reported
    v["prior_lines"] = str(reported) if reported is not None else ""
    v["transplant"] = sorted({t.kind.value for t in record.transplants})

    dated = [lab for lab in record.labs if lab.analyte in _INTAKE_LABS and lab.value is not None]
    if dated:
        when = max(lab.date for lab in dated)
        v["lab_date"] = day("lab_date", when)
        for lab in dated:
            if lab.date == when and lab.value is not None:
                v[_INTAKE_LABS[lab.analyte]] = plain_number(lab.value)
        if v.get("m_protein") == "0":
            v["m_protein"], v["m_protein_not_detected"] = "", "on"
        if "kappa_flc" in v or "lambda_flc" in v:
            v["flc_unit"] = "mg/L"

    ecog = record.latest_ecog()
    v["ecog"] = str(ecog.score) if ecog is not None and ecog.score <= 4 else UNKNOWN
    prefs = record.preferences
    v["travel_miles"] = (plain_number(prefs.max_travel_miles)
                         if prefs.max_travel_miles is not None else "")
    v["trial_interest"] = prefs.trial_interest.value

    v["stem_cell_donor"] = prefs.stem_cell_donor
    for name, kind, _ in SITE_QUESTIONS:
        here = [s for s in record.disease_sites if s.kind is kind and s.active is True]
        none = any(c.kind is kind for c in record.sites_not_found)
        v[name] = "yes" if here else "no" if none else UNKNOWN
        if name == "emd":
            v["emd_where"] = ", ".join(s.location for s in here if s.location)
    com = record.comorbidities
    for name, _, _ in COMORBIDITY_QUESTIONS:
        v[name] = _tri(getattr(com, name))
    v["lvef_pct"] = plain_number(com.lvef_pct) if com.lvef_pct is not None else ""
    grade = com.peripheral_neuropathy_grade
    v["neuropathy_grade"] = str(grade) if grade is not None and grade <= 3 else UNKNOWN
    v["infection_detail"] = com.infection_detail or ""
    if not v.get("lab_date") and "lab_date" in said:  # a date given without any value
        v["lab_date"] = said["lab_date"]
    return v


__all__ = [
    "CAR_T_PRODUCTS",
    "COMORBIDITY_QUESTIONS",
    "CONFIRM_PREFIX",
    "CRS_GRADES",
    "DONOR_CHOICES",
    "DONOR_UNKNOWN_WORDS",
    "ECOG_PLAIN",
    "FIELD_WORDS",
    "FLC_UNITS",
    "ICANS_GRADES",
    "LINE_OUTCOMES",
    "LINE_ROWS",
    "LIST_FIELDS",
    "NEUROPATHY_PLAIN",
    "NUMBER_FIELDS",
    "PRIOR_CLASSES",
    "SHORT_NAMES",
    "SITE_QUESTIONS",
    "UNKNOWN",
    "DrugChoice",
    "IntakeError",
    "IntakeErrors",
    "allowed_prior_drugs",
    "confirm_buttons",
    "field_words",
    "form_answers",
    "intake_values",
    "prior_choices",
    "record_from_intake",
    "regimen_agents",
]
