"""Symptom check: what to do now, in plain words, with the ASTCT concept underneath.

Rules are data (``triage.yaml``): each says when it applies, how urgent it is, what to
tell the patient and which ASTCT CRS/ICANS concept (Lee et al., BBMT 2019) is behind it.
The answer is the most urgent rule that applies. On top of the data, ``RED_FLAG_FLOORS``
is a hard floor in code: a red flag is never answered with "mention at next visit",
whatever the data file says. Adding a symptom can only add matches, so urgency never
drops when a red flag is added.

The fever threshold is ``myelonav.clinical.thresholds.FEVER_C`` (ASTCT); ICE scores are
graded by ``myelonav.clinical.astct.ice_grade``. Home thresholds for blood pressure and
oxygen readings are myelonav's own, conservative, and stated as such in the data file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from myelonav import DISCLAIMER
from myelonav.clinical.thresholds import FEVER_C
from myelonav.datafiles import Citation
from myelonav.errors import InputError, KnowledgeError
from myelonav.logic import Truth, all_of, any_of
from myelonav.support.content import triage_rules
from myelonav.support.schemas import Condition, TriageRule


class Urgency(IntEnum):
    mention_next_visit = 1
    call_team_now = 2
    emergency = 3

    @property
    def plain(self) -> str:
        return {
            Urgency.emergency: "Emergency: call 911 or go to the emergency room now.",
            Urgency.call_team_now: "Call your care team now, day or night.",
            Urgency.mention_next_visit: "Mention it at your next visit.",
        }[self]


class SymptomReport(BaseModel):
    """What a patient or caregiver reports. ``None`` means not measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature_c: float | None = Field(None, ge=30, le=45)
    chills: bool = False
    dizziness: bool = False
    systolic_bp: int | None = Field(None, ge=40, le=260, description="mmHg")
    breathing_trouble: bool = False
    spo2: int | None = Field(None, ge=50, le=100, description="oxygen saturation, %")
    confusion: bool = False
    handwriting_change: bool = False
    speech_change: bool = False
    trouble_staying_awake: bool = False
    seizure: bool = False
    weakness: bool = Field(False, description="new weakness of the face, an arm or a leg")
    ice_score: int | None = Field(None, ge=0, le=10)
    cough: bool = False
    burning_urination: bool = False
    diarrhea: bool = False
    wound_redness: bool = False
    taste_change: bool = False
    dry_mouth: bool = False
    trouble_swallowing: bool = False
    weight_loss: bool = False
    skin_peeling: bool = False
    nail_change: bool = False
    on_bispecific: bool = False
    recent_car_t: bool = False

    @property
    def t_cell_therapy(self) -> bool:
        return self.on_bispecific or self.recent_car_t


CONTEXT_FIELDS = frozenset({"on_bispecific", "recent_car_t"})
SYMPTOM_FLAGS: frozenset[str] = frozenset(
    name
    for name, f in SymptomReport.model_fields.items()
    if f.annotation is bool and name not in CONTEXT_FIELDS
)
NEURO_FLAGS = frozenset(
    {
        "confusion",
        "handwriting_change",
        "speech_change",
        "trouble_staying_awake",
        "seizure",
        "weakness",
    }
)

LOW_SYSTOLIC = 90  # design threshold for "low blood pressure" at home, not an ASTCT number
LOW_SPO2 = 95  # below this a home reading counts as a red flag (floor: call the team)


@dataclass(frozen=True)
class RedFlag:
    id: str
    floor: Urgency
    test: Callable[[SymptomReport], bool]


# The hard rule, in code: the least urgent answer any red flag may get.
RED_FLAG_FLOORS: tuple[RedFlag, ...] = (
    RedFlag(
        "fever",
        Urgency.call_team_now,
        lambda r: r.temperature_c is not None and r.temperature_c >= FEVER_C,
    ),
    RedFlag(
        "hypotension",
        Urgency.emergency,
        lambda r: r.systolic_bp is not None and r.systolic_bp < LOW_SYSTOLIC,
    ),
    RedFlag("dizziness", Urgency.call_team_now, lambda r: r.dizziness),
    RedFlag("breathing_trouble", Urgency.emergency, lambda r: r.breathing_trouble),
    RedFlag("hypoxia", Urgency.call_team_now, lambda r: r.spo2 is not None and r.spo2 < LOW_SPO2),
    RedFlag("seizure", Urgency.emergency, lambda r: r.seizure),
    RedFlag("trouble_staying_awake", Urgency.emergency, lambda r: r.trouble_staying_awake),
    RedFlag(
        "neurological_change",
        Urgency.call_team_now,
        lambda r: any(getattr(r, f) for f in NEURO_FLAGS),
    ),
    RedFlag(
        "ice_below_10",
        Urgency.call_team_now,
        lambda r: r.ice_score is not None and r.ice_score < 10,
    ),
)


def red_flags(report: SymptomReport) -> list[RedFlag]:
    return [f for f in RED_FLAG_FLOORS if f.test(report)]


def _at_least(value: float | None, threshold: float) -> Truth:
    return Truth.unknown if value is None else Truth.of(value >= threshold)


def _below(value: float | None, threshold: float) -> Truth:
    return Truth.unknown if value is None else Truth.of(value < threshold)


def condition_truth(cond: Condition, r: SymptomReport) -> Truth:
    """The condition in the shared three-valued logic: a measurement not taken is unknown, and
    an unknown part never makes a rule fire (the red-flag floors still apply)."""
    parts: list[Truth] = []
    if cond.t_cell_therapy is not None:
        parts.append(Truth.of(cond.t_cell_therapy == r.t_cell_therapy))
    if cond.flags_any:
        parts.append(any_of(Truth.of(bool(getattr(r, f))) for f in cond.flags_any))
    if cond.flags_all:
        parts.append(all_of(Truth.of(bool(getattr(r, f))) for f in cond.flags_all))
    if cond.temperature_c_at_least is not None:
        parts.append(_at_least(r.temperature_c, cond.temperature_c_at_least))
    if cond.systolic_below is not None:
        parts.append(_below(r.systolic_bp, cond.systolic_below))
    if cond.spo2_below is not None:
        parts.append(_below(r.spo2, cond.spo2_below))
    if cond.ice_score_at_most is not None:
        parts.append(_below(r.ice_score, cond.ice_score_at_most + 1))
    return all_of(parts)


def _matches(cond: Condition, r: SymptomReport) -> bool:
    return condition_truth(cond, r) is Truth.true


def check_rules(rules: list[TriageRule]) -> None:
    """Every flag a rule names must be a real symptom field (catches typos in the data)."""
    for rule in rules:
        for name in (*rule.when.flags_any, *rule.when.flags_all):
            if name not in SYMPTOM_FLAGS:
                raise KnowledgeError(
                    f"unknown symptom flag {name!r}",
                    location=f"support/data/triage.yaml: rule {rule.id}",
                )


@dataclass(frozen=True)
class TriageResult:
    urgency: Urgency
    reasons: list[TriageRule]
    red_flags: list[str]
    floor_applied: bool

    @property
    def citations(self) -> list[Citation]:
        seen: dict[str, Citation] = {}
        for rule in self.reasons:
            for c in rule.citations:
                seen.setdefault(c.label, c)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        summary = self.urgency.plain
        if not self.reasons and not self.red_flags:
            summary = (
                "No warning signs were reported. Keep checking your temperature and how you "
                "feel, and mention anything new at your next visit."
            )
        return {
            "urgency": self.urgency.name,
            "what_to_do": summary,
            "red_flags": self.red_flags,
            "reasons": [
                {
                    "rule": r.id,
                    "level": r.level,
                    "why": r.patient_text,
                    "clinical_concept": r.clinical_concept,
                }
                for r in self.reasons
            ],
            "citations": [c.model_dump(exclude_none=True) for c in self.citations],
            "disclaimer": DISCLAIMER,
        }


def triage(report: SymptomReport, rules: list[TriageRule] | None = None) -> TriageResult:
    """The most urgent answer among matching rules, never below a red flag's floor."""
    rules = list(triage_rules().rules) if rules is None else rules
    check_rules(rules)
    matched = [r for r in rules if _matches(r.when, report)]
    matched.sort(key=lambda r: Urgency[r.level], reverse=True)
    level = max((Urgency[r.level] for r in matched), default=Urgency.mention_next_visit)
    flags = red_flags(report)
    floor = max((f.floor for f in flags), default=Urgency.mention_next_visit)
    return TriageResult(
        urgency=max(level, floor),
        reasons=matched,
        red_flags=[f.id for f in flags],
        floor_applied=floor > level,
    )


_TEMP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*°?\s*([cCfF])?\s*$")


def parse_temperature(text: str) -> float:
    """'38.2', '38.2C', '101F', '100.4 °F' -> degrees Celsius (one decimal).

    A bare number from 30 to 45 is read as Celsius and from 86 to 113 as Fahrenheit;
    anything else is refused rather than guessed.
    """
    m = _TEMP.match(text)
    if not m:
        raise InputError(f"{text!r} is not a temperature (e.g. 38.2C or 100.9F)", location="--temp")
    value, unit = float(m.group(1)), (m.group(2) or "").upper()
    if not unit:
        if 30 <= value <= 45:
            unit = "C"
        elif 86 <= value <= 113:
            unit = "F"
        else:
            raise InputError(f"{text!r}: add C or F", location="--temp")
    celsius = (value - 32) * 5 / 9 if unit == "F" else value
    if not 30 <= celsius <= 45:
        raise InputError(f"{text!r} is outside 30-45 C; check the reading", location="--temp")
    return round(celsius, 1)


def make_report(**fields: Any) -> SymptomReport:
    """Build a report, turning validation errors into an InputError naming the field."""
    try:
        return SymptomReport(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], location=loc) from None


__all__ = [
    "NEURO_FLAGS",
    "RED_FLAG_FLOORS",
    "SYMPTOM_FLAGS",
    "SymptomReport",
    "TriageResult",
    "Urgency",
    "make_report",
    "parse_temperature",
    "red_flags",
    "triage",
]
