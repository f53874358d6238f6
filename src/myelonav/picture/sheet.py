"""The sheet the picture's sections write their facts and data-quality notes on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from myelonav.logic import UNKNOWN
from myelonav.picture.model import DataNote, Fact


@dataclass
class FactSheet:
    facts: dict[str, Fact] = field(default_factory=dict)
    notes: list[DataNote] = field(default_factory=list)

    def set(
        self,
        name: str,
        value: Any,
        clinical: str,
        plain: str | None = None,
        sources: tuple[str, ...] = (),
    ) -> None:
        if name in self.facts:
            raise AssertionError(f"fact {name!r} derived twice")
        self.facts[name] = Fact(name, value, clinical, plain or clinical, sources)

    def unknown(self, name: str, why: str, plain: str | None = None) -> None:
        self.set(name, UNKNOWN, why, plain)

    def note(self, field_name: str, message: str, plain: str) -> None:
        note = DataNote(field_name, message, plain)
        if note not in self.notes:
            self.notes.append(note)

    def value(self, name: str) -> Any:
        fact = self.facts.get(name)
        return UNKNOWN if fact is None else fact.value


__all__ = ["FactSheet"]
