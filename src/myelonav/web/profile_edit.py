"""Profiles that last: edit the intake answers in place, add labs over time, move devices.

Editing reuses the intake itself: the answers a profile was made from are stored as the
form sent them (every field, whatever the intake asks today), the form is reopened with
them, and the edited answers go through ``record_from_intake`` again. So a question added
to the intake is editable without any change here. What the intake does not own is kept
from the saved record: labs added later, and preferences set elsewhere (care-team phones).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from myelonav.errors import ImportError_, InputError, MyelonavError
from myelonav.patient.models import CANONICAL_UNIT, Analyte, LabResult, PatientRecord
from myelonav.patient.profile_io import record_from_data
from myelonav.patient.summary import _LAB_LABELS
from myelonav.patient.units import _FACTORS, PLAUSIBLE, fold_unit
from myelonav.store.profiles import SOURCES, Change, HistoryEntry, SavedProfile
from myelonav.web.answers import DateFormatError, NumberField, read_date, read_number
from myelonav.web.intake import NUMBER_FIELDS, IntakeError, field_words, record_from_intake

EXPORT_FORMAT = "myelonav-profile-export"
# a one-click confirmation on the intake ("confirm_creatinine=1.4") replaces that answer
CONFIRM_PREFIX = "confirm_"
NOT_ANSWERS = frozenset({"csrf_token"})
MAX_ANSWER_KEYS = 400
MAX_ANSWER_CHARS = 2000
# answers that mean "not given": an empty box, or "I don't know" on a radio group
_EMPTY = ("", "unknown")

Answers = dict[str, list[str]]


def answers_from_form(form: Any) -> Answers:
    """Every field the intake form sent, each as its list of values (checkbox groups have
    several); bounded so a hostile form cannot grow the store. A plain mapping (values or
    lists of values, as ``intake.form_answers`` gives) is read the same way."""
    answers: Answers = {}
    for key in list(form.keys())[:MAX_ANSWER_KEYS]:
        if key in NOT_ANSWERS:
            continue
        getlist = getattr(form, "getlist", None)
        raw = getlist(key) if callable(getlist) else form[key]
        items = raw if isinstance(raw, list) else [raw]
        values = [v[:MAX_ANSWER_CHARS] for v in items if isinstance(v, str)]
        answers[str(key)[:100]] = values
    for key in [k for k in answers if k.startswith(CONFIRM_PREFIX)]:
        confirmed = [v.strip() for v in answers.pop(key) if v.strip()]
        if confirmed:
            answers[key.removeprefix(CONFIRM_PREFIX)] = confirmed[-1:]
    return answers


def form_from_answers(answers: Mapping[str, list[str]]) -> FormData:
    """The stored answers as the form the intake reads (``get`` and ``getlist``)."""
    return FormData([(k, v) for k, values in answers.items() for v in values])


def _shown(values: list[str] | None) -> Any:
    kept = sorted(v.strip() for v in values or [] if v.strip() not in _EMPTY)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kept


def diff_answers(old: Mapping[str, list[str]], new: Mapping[str, list[str]]) -> list[Change]:
    """One change per answer that differs ("" and "I don't know" both count as not given)."""
    changes = []
    for key in sorted(set(old) | set(new)):
        before, after = _shown(old.get(key)), _shown(new.get(key))
        if before != after:
            changes.append(Change(key, before, after))
    return changes


def derived_answers(saved: SavedProfile) -> Answers | None:
    """For an intake profile saved before its answers were kept: the answers read back from
    the record, when the intake offers that mapping (``intake_values``); None otherwise.
    Profiles from files are never re-read through the intake (it would drop what the
    intake does not ask)."""
    if saved.source != "intake":
        return None
    from myelonav.web import intake

    derive = getattr(intake, "intake_values", None)
    if not callable(derive):
        return None
    values = derive(saved.record)
    if not isinstance(values, dict):
        return None
    return {
        str(k): [str(x) for x in v] if isinstance(v, list) else [str(v)]
        for k, v in values.items()
        if v is not None
    }


def edit_answers(saved: SavedProfile, stored: Answers) -> Answers:
    """The answers to reopen the form with: the stored ones, with those the profile page
    can change since (travel distance, trial interest) or a record may carry without an
    intake answer (the stem cell donor search) taken from the record."""
    prefs = saved.record.preferences
    answers = dict(stored)
    miles = prefs.max_travel_miles
    answers["travel_miles"] = [] if miles is None else [f"{miles:g}"]
    answers["trial_interest"] = [prefs.trial_interest.value]
    answers["stem_cell_donor"] = [prefs.stem_cell_donor]
    return answers


def _intake_labs(answers: Mapping[str, list[str]], today: dt.date) -> list[LabResult] | None:
    try:
        return record_from_intake(form_from_answers(answers), today=today).labs
    except MyelonavError:
        return None


def merge_edit(
    saved: SavedProfile,
    old_answers: Mapping[str, list[str]],
    new_record: PatientRecord,
    *,
    today: dt.date,
) -> PatientRecord:
    """The record after an edit: the intake's new record, keeping the saved record's id, the
    labs added since the intake, and preferences the intake does not ask about."""
    old = saved.record
    from_intake = _intake_labs(old_answers, today)
    if from_intake is None:  # the old answers no longer read: keep labs on other days
        days = {(lab.analyte, lab.date) for lab in new_record.labs}
        added = [lab for lab in old.labs if (lab.analyte, lab.date) not in days]
    else:
        added = [lab for lab in old.labs if lab not in from_intake]
    prefs = new_record.preferences
    merged_prefs = old.preferences.model_copy(
        update={k: getattr(prefs, k) for k in prefs.model_fields_set}
    )
    data = new_record.model_dump(mode="json", exclude_none=True)
    data["id"] = old.id
    data["labs"] = [
        lab.model_dump(mode="json", exclude_none=True) for lab in [*new_record.labs, *added]
    ]
    data["preferences"] = merged_prefs.model_dump(mode="json", exclude_none=True)
    return record_from_data(data, "intake")


def edited_record(
    saved: SavedProfile, stored: Answers, form: Any, *, today: dt.date | None = None
) -> tuple[PatientRecord, Answers, list[Change]]:
    """Read an edited intake form; raises ``IntakeError`` naming every bad field."""
    day = today or dt.date.today()
    new_answers = answers_from_form(form)
    record = record_from_intake(form_from_answers(new_answers), today=day)
    before = edit_answers(saved, stored)
    merged = merge_edit(saved, stored, record, today=day)
    return merged, new_answers, diff_answers(before, new_answers)


def change_words(field: str) -> str:
    """A history field in words ("CAR T date", "Travel distance", "A lab result added")."""
    if field == "lab":
        return "A lab result added"
    if field == "label":
        return "Name on the list"
    if field.startswith("preferences."):
        return "Preference: " + field.removeprefix("preferences.").replace("_", " ")
    return field_words(field)


def show_value(value: Any) -> str:
    """A history value in words."""
    if value is None:
        return "not given"
    if isinstance(value, list):
        return ", ".join(show_value(v) for v in value) or "not given"
    if isinstance(value, dict) and "analyte" in value:
        unit = value.get("unit") or ""
        return (
            f"{value.get('label', value['analyte'])} {value.get('value')} {unit}".strip()
            + f" on {value.get('date')}"
        )
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


# --- labs over time -------------------------------------------------------------------------

_INTAKE_FIELD = {
    Analyte.platelets: "platelets",
    Analyte.anc: "anc",
    Analyte.creatinine: "creatinine",
    Analyte.body_weight: "weight_kg",
}


def unit_words(analyte: Analyte) -> str:
    return (CANONICAL_UNIT[analyte] or "").replace("10*9/L", "× 10⁹/L")


@dataclass(frozen=True)
class LabChoice:
    analyte: Analyte
    label: str
    unit: str
    spec: NumberField


def lab_choices() -> list[LabChoice]:
    """The analytes a person can add, with units and plausible ranges (the intake's own
    question where it asks one, so both read "1,4" and "150 µmol/L" the same way)."""
    out = []
    for analyte, label in _LAB_LABELS.items():
        if analyte not in PLAUSIBLE:
            continue  # qualitative results (immunofixation) are not typed in as numbers
        if analyte in _INTAKE_FIELD:
            spec = NUMBER_FIELDS[_INTAKE_FIELD[analyte]]
        else:
            low, high = PLAUSIBLE[analyte]
            spec = NumberField(label, unit_words(analyte), low, high)
        out.append(LabChoice(analyte, label, unit_words(analyte), spec))
    return out


@dataclass
class LabForm:
    """A read lab form: the result, or the problems by field (and a value to offer)."""

    lab: LabResult | None
    errors: dict[str, str]
    suggestion: float | None = None


# Units a report may use, offered for every test; one that does not fit the chosen test is
# refused with its name (pages work without scripts, so the list cannot follow the test).
LAB_UNITS: tuple[tuple[str, str], ...] = (
    ("", "The unit shown next to the test"),
    ("mg/L", "mg/L"),
    ("mg/dL", "mg/dL"),
    ("g/L", "g/L"),
    ("g/dL", "g/dL"),
    ("umol/L", "µmol/L"),
    ("mmol/L", "mmol/L"),
    ("10*9/L", "× 10⁹/L (thousand per µL)"),
    ("/uL", "per µL (cells per µL)"),
    ("U/L", "U/L"),
    ("g/24h", "g per 24 hours"),
    ("mg/24h", "mg per 24 hours"),
    ("lb", "pounds (lb)"),
)


def _unit_spec(choice: LabChoice, unit: str) -> tuple[NumberField, float] | None:
    """The question in the unit the person chose, and the factor to the canonical unit."""
    if not unit:
        return choice.spec, 1.0
    factor = _FACTORS.get(choice.analyte, {}).get(fold_unit(unit))
    if factor is None:
        return None
    shown = dict(LAB_UNITS).get(unit, unit)
    spec = NumberField(
        choice.label,
        shown,
        choice.spec.low / factor,
        choice.spec.high / factor,
        decimal_comma=choice.spec.decimal_comma,
    )
    return spec, factor


def _confirmed(text: str, spec: NumberField) -> float | None:
    """A value we offered back (written by us with a dot for decimals), if it is in range."""
    if not text or len(text) > 32:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if spec.low <= value <= spec.high else None


def read_lab(form: Mapping[str, Any], record: PatientRecord, *, today: dt.date) -> LabForm:
    """Read the add-a-lab form: a full date, a listed analyte and a value the intake's number
    reader accepts; a duplicate of a saved result is refused."""
    choices = {c.analyte.value: c for c in lab_choices()}
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    choice = choices.get(text("analyte"))
    if choice is None:
        errors["analyte"] = "Test: choose a test from the list"
    when: dt.date | None = None
    raw_date = text("lab_date")
    try:
        given = read_date(raw_date, today=today) if raw_date else None
    except DateFormatError:
        given = None
    if given is None or not given.exact:
        errors["lab_date"] = (
            "Date of the result: enter the full date on the report, for example 2026-11-02"
        )
    elif given.date > today:
        errors["lab_date"] = "Date of the result: this date is in the future"
    else:
        when = given.date
    value: float | None = None
    suggestion: float | None = None
    raw_value = text("value")
    unit = text("unit")
    in_unit = _unit_spec(choice, unit) if choice is not None else None
    if choice is not None and in_unit is None:
        errors["unit"] = (
            f"Unit: {dict(LAB_UNITS).get(unit, unit[:20])} is not used for "
            f"{choice.label}; choose the unit printed on your report, or "
            f"enter the result in {choice.unit}"
        )
    elif choice is not None and in_unit is not None:
        spec, factor = in_unit
        confirmed = _confirmed(text("confirmed_value"), spec)
        if confirmed is not None:
            # the person pressed "Yes, I meant ..." on the reading we offered
            value = round(confirmed * factor, 6)
        elif not raw_value:
            errors["value"] = f"Result: enter the {choice.label} result in {spec.unit}"
        else:
            answer = read_number(raw_value, spec)
            if answer.message is not None:
                errors["value"] = answer.message
                suggestion = answer.suggestion
            elif answer.value is not None:
                value = round(answer.value * factor, 6)
    if errors or choice is None or when is None or value is None:
        return LabForm(None, errors, suggestion)
    if any(lab.analyte is choice.analyte and lab.date == when for lab in record.labs):
        return LabForm(
            None,
            {
                "lab_date": f"Date of the result: a {choice.label} result on "
                f"{when.isoformat()} is already saved"
            },
        )
    return LabForm(LabResult(analyte=choice.analyte, date=when, value=value), {})


def with_lab(record: PatientRecord, lab: LabResult) -> tuple[PatientRecord, Change]:
    data = record.model_dump(mode="json", exclude_none=True)
    data["labs"] = [*data.get("labs", []), lab.model_dump(mode="json", exclude_none=True)]
    label = _LAB_LABELS.get(lab.analyte, lab.analyte.value)
    change = Change(
        "lab",
        None,
        {
            "analyte": lab.analyte.value,
            "label": label,
            "date": lab.date.isoformat(),
            "value": lab.value,
            "unit": unit_words(lab.analyte),
        },
    )
    return record_from_data(data, "labs"), change


# --- moving devices: the export file and its import -----------------------------------------


def export_payload(
    saved: SavedProfile,
    answers: Answers | None,
    history: list[HistoryEntry],
    fhir_bundle: dict[str, Any],
) -> dict[str, Any]:
    """The file a person downloads to move the profile to another device."""
    profile = saved.export()
    profile["label"] = saved.label
    profile["answers"] = answers
    profile["history"] = [h.export() for h in history]
    return {"format": EXPORT_FORMAT, "version": 1, "profile": profile, "fhir_bundle": fhir_bundle}


@dataclass(frozen=True)
class ImportedProfile:
    record: PatientRecord
    source: str
    label: str | None
    answers: Answers | None
    history: list[HistoryEntry]


def looks_like_export(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "profile" in data
        and (data.get("format") == EXPORT_FORMAT or "fhir_bundle" in data)
    )


def _damaged(part: str, why: str, where: str) -> ImportError_:
    return ImportError_(
        f"this looks like a profile file from myelonav, but its {part} is damaged ({why}). "
        "Download the file again on the other device and upload it unchanged, or upload "
        "the records from your patient portal instead",
        location=where,
    )


def _answers(value: Any, where: str) -> Answers | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in value.items()
    ):
        raise _damaged("answers part", "not a list of answers", f"{where}: profile.answers")
    return {k: list(v) for k, v in value.items()}


def _history(value: Any, where: str) -> list[HistoryEntry]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _damaged("history", "not a list", f"{where}: profile.history")
    out = []
    for i, item in enumerate(value):
        try:
            if not isinstance(item, dict):
                raise ValueError("not an entry")
            at = dt.datetime.fromisoformat(str(item["at"]))
            out.append(
                HistoryEntry(
                    at if at.tzinfo else at.replace(tzinfo=dt.UTC),
                    str(item["actor"])[:120],
                    str(item["field"])[:120],
                    item.get("old"),
                    item.get("new"),
                )
            )
        except (KeyError, ValueError, TypeError):
            raise _damaged(
                "history", f"entry {i + 1} is not readable", f"{where}: profile.history[{i}]"
            ) from None
    return out


def read_export(data: Any, where: str = "upload") -> ImportedProfile:
    """A file made by "Download everything saved", read back; plain-words errors naming
    the part that is wrong."""
    profile = data.get("profile") if isinstance(data, dict) else None
    if not isinstance(profile, dict) or not isinstance(profile.get("record"), dict):
        raise _damaged("patient record", "it is missing", f"{where}: profile.record")
    try:
        record = record_from_data(profile["record"], f"{where}: profile.record")
    except InputError as exc:
        raise _damaged("patient record", exc.message, exc.location or where) from None
    source = profile.get("source")
    label = profile.get("label")
    if label is not None and not isinstance(label, str):
        raise _damaged("name on the list", "not text", f"{where}: profile.label")
    return ImportedProfile(
        record=record,
        source=source if isinstance(source, str) and source in SOURCES else "profile",
        label=label.strip()[:60] or None if label else None,
        answers=_answers(profile.get("answers"), where),
        history=_history(profile.get("history"), where),
    )


__all__ = [
    "EXPORT_FORMAT",
    "LAB_UNITS",
    "Answers",
    "ImportedProfile",
    "IntakeError",
    "LabChoice",
    "LabForm",
    "answers_from_form",
    "change_words",
    "derived_answers",
    "diff_answers",
    "edit_answers",
    "edited_record",
    "export_payload",
    "form_from_answers",
    "lab_choices",
    "looks_like_export",
    "merge_edit",
    "read_export",
    "read_lab",
    "show_value",
    "unit_words",
    "with_lab",
]
