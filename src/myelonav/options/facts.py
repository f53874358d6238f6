"""The options engine's view of the clinical picture: the facts its rules may read.

Nothing is derived here: every value comes from ``myelonav.picture``; this module only keeps
the closed table of facts the knowledge base's rules are allowed to name (``schema.FACTS``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from myelonav.knowledge.schema import FACTS
from myelonav.logic import UNKNOWN
from myelonav.patient.models import PatientRecord
from myelonav.picture import CarTOutcome, ClinicalPicture, clinical_picture


@dataclass
class Facts:
    """Fact values (``UNKNOWN`` when not known) and, for each, what it was computed from."""

    as_of: dt.date
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)
    car_t: CarTOutcome | None = None
    picture: ClinicalPicture | None = None

    def set(self, name: str, value: Any, source: str) -> None:
        """Override one fact (what-if views and tests); the name must be a rule fact."""
        if name not in FACTS:
            raise KeyError(f"{name!r} is not a fact in knowledge.schema.FACTS")
        self.values[name] = value
        self.sources[name] = source
        self.plain[name] = source

    def unknown(self, name: str, why: str) -> None:
        self.set(name, UNKNOWN, why)

    def known(self, name: str) -> bool:
        return self.values.get(name, UNKNOWN) is not UNKNOWN

    def describe(self, name: str) -> str:
        return self.sources.get(name, f"{name} not computed")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FACTS:
            value = self.values.get(name, UNKNOWN)
            if value is UNKNOWN:
                shown: Any = None
            elif isinstance(value, frozenset | set):
                shown = sorted(value)
            else:
                shown = value
            out[name] = {
                "value": shown,
                "known": value is not UNKNOWN,
                "source": self.describe(name),
                "plain": self.plain.get(name, self.describe(name)),
            }
        return out


def facts_from_picture(picture: ClinicalPicture) -> Facts:
    facts = Facts(as_of=picture.as_of, car_t=picture.car_t, picture=picture)
    for name in FACTS:
        fact = picture.fact(name)
        facts.values[name] = fact.value
        facts.sources[name] = fact.clinical
        facts.plain[name] = fact.plain
    return facts


def compute_facts(
    record: PatientRecord, as_of: dt.date, picture: ClinicalPicture | None = None
) -> Facts:
    """The rule facts; ``picture`` when the caller has already read the record."""
    return facts_from_picture(picture or clinical_picture(record, as_of))


__all__ = ["Facts", "compute_facts", "facts_from_picture"]
