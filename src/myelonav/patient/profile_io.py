"""Read and write the project's own patient profile (JSON or YAML), atomically.

This is the one profile reader: every command, the web app and the samples read profiles through
``parse_profile_text`` / ``load_profile`` / ``record_from_data``. JSON text is read as JSON (with
the importer's limits), anything else as YAML without aliases; every string is cleaned of what a
profile cannot hold before validation, and every profile written is cleaned the same way, so what
one command writes every other command can read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from myelonav.atomic import write_text_atomic
from myelonav.errors import ImportError_, RecordValidationError
from myelonav.patient._safe_json import MAX_JSON_BYTES, loads_limited, sanitize
from myelonav.patient.models import PatientRecord, Preferences


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so pydantic checks them and names the field."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # aliases let a few lines expand into an exponentially large document; no profile needs them
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a profile", event.start_mark
            )
        return super().compose_node(parent, index)


_PlainLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML (or JSON) text without turning dates into objects."""
    return yaml.load(text, Loader=_PlainLoader)


def _parse_data(text: str, source: str) -> Any:
    """JSON or YAML text → plain data, within limits; errors are ``RecordValidationError``."""
    if len(text) > MAX_JSON_BYTES:
        raise RecordValidationError(
            f"the file is larger than {MAX_JSON_BYTES // (1024 * 1024)} MB", location=source
        )
    if text.lstrip().startswith(("{", "[")):
        try:
            return loads_limited(text, source, what="JSON profile")
        except ImportError_ as exc:
            raise RecordValidationError(exc.message, location=exc.location) from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise RecordValidationError(f"not valid JSON/YAML: {exc}", location=where) from None
    except ValueError:  # YAML resolves a 4,300+ digit integer with int(), which refuses it
        raise RecordValidationError(
            "not valid JSON/YAML: a number has too many digits", location=source
        ) from None
    except RecursionError:
        raise RecordValidationError(
            "not valid JSON/YAML: nested too deeply", location=source
        ) from None


def _read_text(path: str | Path) -> str:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RecordValidationError(f"cannot read file: {exc.strerror}", location=str(p)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordValidationError(f"not UTF-8 text (byte {exc.start})", location=str(p)) from None


def first_error(exc: ValidationError, source: str) -> RecordValidationError:
    """One clear error naming the first failing field path."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"]) or "(root)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return RecordValidationError(f"{err['msg']}{more}", location=f"{source}: {path}")


def record_from_data(data: Any, source: str = "profile") -> PatientRecord:
    """Validate parsed profile data (cleaning its text first) into a record."""
    if not isinstance(data, dict):
        raise RecordValidationError("a profile must be a mapping (JSON object)", location=source)
    try:
        data = sanitize(data, source)
    except ImportError_ as exc:
        raise RecordValidationError(exc.message, location=exc.location) from None
    try:
        return PatientRecord.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, source) from None


def parse_profile_text(text: str, source: str = "profile") -> PatientRecord:
    """Parse a profile from JSON or YAML text: the one way every command reads a profile."""
    return record_from_data(_parse_data(text, source), source)


def load_profile(path: str | Path) -> PatientRecord:
    """Load a profile file (.json, .yaml or .yml)."""
    return parse_profile_text(_read_text(path), str(path))


def load_preferences(path: str | Path) -> Preferences:
    """Travel and goal preferences from a JSON/YAML file (kept beside a FHIR bundle)."""
    source = str(path)
    data = _parse_data(_read_text(path), source)
    try:
        data = sanitize(data, source)
    except ImportError_ as exc:
        raise RecordValidationError(exc.message, location=exc.location) from None
    try:
        return Preferences.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, source) from None


_YAML_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def dump_profile(record: PatientRecord) -> str:
    """The profile as JSON text; any text a profile cannot hold is written escaped."""
    data = sanitize(record.model_dump(mode="json", exclude_none=True), "profile")
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # YAML readers fold these line breaks inside strings; JSON escapes keep them exact for both
    return text.translate(_YAML_LINE_BREAKS)


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
