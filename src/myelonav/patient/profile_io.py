"""Read and write the project's own patient profile (JSON or YAML), atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from myelonav.atomic import write_text_atomic
from myelonav.errors import RecordValidationError
from myelonav.patient.models import PatientRecord, Preferences


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so pydantic checks them and names the field."""


_PlainLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML (or JSON) text without turning dates into objects."""
    return yaml.load(text, Loader=_PlainLoader)


def first_error(exc: ValidationError, source: str) -> RecordValidationError:
    """One clear error naming the first failing field path."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"]) or "(root)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return RecordValidationError(f"{err['msg']}{more}", location=f"{source}: {path}")


def record_from_data(data: Any, source: str = "profile") -> PatientRecord:
    if not isinstance(data, dict):
        raise RecordValidationError("a profile must be a mapping (JSON object)", location=source)
    try:
        return PatientRecord.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, source) from None


def parse_profile_text(text: str, source: str = "profile") -> PatientRecord:
    """Parse a profile from JSON or YAML text (YAML is a superset of JSON)."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise RecordValidationError(f"not valid JSON/YAML: {exc}", location=where) from None
    return record_from_data(data, source)


def load_profile(path: str | Path) -> PatientRecord:
    """Load a profile file (.json, .yaml or .yml)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordValidationError(f"cannot read file: {exc.strerror}", location=str(p)) from None
    return parse_profile_text(text, str(p))


def load_preferences(path: str | Path) -> Preferences:
    """Travel and goal preferences from a JSON/YAML file (kept beside a FHIR bundle)."""
    p = Path(path)
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordValidationError(f"cannot read file: {exc.strerror}", location=str(p)) from None
    except yaml.YAMLError as exc:
        raise RecordValidationError(f"not valid JSON/YAML: {exc}", location=str(p)) from None
    try:
        return Preferences.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, str(p)) from None


def dump_profile(record: PatientRecord) -> str:
    return json.dumps(
        record.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False
    )


def write_atomic(path: str | Path, text: str) -> None:
    """Write text so that readers see the old file or the new one, never half of either."""
    write_text_atomic(path, text)


def save_profile(record: PatientRecord, path: str | Path) -> None:
    write_atomic(path, dump_profile(record) + "\n")


__all__ = [
    "dump_profile",
    "first_error",
    "load_preferences",
    "load_profile",
    "load_yaml",
    "parse_profile_text",
    "record_from_data",
    "save_profile",
    "write_atomic",
]
