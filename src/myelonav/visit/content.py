"""Load and validate the curated visit content (YAML under ``visit/data``).

A broken file raises ``KnowledgeError`` naming the file and the field path.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from myelonav.datafiles import M, load_content_file, parse_content
from myelonav.visit.schemas import CentreFile, ChecklistFile, QuestionFile, ThresholdFile

load_file = load_content_file


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
