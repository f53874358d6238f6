"""ASTCT consensus grading of CRS and ICANS (Lee DW, et al. Biol Blood Marrow Transplant
2019;25:625-38), and the ICE encephalopathy score.

CRS: fever >= 38 C is required (not once tocilizumab or steroids have masked it); the grade is
set by the more severe of hypotension and hypoxia. Organ toxicities do not change the CRS grade
(they are graded by CTCAE). ICANS: the grade is the most severe of the ICE score, level of
consciousness, seizure, motor findings and raised ICP / cerebral oedema, each not attributable
to another cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myelonav.clinical import plausible
from myelonav.clinical import thresholds as t
from myelonav.errors import InputError


class Hypotension(StrEnum):
    none = "none"
    no_vasopressor = "no_vasopressor"  # treated with fluids, no vasopressor: grade 2
    one_vasopressor = "one_vasopressor"  # one vasopressor with or without vasopressin: grade 3
    multiple_vasopressors = "multiple_vasopressors"  # excluding vasopressin: grade 4


class OxygenSupport(StrEnum):
    none = "none"
    low_flow_nasal_cannula = "low_flow_nasal_cannula"  # <= 6 L/min: grade 2
    blow_by = "blow_by"  # grade 2
    high_flow_nasal_cannula = "high_flow_nasal_cannula"  # > 6 L/min: grade 3
    facemask = "facemask"  # grade 3
    non_rebreather = "non_rebreather"  # grade 3
    venturi = "venturi"  # grade 3
    positive_pressure = "positive_pressure"  # CPAP, BiPAP, intubation: grade 4


_HYPOTENSION_GRADE = {
    Hypotension.none: 1,
    Hypotension.no_vasopressor: 2,
    Hypotension.one_vasopressor: 3,
    Hypotension.multiple_vasopressors: 4,
}
_OXYGEN_GRADE = {
    OxygenSupport.none: 1,
    OxygenSupport.low_flow_nasal_cannula: 2,
    OxygenSupport.blow_by: 2,
    OxygenSupport.high_flow_nasal_cannula: 3,
    OxygenSupport.facemask: 3,
    OxygenSupport.non_rebreather: 3,
    OxygenSupport.venturi: 3,
    OxygenSupport.positive_pressure: 4,
}


@dataclass(frozen=True, slots=True)
class Grade:
    grade: int
    reasons: list[str]


def oxygen_from_flow(flow_l_min: float) -> OxygenSupport:
    """Nasal cannula by flow: <= 6 L/min is low-flow (grade 2), above is high-flow (grade 3)."""
    plausible.oxygen_flow_l_min(flow_l_min)
    if flow_l_min == 0:
        return OxygenSupport.none
    if flow_l_min <= t.LOW_FLOW_MAX_L_MIN:
        return OxygenSupport.low_flow_nasal_cannula
    return OxygenSupport.high_flow_nasal_cannula


def crs_grade(
    *,
    max_temperature_c: float | None,
    hypotension: Hypotension = Hypotension.none,
    oxygen: OxygenSupport = OxygenSupport.none,
    fever_masked: bool = False,
) -> Grade:
    """ASTCT CRS grade 0-4 (Lee 2019, Table 2). Grade 0 = no CRS (no fever).

    ``fever_masked``: antipyretic/anti-cytokine therapy (tocilizumab, steroids) was given after
    CRS began, so fever is no longer required and hypotension/hypoxia drive the grade.
    A temperature outside 30-45 °C raises ``ImplausibleInputError`` (with a °F guess).
    """
    if max_temperature_c is not None:
        plausible.temperature_c(max_temperature_c)
    febrile = max_temperature_c is not None and max_temperature_c >= t.FEVER_C
    if max_temperature_c is None and not fever_masked:
        raise InputError(
            "CRS grading needs the maximum temperature (or --fever-masked after tocilizumab/"
            "steroids)",
            location="temperature",
        )
    if not febrile and not fever_masked:
        return Grade(0, [f"temperature {max_temperature_c:g} C < 38 C: no CRS by ASTCT"])
    reasons = (
        [f"fever {max_temperature_c:g} C >= 38 C"]
        if febrile
        else ["fever masked by tocilizumab/steroids: graded by hypotension and hypoxia"]
    )
    h = _HYPOTENSION_GRADE[hypotension]
    o = _OXYGEN_GRADE[oxygen]
    if h > 1:
        reasons.append(f"hypotension ({hypotension.value.replace('_', ' ')}): grade {h}")
    if o > 1:
        reasons.append(f"oxygen ({oxygen.value.replace('_', ' ')}): grade {o}")
    grade = max(h, o)
    if grade == 1 and not febrile:
        return Grade(0, [*reasons, "no fever, hypotension or hypoxia"])
    return Grade(grade, reasons)


@dataclass(frozen=True, slots=True)
class IceItems:
    """The ICE screen (Lee 2019, Table 5): 10 points."""

    oriented_year: bool
    oriented_month: bool
    oriented_city: bool
    oriented_hospital: bool
    objects_named: int  # 0-3
    follows_commands: bool
    writes_sentence: bool
    counts_back_by_ten: bool

    def score(self) -> int:
        if not 0 <= self.objects_named <= 3:
            raise InputError("objects named must be 0 to 3", location="objects_named")
        return (
            sum(
                (
                    self.oriented_year,
                    self.oriented_month,
                    self.oriented_city,
                    self.oriented_hospital,
                )
            )
            + self.objects_named
            + int(self.follows_commands)
            + int(self.writes_sentence)
            + int(self.counts_back_by_ten)
        )


class Consciousness(StrEnum):
    normal = "normal"
    awakens_spontaneously = "awakens_spontaneously"  # grade 1
    awakens_to_voice = "awakens_to_voice"  # grade 2
    awakens_to_touch = "awakens_to_touch"  # grade 3
    unarousable = "unarousable"  # vigorous/repetitive stimuli, stupor or coma: grade 4


class Seizure(StrEnum):
    none = "none"
    resolved_rapidly = "resolved_rapidly"  # any clinical seizure resolving rapidly, or
    # non-convulsive seizures on EEG resolving with intervention: grade 3
    prolonged = "prolonged"  # > 5 min, or repetitive without return to baseline: grade 4


class Motor(StrEnum):
    none = "none"
    deep_focal_weakness = "deep_focal_weakness"  # hemiparesis, paraparesis: grade 4


class Edema(StrEnum):
    none = "none"
    focal = "focal"  # focal/local oedema on neuroimaging: grade 3
    diffuse = "diffuse"  # diffuse oedema, posturing, CN VI palsy, papilledema, Cushing: grade 4


_CONSCIOUSNESS = {
    Consciousness.normal: 0,
    Consciousness.awakens_spontaneously: 1,
    Consciousness.awakens_to_voice: 2,
    Consciousness.awakens_to_touch: 3,
    Consciousness.unarousable: 4,
}
_SEIZURE = {Seizure.none: 0, Seizure.resolved_rapidly: 3, Seizure.prolonged: 4}
_MOTOR = {Motor.none: 0, Motor.deep_focal_weakness: 4}
_EDEMA = {Edema.none: 0, Edema.focal: 3, Edema.diffuse: 4}


def ice_grade(ice: int) -> int:
    """ICANS grade from the ICE score alone: 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3."""
    if not 0 <= ice <= 10:
        raise InputError(f"ICE score must be 0 to 10, got {ice}", location="ice")
    if ice == 10:
        return 0
    if ice >= t.ICE_GRADE1_MIN:
        return 1
    if ice >= t.ICE_GRADE2_MIN:
        return 2
    return 3


def icans_grade(
    *,
    ice: int | None,
    consciousness: Consciousness = Consciousness.normal,
    seizure: Seizure = Seizure.none,
    motor: Motor = Motor.none,
    edema: Edema = Edema.none,
) -> Grade:
    """ASTCT ICANS grade for adults (Lee 2019, Table 6): the most severe domain.

    ``ice=None`` means the patient could not perform ICE; that is only consistent with being
    unarousable (grade 4). An ICE of 0 in an awake patient with global aphasia is grade 3.
    """
    reasons: list[str] = []
    grades: list[int] = []
    if ice is None:
        if consciousness is not Consciousness.unarousable:
            raise InputError(
                "ICE score is needed unless the patient is unarousable", location="ice"
            )
        grades.append(4)
        reasons.append("unarousable, unable to perform ICE: grade 4")
    else:
        g = ice_grade(ice)
        grades.append(g)
        reasons.append(f"ICE {ice}/10: grade {g}")
    for label, value, table in (
        ("consciousness", consciousness, _CONSCIOUSNESS),
        ("seizure", seizure, _SEIZURE),
        ("motor", motor, _MOTOR),
        ("raised ICP/cerebral oedema", edema, _EDEMA),
    ):
        g = table[value]  # type: ignore[index]
        if g:
            grades.append(g)
            reasons.append(f"{label} ({value.value.replace('_', ' ')}): grade {g}")
    return Grade(max(grades), reasons)


__all__ = [
    "Consciousness",
    "Edema",
    "Grade",
    "Hypotension",
    "IceItems",
    "Motor",
    "OxygenSupport",
    "Seizure",
    "crs_grade",
    "icans_grade",
    "ice_grade",
    "oxygen_from_flow",
]
