"""Symptom check: what to do now, in plain words, with the ASTCT concept underneath.

Rules are data (``triage.yaml``): each says when it applies, how urgent it is, what to
tell the patient and which ASTCT CRS/ICANS concept (Lee et al., BBMT 2019) is behind it.
The answer is the most urgent rule that applies. On top of the data, ``RED_FLAG_FLOORS``
is a hard floor in code: a red flag is never answered with "mention at next visit",
whatever the data file says. Adding a symptom can only add matches, so urgency never
drops when a red flag is added.

The fever threshold is ``myelonav.clinical.thresholds.FEVER_C`` (ASTCT); ICE scores are
graded by ``myelonav.clinical.astct.ice_grade``. Home thresholds for blood pressure and
oxygen readings are myelonav's own, conservative, and stated as such in the data file; so is
the low-temperature threshold (36 C, the lower SIRS temperature bound, Bone et al. 1992).

A check must report something: ``check`` refuses an empty report, and a temperature a home
thermometer cannot plausibly show is refused naming the field, never read as "no warning
signs". With a profile, ``care_context`` adds what the record knows (the current bispecific,
a recent CAR T) and the care team's numbers, which every result then shows.
"""

from __future__ import annotations

import datetime as dt
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

    temperature_c: float | None = Field(None, ge=32, le=43)
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
    bleeding_or_bruising: bool = Field(False, description="new bruises, tiny red spots, nosebleeds")
    heavy_bleeding: bool = Field(False, description="bleeding that will not stop, black stools")
    back_pain: bool = Field(False, description="new or worse back pain")
    leg_weakness_or_numbness: bool = Field(False, description="new leg weakness or numbness")
    bladder_bowel_control: bool = Field(False, description="new loss of bladder or bowel control")
    vomiting: bool = False
    severe_headache: bool = False
    on_bispecific: bool = False
    recent_car_t: bool = False

    @property
    def t_cell_therapy(self) -> bool:
        return self.on_bispecific or self.recent_car_t

    @property
    def is_empty(self) -> bool:
        """Nothing measured and no symptom ticked (the treatment context alone is not a report)."""
        measured = (self.temperature_c, self.systolic_bp, self.spo2, self.ice_score)
        return all(v is None for v in measured) and not any(getattr(self, f) for f in SYMPTOM_FLAGS)


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
# Below this a temperature is a warning sign (lower SIRS bound, Bone et al., Chest 1992); on a
# T-cell engager or after CAR T, myelonav's conservative design threshold, not a label number.
LOW_TEMPERATURE_C = 36.0
# A home thermometer reading outside this range is a measuring error far more often than a
# real value: it is refused (measure again), never read as "no warning signs".
PLAUSIBLE_TEMPERATURE_C = (32.0, 43.0)
# CAR T within this many days counts as "recent" for a profile (myelonav design threshold;
# the labels' monitoring windows are shorter, so this errs towards calling).
RECENT_CAR_T_DAYS = 90
CORD_FLAGS = frozenset({"leg_weakness_or_numbness", "bladder_bowel_control"})


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
        "low_temperature",
        Urgency.call_team_now,
        lambda r: r.temperature_c is not None and r.temperature_c < LOW_TEMPERATURE_C,
    ),
    RedFlag(
        "possible_spinal_cord_compression",
        Urgency.emergency,
        lambda r: any(getattr(r, f) for f in CORD_FLAGS),
    ),
    RedFlag("heavy_bleeding", Urgency.emergency, lambda r: r.heavy_bleeding),
    RedFlag("bleeding_or_bruising", Urgency.call_team_now, lambda r: r.bleeding_or_bruising),
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
    if cond.temperature_c_below is not None:
        parts.append(_below(r.temperature_c, cond.temperature_c_below))
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
class CareContext:
    """What a profile adds to a check: the treatment now and who to call."""

    bispecifics: tuple[str, ...] = ()
    car_t_days_ago: int | None = None
    care_team_phone: str | None = None
    after_hours_phone: str | None = None

    @property
    def recent_car_t(self) -> bool:
        return self.car_t_days_ago is not None and self.car_t_days_ago <= RECENT_CAR_T_DAYS

    def lines(self) -> list[str]:
        """What the profile told the checker, in plain words."""
        out: list[str] = []
        if self.bispecifics:
            out.append(f"Your profile says you are on {', '.join(self.bispecifics)}.")
        if self.recent_car_t:
            out.append(f"Your profile says you had CAR T {self.car_t_days_ago} days ago.")
        return out


def care_context(record: Any, as_of: dt.date) -> CareContext:
    """The profile's current bispecific, latest CAR T and care team numbers."""
    from myelonav.support.profile_support import current_bispecifics

    infused = [e.infusion_date for e in record.car_t if e.infusion_date <= as_of]
    prefs = record.preferences
    return CareContext(
        bispecifics=tuple(current_bispecifics(record, as_of)),
        car_t_days_ago=(as_of - max(infused)).days if infused else None,
        care_team_phone=prefs.care_team_phone,
        after_hours_phone=prefs.after_hours_phone,
    )


def with_context(report: SymptomReport, care: CareContext | None) -> SymptomReport:
    """The report with the profile's treatment added (it only ever adds, never removes)."""
    if care is None:
        return report
    return report.model_copy(
        update={
            "on_bispecific": report.on_bispecific or bool(care.bispecifics),
            "recent_car_t": report.recent_car_t or care.recent_car_t,
        }
    )


def tel_href(number: str) -> str | None:
    """A tel: link for a phone number as written ('1-800-452-2873 (800-452-CURE)')."""
    kept: list[str] = []
    for part in number.split("("):
        inside, _, after = part.partition(")") if ")" in part else ("", "", part)
        # '(555)' is an area code; '(800-452-CURE)' is a spelled-out repeat, not more digits
        if not any(ch.isalpha() for ch in inside):
            kept.append(inside)
        kept.append(after)
    digits = "".join(ch for ch in "".join(kept) if ch.isdigit() or ch == "+")
    return f"tel:{digits}" if len(digits.lstrip("+")) >= 3 else None


def _phone(label: str, number: str) -> dict[str, Any]:
    return {"label": label, "number": number, "tel": tel_href(number)}


def phones(care: CareContext | None) -> list[dict[str, Any]]:
    """Numbers to show on every result: the care team's first, then 911 and 988."""
    out: list[dict[str, Any]] = []
    if care is not None and care.care_team_phone:
        out.append(_phone("Your care team", care.care_team_phone))
    if care is not None and care.after_hours_phone:
        out.append(_phone("Your care team after hours", care.after_hours_phone))
    out.append(_phone("Emergency", "911"))
    out.append(_phone("Crisis line (call or text)", "988"))
    return out


@dataclass(frozen=True)
class TriageResult:
    urgency: Urgency
    reasons: list[TriageRule]
    red_flags: list[str]
    floor_applied: bool
    care: CareContext | None = None

    @property
    def citations(self) -> list[Citation]:
        seen: dict[str, Citation] = {}
        for rule in self.reasons:
            for c in rule.citations:
                seen.setdefault(c.label, c)
        return list(seen.values())

    @property
    def headline(self) -> str:
        """The one headline of the result."""
        if not self.reasons and not self.red_flags:
            return (
                "No warning signs in what you entered. Keep checking your temperature and how "
                "you feel, and check again if anything changes."
            )
        return self.urgency.plain

    def to_dict(self) -> dict[str, Any]:
        care = self.care
        return {
            "urgency": self.urgency.name,
            "headline": self.headline,
            "what_to_do": self.headline,
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
            "from_profile": care.lines() if care is not None else [],
            "current_bispecifics": list(care.bispecifics) if care is not None else [],
            "phones": phones(care),
            "citations": [c.model_dump(exclude_none=True) for c in self.citations],
            "disclaimer": DISCLAIMER,
        }


def triage(
    report: SymptomReport,
    rules: list[TriageRule] | None = None,
    *,
    care: CareContext | None = None,
) -> TriageResult:
    """The most urgent answer among matching rules, never below a red flag's floor."""
    rules = list(triage_rules().rules) if rules is None else rules
    check_rules(rules)
    report = with_context(report, care)
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
        care=care,
    )


EMPTY_REPORT = (
    "Nothing was entered. Tick at least one symptom or enter a temperature, blood pressure "
    "or oxygen reading. If you feel very unwell, call your care team or 911."
)


def check(report: SymptomReport, *, care: CareContext | None = None) -> TriageResult:
    """A symptom check: like ``triage``, but an empty report is refused, never 'no signs'."""
    if report.is_empty:
        raise InputError(EMPTY_REPORT, location="symptoms")
    return triage(report, care=care)


_TEMP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*°?\s*([cCfF])?\s*$")


def parse_temperature(text: str, location: str = "--temp") -> float:
    """'38.2', '38.2C', '101F', '100.4 °F' -> degrees Celsius (one decimal).

    A bare number from 30 to 45 is read as Celsius and from 86 to 113 as Fahrenheit;
    anything else is refused rather than guessed.
    """
    m = _TEMP.match(text)
    if not m:
        raise InputError(f"{text!r} is not a temperature (e.g. 38.2C or 100.9F)", location=location)
    value, unit = float(m.group(1)), (m.group(2) or "").upper()
    if not unit:
        if 30 <= value <= 45:
            unit = "C"
        elif 86 <= value <= 113:
            unit = "F"
        else:
            raise InputError(
                f"{text!r} is not a body temperature in C or F; check the reading",
                location=location,
            )
    celsius = (value - 32) * 5 / 9 if unit == "F" else value
    return plausible_temperature(round(celsius, 1), text, location)


def plausible_temperature(celsius: float, text: str, location: str = "--temp") -> float:
    """Refuse a reading a home thermometer cannot plausibly show (measure again)."""
    low, high = PLAUSIBLE_TEMPERATURE_C
    if not low <= celsius <= high:
        raise InputError(
            f"{text!r} is not a body temperature a thermometer would show ({low:g}-{high:g} C, "
            f"{low * 9 / 5 + 32:.1f}-{high * 9 / 5 + 32:.1f} F). Measure again. If the person "
            "is cold, confused or hard to wake, call 911.",
            location=location,
        )
    return celsius


def make_report(**fields: Any) -> SymptomReport:
    """Build a report, turning validation errors into an InputError naming the field."""
    try:
        return SymptomReport(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], location=loc) from None


__all__ = [
    "EMPTY_REPORT",
    "LOW_TEMPERATURE_C",
    "NEURO_FLAGS",
    "PLAUSIBLE_TEMPERATURE_C",
    "RED_FLAG_FLOORS",
    "SYMPTOM_FLAGS",
    "CareContext",
    "SymptomReport",
    "TriageResult",
    "Urgency",
    "care_context",
    "check",
    "make_report",
    "parse_temperature",
    "phones",
    "plausible_temperature",
    "red_flags",
    "tel_href",
    "triage",
    "with_context",
]
