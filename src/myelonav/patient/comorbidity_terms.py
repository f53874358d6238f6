"""Comorbidities from coded problems (FHIR Condition, C-CDA problem entries) and back.

Recognised by ICD-10-CM prefix first, then by plain words in the problem's text. Matching uses
word sets and ``in`` tests only (no regular expressions), so arbitrary text costs linear time.
A refuted problem records the comorbidity as absent; anything else records it as present.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from myelonav.patient import terminology as term
from myelonav.patient.models import Comorbidities

LVEF_LOINC = "10230-1"  # Left ventricular Ejection fraction

# field → (ICD-10-CM prefixes, words in the text, export code, export display)
_TERMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str]] = {
    "heart_failure": (
        ("I50", "I11.0", "I13.0", "I13.2"),
        ("heart failure", "cardiac failure", "cardiomyopathy", "reduced ejection fraction"),
        "I50.9",
        "Heart failure",
    ),
    "peripheral_neuropathy": (
        ("G60", "G61", "G62", "G63", "G64"),
        ("neuropathy", "polyneuropathy"),
        "G62.9",
        "Peripheral neuropathy",
    ),
    "eye_disease": (
        ("H16", "H17", "H18", "H04.1"),
        ("keratopathy", "keratitis", "corneal", "dry eye", "ocular surface"),
        "H18.9",
        "Disorder of cornea",
    ),
    "movement_disorder_after_car_t": (
        ("G20", "G21", "G25"),
        ("parkinsonism", "parkinson", "movement disorder", "tremor"),
        "G21.8",
        "Parkinsonism after CAR T",
    ),
    "transfusion_dependent": (
        (),
        ("transfusion dependen", "transfusion-dependen", "dependence on transfusion"),
        "Z99.89",
        "Transfusion dependence",
    ),
    "active_infection": (
        ("A", "B", "J12", "J13", "J14", "J15", "J16", "J17", "J18", "N39.0", "L03", "U07.1"),
        (
            "infection",
            "pneumonia",
            "sepsis",
            "bacteremia",
            "bacteraemia",
            "cellulitis",
            "covid",
            "influenza",
            "cytomegalovirus",
            "cmv viremia",
            "abscess",
        ),
        "B99.9",
        "Infection",
    ),
    "secondary_malignancy": (
        ("D46", "C91", "C92", "C84", "C86", "C43", "C44", "C50", "C61", "C18", "C34"),
        (
            "second primary",
            "secondary malignancy",
            "myelodysplastic",
            "acute myeloid leukemia",
            "t-cell lymphoma",
            "melanoma",
            "squamous cell carcinoma",
            "basal cell carcinoma",
        ),
        "C80.1",
        "Second primary malignancy",
    ),
}
_ACTIVE_STATUS = frozenset({"active", "recurrence", "relapse"})
_RESOLVED_STATUS = frozenset({"resolved", "inactive", "remission"})


@dataclass(frozen=True)
class ComorbidityFinding:
    field: str
    present: bool
    date: dt.date | None
    detail: str
    grade: int | None = None


def _grade(text: str) -> int | None:
    lowered = text.lower()
    for g in range(5):
        if f"grade {g}" in lowered:
            return g
    return None


def recognise(
    codes: list[tuple[str, str]],
    text: str,
    *,
    refuted: bool,
    clinical_status: str | None,
    date: dt.date | None,
) -> ComorbidityFinding | None:
    """The comorbidity a coded problem records, or ``None``."""
    icd = [c.upper() for s, c in codes if s in (term.ICD10CM, term.ICD10)]
    lowered = text.lower()[:2000]
    for name, (prefixes, words, _, _) in _TERMS.items():
        by_code = any(c.startswith(p) for c in icd for p in prefixes) and not (
            name == "active_infection" and any(c.startswith("C9") for c in icd)
        )
        if not by_code and not any(w in lowered for w in words):
            continue
        if name == "active_infection":
            # a past infection is history, not an active one
            if clinical_status in _RESOLVED_STATUS:
                return ComorbidityFinding(name, False, date, text)
            present = not refuted and (clinical_status is None or clinical_status in _ACTIVE_STATUS)
            return ComorbidityFinding(name, present, date, text)
        return ComorbidityFinding(name, not refuted, date, text, _grade(text))
    return None


def apply(
    findings: list[ComorbidityFinding], lvef: tuple[float, dt.date | None] | None
) -> Comorbidities:
    """Fold findings (latest last) into the record's comorbidities."""
    data: dict[str, Any] = {}
    dated = sorted(findings, key=lambda f: f.date or dt.date.min)
    for f in dated:
        if f.field == "peripheral_neuropathy":
            if not f.present:
                data["peripheral_neuropathy_grade"] = 0
            elif f.grade is not None:
                data["peripheral_neuropathy_grade"] = f.grade
            continue
        data[f.field] = f.present
        if f.field == "active_infection" and f.present:
            data["infection_detail"] = f.detail[:500] or None
    if lvef is not None:
        data["lvef_pct"], data["lvef_date"] = lvef
    dates = [f.date for f in findings if f.date]
    if dates:
        data["recorded_on"] = max(dates)
    return Comorbidities.model_validate(data)


def export_entries(c: Comorbidities) -> list[tuple[str, str, str, bool]]:
    """(ICD-10-CM code, display, text, refuted) per recorded comorbidity, for exporters."""
    out: list[tuple[str, str, str, bool]] = []
    for name, (_, _, code, display) in _TERMS.items():
        if name == "peripheral_neuropathy":
            grade = c.peripheral_neuropathy_grade
            if grade is not None:
                text = display if grade == 0 else f"{display} grade {grade}"
                out.append((code, display, text, grade == 0))
            continue
        value = getattr(c, name)
        if value is None:
            continue
        text = display
        if name == "active_infection" and c.infection_detail:
            text = c.infection_detail
        out.append((code, display, text, not value))
    return out


__all__ = ["LVEF_LOINC", "ComorbidityFinding", "apply", "export_entries", "recognise"]
