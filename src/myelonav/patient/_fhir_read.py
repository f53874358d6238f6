"""Small, defensive readers for FHIR JSON: every wrong shape becomes an error naming its path."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from myelonav.errors import ImportError_
from myelonav.patient._safe_json import number_too_large

_MAX_INT = 10**15
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?")


def fail(path: str, message: str) -> ImportError_:
    return ImportError_(message, location=path)


def as_dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(path, f"expected a JSON object, found {type(value).__name__}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(path, f"expected a JSON array, found {type(value).__name__}")
    return value


def as_str(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(path, f"expected a string, found {type(value).__name__}")
    return value


def as_number(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, f"expected a number, found {type(value).__name__}")
    if too_large(value) and value == value:
        raise fail(path, "value too large")
    number = float(value)
    if number != number:
        raise fail(path, "expected a finite number")
    return number


def too_large(value: Any) -> bool:
    """True for a JSON number no record field can hold (checked before any conversion)."""
    kind = type(value)
    if kind is float:
        return number_too_large(value)
    if kind is int:
        return bool(value > _MAX_INT or value < -_MAX_INT)
    if kind is bool or kind is str or value is None:
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) > _MAX_INT
    return isinstance(value, float) and number_too_large(value)


def parse_date(value: Any, path: str) -> dt.date | None:
    """A FHIR date or dateTime (year, year-month or full); partial dates take the first day."""
    text = as_str(value, path)
    if text is None:
        return None
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # the common full date, without the regex
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # the general path below names the problem
    match = _DATE.fullmatch(text.strip())
    if not match:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise fail(path, f"{shown!r} is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise fail(path, f"{text.strip()[:40]!r} is not a real calendar date") from None


def codings(concept: Any, path: str) -> list[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept."""
    if concept is None:
        return []
    concept = as_dict(concept, path)
    pairs: list[tuple[str, str]] = []
    for i, coding in enumerate(as_list(concept.get("coding"), f"{path}.coding")):
        coding = as_dict(coding, f"{path}.coding[{i}]")
        system = as_str(coding.get("system"), f"{path}.coding[{i}].system") or ""
        code = coding.get("code")
        if isinstance(code, int | float) and not isinstance(code, bool):
            if isinstance(code, int) and abs(code) > 10**18:
                raise fail(f"{path}.coding[{i}].code", "value too large")
            code = str(code)
        code = as_str(code, f"{path}.coding[{i}].code")
        if code:
            pairs.append((system, code.strip()))
    return pairs


def concept_text(concept: Any, path: str) -> str:
    """Human text of a CodeableConcept: its text, else the displays of its codings."""
    if concept is None:
        return ""
    concept = as_dict(concept, path)
    text = as_str(concept.get("text"), f"{path}.text")
    if text:
        return text
    displays = []
    for i, coding in enumerate(as_list(concept.get("coding"), f"{path}.coding")):
        coding = as_dict(coding, f"{path}.coding[{i}]")
        display = as_str(coding.get("display"), f"{path}.coding[{i}].display")
        if display:
            displays.append(display)
    return "; ".join(displays)


def notes(resource: dict[str, Any], path: str) -> str:
    texts = []
    for i, note in enumerate(as_list(resource.get("note"), f"{path}.note")):
        note = as_dict(note, f"{path}.note[{i}]")
        text = as_str(note.get("text"), f"{path}.note[{i}].text")
        if text:
            texts.append(text)
    return " | ".join(texts)


def references(value: Any, path: str) -> list[str]:
    refs = []
    for i, item in enumerate(as_list(value, path)):
        item = as_dict(item, f"{path}[{i}]")
        ref = as_str(item.get("reference"), f"{path}[{i}].reference")
        if ref:
            refs.append(ref)
    return refs


def effective_period(
    resource: dict[str, Any], path: str, prefix: str
) -> tuple[dt.date | None, dt.date | None]:
    """Start and end from ``<prefix>DateTime`` / ``<prefix>Period`` (e.g. effective, performed)."""
    single = parse_date(resource.get(f"{prefix}DateTime"), f"{path}.{prefix}DateTime")
    if single is not None:
        return single, single
    period = resource.get(f"{prefix}Period")
    if period is None:
        return None, None
    period = as_dict(period, f"{path}.{prefix}Period")
    start = parse_date(period.get("start"), f"{path}.{prefix}Period.start")
    end = parse_date(period.get("end"), f"{path}.{prefix}Period.end")
    if start and end and end < start:
        raise fail(f"{path}.{prefix}Period", f"end {end} is before start {start}")
    return start, end
