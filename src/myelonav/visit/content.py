"""Load and validate the curated visit content (YAML under ``visit/data``).

A broken file raises ``KnowledgeError`` naming the file and the field path.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from myelonav.errors import KnowledgeError
from myelonav.visit.schemas import CentreFile, ChecklistFile, QuestionFile, ThresholdFile

M = TypeVar("M", bound=BaseModel)


def parse_content(text: str, model: type[M], source: str) -> M:
    """Validate YAML text against ``model``; top-level keys starting with ``_`` only hold
    YAML anchors and are dropped."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise KnowledgeError(f"not valid YAML: {exc}", location=where) from None
    if not isinstance(data, dict):
        raise KnowledgeError("the file must be a mapping", location=source)
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"]) or "(root)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise KnowledgeError(f"{err['msg']}{more}", location=f"{source}: {path}") from None


def load_file(path: str | Path, model: type[M]) -> M:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read: {exc.strerror}", location=str(p)) from None
    return parse_content(text, model, str(p))


def _bundled(name: str, model: type[M]) -> M:
    text = resources.files("myelonav.visit").joinpath(f"data/{name}").read_text("utf-8")
    return parse_content(text, model, f"visit/data/{name}")


@cache
def question_content() -> QuestionFile:
    return _bundled("questions.yaml", QuestionFile)


@cache
def checklist_content() -> ChecklistFile:
    return _bundled("checklist.yaml", ChecklistFile)


@cache
def centre_content() -> CentreFile:
    return _bundled("centres.yaml", CentreFile)


@cache
def threshold_content() -> ThresholdFile:
    return _bundled("lab_thresholds.yaml", ThresholdFile)


__all__ = [
    "centre_content",
    "checklist_content",
    "load_file",
    "parse_content",
    "question_content",
    "threshold_content",
]
