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
    CytogeneticAbnormality,
    CytogeneticFinding,
    Demographics,
    Diagnosis,
    EcogAssessment,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Preferences,
    ResponseCategory,
    Sex,
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
from myelonav.web.answers import DateFormatError, NumberField, PartialDate, read_date, read_number

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
}


def field_words(name: str) -> str:
    """A form field's name as a person would say it ("CAR T date", not "car_t_date")."""
    if name in NUMBER_FIELDS:
        return NUMBER_FIELDS[name].label
    return FIELD_WORDS.get(name) or name.replace("_", " ").capitalize()


@dataclass
class IntakeErrors:
    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        """Keep the first problem per field, led by the field's name in words."""
        words = field_words(name)
        if not message.startswith(words):
            message = f"{words}: {message}"
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

    def number(self, name: str) -> float | None:
        value = self.text(name)
        if not value:
            return None
        answer = read_number(value, NUMBER_FIELDS[name])
        if answer.message is not None:
            self.errors.add(name, answer.message)
            return None
        return answer.value


def _list(form: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if callable(getlist) else form.get(name, [])
    if isinstance(values, str):
        values = [values]
    return [v for v in values if isinstance(v, str)]


LINE_ROWS = 4

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
        ))
        if best is not None:
            said = "it worked at first" if response == "responded" else "it never worked"
            notes.append(UnmappedItem(
                path="intake.car_t_response",
                reason=f"told '{said}'; stored as {best.value}, the "
                       + ("least response that counts (partial response)"
                          if best is ResponseCategory.PR else "answer below partial response"),
                text=said))

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
            regimen="treatments named at intake (grouping into lines not given)",
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
    preferences = Preferences(max_travel_miles=travel, trial_interest=TrialInterest(interest))

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
            unmapped=notes,
        )
    except ValidationError as exc:
        err = first_error(exc, "intake")
        raise IntakeError(IntakeErrors({err.location or "intake": err.message})) from None


__all__ = [
    "CAR_T_PRODUCTS",
    "ECOG_PLAIN",
    "FIELD_WORDS",
    "LINE_OUTCOMES",
    "LINE_ROWS",
    "NUMBER_FIELDS",
    "PRIOR_CLASSES",
    "SHORT_NAMES",
    "UNKNOWN",
    "DrugChoice",
    "IntakeError",
    "IntakeErrors",
    "allowed_prior_drugs",
    "field_words",
    "prior_choices",
    "record_from_intake",
    "regimen_agents",
]
