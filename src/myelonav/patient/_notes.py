"""Facts that records state in free text: line notes, stop reasons, responses, qualitative results.

The line-note convention (``line 3; best response VGPR; stopped: progression; refractory;
regimen: a + b``) is what myelonav's own export writes and what several EHR extracts use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from myelonav.patient.models import Qualitative, ResponseCategory, StopReason

_LINE = re.compile(r"\bline\s*(?:of therapy\s*)?(?:#\s*)?(\d{1,2})\b", re.I)
_BEST = re.compile(r"best\s+response\s*(?:[:=]\s*)?(sCR|CR|VGPR|PR|MR|SD|PD)\b", re.I)
_STOPPED = re.compile(r"stopped\s*[:=]\s*([a-z _-]+)", re.I)
_REFRACTORY = re.compile(r"(?<!not )(?<!non-)(?<!non )\brefractory\b", re.I)
_REGIMEN = re.compile(r"regimen\s*[:=]\s*([^;|]+)", re.I)

_LYMPHODEPLETION = re.compile(r"lymphodeplet", re.I)
_BRIDGING = re.compile(r"\bbridg", re.I)

_RESPONSES = {r.value.lower(): r for r in ResponseCategory}


@dataclass(frozen=True)
class LineNote:
    line_number: int | None = None
    best_response: ResponseCategory | None = None
    stop_reason: StopReason | None = None
    refractory: bool | None = None
    regimen: str | None = None
    lymphodepletion: bool = False
    bridging: bool = False


T = TypeVar("T")


def first_match(text: str, table: list[tuple[re.Pattern[str], T]]) -> T | None:
    """The value of the first (pattern, value) row whose pattern occurs in lower-cased ``text``."""
    lowered = text.strip().lower()
    if not lowered:
        return None
    return next((value for pattern, value in table if pattern.search(lowered)), None)


_STOP_REASONS: list[tuple[re.Pattern[str], StopReason]] = [
    (re.compile(r"progress|relapse|refractory|rising"), StopReason.progression),
    (re.compile(r"toxic|adverse|side effect|intoleran|neuropathy"), StopReason.toxicity),
    (re.compile(r"complet|planned|finished"), StopReason.completed),
    (
        re.compile(r"patient (choice|decision|preference)|declined|patient request"),
        StopReason.patient_choice,
    ),
    (re.compile(r"ongoing|continuing|active"), StopReason.ongoing),
    (re.compile(r"^unknown$|not known"), StopReason.unknown),  # what the export writes
    (re.compile(r"."), StopReason.other),
]
_QUALITATIVE: list[tuple[re.Pattern[str], Qualitative]] = [
    (re.compile(r"not detected|negative|absent|undetectable|\bneg\b"), Qualitative.negative),
    (re.compile(r"positive|detected|present|\bpos\b"), Qualitative.positive),
    (re.compile(r"\bhigh\b|elevated|above|increased"), Qualitative.high),
    (re.compile(r"\blow\b|below|decreased|reduced|dim"), Qualitative.low),
    (re.compile(r"normal|within"), Qualitative.normal),
]


def stop_reason_from_text(text: str) -> StopReason | None:
    return first_match(text, _STOP_REASONS)


def parse_line_note(text: str) -> LineNote:
    if not text:
        return LineNote()
    line = _LINE.search(text)
    best = _BEST.search(text)
    stopped = _STOPPED.search(text)
    regimen = _REGIMEN.search(text)
    best_response = None
    if best:
        key = best.group(1).lower()
        best_response = _RESPONSES.get(key) or _RESPONSES.get(best.group(1))
        if best.group(1) == "sCR":
            best_response = ResponseCategory.sCR
    return LineNote(
        line_number=int(line.group(1)) if line else None,
        best_response=best_response,
        stop_reason=stop_reason_from_text(stopped.group(1)) if stopped else None,
        refractory=True if _REFRACTORY.search(text) else None,
        regimen=regimen.group(1).strip() if regimen else None,
        lymphodepletion=bool(_LYMPHODEPLETION.search(text)),
        bridging=bool(_BRIDGING.search(text)),
    )


def qualitative_from_text(text: str) -> Qualitative | None:
    return first_match(text, _QUALITATIVE)


def interpretation_code(code: str) -> Qualitative | None:
    return {
        "H": Qualitative.high,
        "HH": Qualitative.high,
        "HU": Qualitative.high,
        "L": Qualitative.low,
        "LL": Qualitative.low,
        "LU": Qualitative.low,
        "N": Qualitative.normal,
        "POS": Qualitative.positive,
        "DET": Qualitative.positive,
        "NEG": Qualitative.negative,
        "ND": Qualitative.negative,
    }.get(code.upper())


__all__ = [
    "LineNote",
    "first_match",
    "interpretation_code",
    "parse_line_note",
    "qualitative_from_text",
    "stop_reason_from_text",
]
