"""Load and validate the curated support content (YAML under ``support/data``).

Content is data: code only loads it, checks it against the strict schemas and hands
out typed objects. A broken file raises ``KnowledgeError`` naming the file and field.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from myelonav.errors import KnowledgeError
from myelonav.support.schemas import (
    DistressFile,
    EducationFile,
    ResourceFile,
    ScheduleFile,
    TriageFile,
)

M = TypeVar("M", bound=BaseModel)

DATA_PACKAGE = "myelonav.support"


def parse_content(text: str, model: type[M], source: str) -> M:
    """Validate YAML text against ``model``; errors name the file and field path."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise KnowledgeError(f"not valid YAML: {exc}", location=where) from None
    if not isinstance(data, dict):
        raise KnowledgeError("the file must be a mapping", location=source)
    # Top-level keys starting with "_" only hold YAML anchors (shared citations).
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"]) or "(root)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise KnowledgeError(f"{err['msg']}{more}", location=f"{source}: {path}") from None


def _read(name: str) -> str:
    return resources.files(DATA_PACKAGE).joinpath(f"data/{name}").read_text(encoding="utf-8")


def load_file(path: str | Path, model: type[M]) -> M:
    """Load a content file from disk (used to validate edited copies before shipping)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read: {exc.strerror}", location=str(p)) from None
    return parse_content(text, model, str(p))


@cache
def schedules() -> ScheduleFile:
    return parse_content(_read("schedules.yaml"), ScheduleFile, "support/data/schedules.yaml")


@cache
def triage_rules() -> TriageFile:
    return parse_content(_read("triage.yaml"), TriageFile, "support/data/triage.yaml")


@cache
def resource_list() -> ResourceFile:
    return parse_content(_read("resources.yaml"), ResourceFile, "support/data/resources.yaml")


@cache
def distress_spec() -> DistressFile:
    return parse_content(_read("distress.yaml"), DistressFile, "support/data/distress.yaml")


@cache
def education() -> EducationFile:
    return parse_content(_read("education.yaml"), EducationFile, "support/data/education.yaml")


__all__ = [
    "distress_spec",
    "education",
    "load_file",
    "parse_content",
    "resource_list",
    "schedules",
    "triage_rules",
]
