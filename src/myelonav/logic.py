"""The one three-valued logic every engine uses (options rules, trial eligibility, question
triggers, symptom triage).

Kleene's strong three-valued logic: ``all`` is false if any part is false, else unknown if
any part is unknown, else true; ``any`` is true if any part is true, else unknown if any
part is unknown, else false; ``not`` flips true and false and keeps unknown. An unknown fact
can therefore never make a rule look satisfied, nor make a requirement look failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, Final


class Truth(Enum):
    true = "true"
    false = "false"
    unknown = "unknown"

    @staticmethod
    def of(value: bool | None) -> Truth:
        """``None`` (not known) is unknown."""
        if value is None:
            return Truth.unknown
        return Truth.true if value else Truth.false

    def negate(self) -> Truth:
        if self is Truth.unknown:
            return self
        return Truth.false if self is Truth.true else Truth.true

    def __invert__(self) -> Truth:
        return self.negate()

    def __and__(self, other: Truth) -> Truth:
        return all_of((self, other))

    def __or__(self, other: Truth) -> Truth:
        return any_of((self, other))

    @property
    def known(self) -> bool:
        return self is not Truth.unknown


class _Unknown:
    """The value of a fact the engine could not compute from the record."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final[Any] = _Unknown()


def all_of(parts: Iterable[Truth]) -> Truth:
    """Kleene conjunction (true for no parts)."""
    result = Truth.true
    for part in parts:
        if part is Truth.false:
            return Truth.false
        if part is Truth.unknown:
            result = Truth.unknown
    return result


def any_of(parts: Iterable[Truth]) -> Truth:
    """Kleene disjunction (false for no parts)."""
    result = Truth.false
    for part in parts:
        if part is Truth.true:
            return Truth.true
        if part is Truth.unknown:
            result = Truth.unknown
    return result


__all__ = ["UNKNOWN", "Truth", "all_of", "any_of"]
