"""Load and validate the curated support content (YAML under ``support/data``).

Content is data: code only loads it, checks it against the strict schemas and hands
out typed objects. A broken file raises ``KnowledgeError`` naming the file and field.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from myelonav.datafiles import load_content_file, parse_content
from myelonav.support.schemas import (
    DistressFile,
    EducationFile,
    ResourceFile,
    ScheduleFile,
    TriageFile,
)

DATA_PACKAGE = "myelonav.support"


def _read(name: str) -> str:
    return resources.files(DATA_PACKAGE).joinpath(f"data/{name}").read_text(encoding="utf-8")


load_file = load_content_file


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
