"""Load and validate the curated visit content (YAML under ``visit/data``).

A broken file raises ``KnowledgeError`` naming the file and the field path.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from myelonav.datafiles import M, parse_content
from myelonav.errors import KnowledgeError
from myelonav.visit.schemas import CentreFile, ChecklistFile, QuestionFile, ThresholdFile


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
