"""What the clinical picture holds: facts with their sources, exposures, data-quality notes.

A ``Fact`` is one thing known (or not known) about the patient on the as-of date: its value
(``UNKNOWN`` when the record cannot decide it), the record lines it came from, and how to say
it to a clinician and to a patient. Every engine reads these; none derives them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from myelonav.logic import UNKNOWN, Truth
from myelonav.patient.models import Analyte, CarTEpisode, LabResult, PatientRecord
from myelonav.picture.car_t import CarTOutcome


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact. ``clinical`` carries the dates and values; ``plain`` says it for a patient."""

    name: str
    value: Any
    clinical: str
    plain: str
    sources: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN

    def truth(self) -> Truth:
        """A boolean fact as three-valued truth (non-boolean known values are unknown)."""
        if self.value is True:
            return Truth.true
        if self.value is False:
            return Truth.false
        return Truth.unknown

    def shown(self) -> Any:
        """The value as JSON can hold it (``None`` for unknown, sorted lists for sets)."""
        if self.value is UNKNOWN:
            return None
        if isinstance(self.value, frozenset | set):
            return sorted(self.value)
        return self.value


@dataclass(frozen=True, slots=True)
class DataNote:
    """A value in the record that could not be used, and what that means."""

    field: str
    message: str
    plain: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "plain": self.plain}


@dataclass(frozen=True, slots=True)
class Exposure:
    """One agent the patient received, judged on the course it was given in."""

    agent: str
    classes: frozenset[str]
    known: bool  # resolved through the drug vocabulary (or a CAR T target)
    start: dt.date | None
    end: dt.date | None  # None with ongoing=True: still taking it
    ongoing: bool
    refractory: bool | None  # IMWG: < MR, or progression on or within 60 days of last dose
    refractory_why: str
    stopped_for_progression: bool
    source: str  # regimen label, "CAR T" or "bridging before CAR T"
    target: str | None = None
    stopped: bool = False  # the course has a stop reason other than ongoing/unknown


@dataclass(frozen=True)
class ClinicalPicture:
    """The patient on one date, read once from the record."""

    record: PatientRecord
    as_of: dt.date
    facts: Mapping[str, Fact]
    exposures: tuple[Exposure, ...]
    car_t_episodes: tuple[CarTEpisode, ...]
    car_t: CarTOutcome | None
    line_count: int
    regimen_count: int
    treated: bool
    current_labs: Mapping[Analyte, LabResult]
    stale_labs: Mapping[Analyte, LabResult]
    notes: tuple[DataNote, ...] = ()
    _values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._values.update({name: f.value for name, f in self.facts.items()})

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.facts.values())

    @property
    def values(self) -> Mapping[str, Any]:
        """Fact name → value (``UNKNOWN`` when not known), as rule trees read them."""
        return self._values

    def fact(self, name: str) -> Fact:
        found = self.facts.get(name)
        if found is None:
            return Fact(name, UNKNOWN, f"{name} not computed", f"{name} is not known")
        return found

    def value(self, name: str) -> Any:
        return self._values.get(name, UNKNOWN)

    def known(self, name: str) -> bool:
        return self.value(name) is not UNKNOWN

    def describe(self, name: str) -> str:
        return self.fact(name).clinical

    def lab(self, analyte: Analyte) -> LabResult | None:
        """The latest result on or before the as-of date, if current; else ``None``."""
        return self.current_labs.get(analyte)

    def facts_json(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "value": f.shown(),
                "known": f.known,
                "source": f.clinical,
                "plain": f.plain,
            }
            for name, f in self.facts.items()
        }


__all__ = ["ClinicalPicture", "DataNote", "Exposure", "Fact"]
