"""Why a CAR T may not have held: validated entries of ``data/failure_explanations.yaml``.

Entries are data, in the option files' rule language; code only loads, validates and selects.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from myelonav.errors import KnowledgeError
from myelonav.knowledge.loader import load_yaml_strict
from myelonav.knowledge.schema import Citation, Node


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Explanation(_Model):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    applies_when: Node
    title_patient: str = Field(min_length=1)
    patient: str = Field(min_length=1)
    clinician: str = Field(min_length=1)
    citations: list[Citation] = Field(min_length=1)


class Explanations(_Model):
    schema_: Literal["myelonav.explanations/1"] = Field(alias="schema")
    last_reviewed: dt.date
    citations: dict[str, Citation] = Field(default_factory=dict)
    explanations: list[Explanation] = Field(min_length=1)


def parse_explanations(text: str, source: str) -> Explanations:
    try:
        data: Any = load_yaml_strict(text)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"not valid YAML: {exc}", location=source) from None
    try:
        return Explanations.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        raise KnowledgeError(str(err["msg"]), location=f"{source}: {path}") from None


@cache
def bundled_explanations() -> Explanations:
    path = resources.files("myelonav.knowledge").joinpath("data/failure_explanations.yaml")
    return parse_explanations(path.read_text("utf-8"), "failure_explanations.yaml")


__all__ = ["Explanation", "Explanations", "bundled_explanations", "parse_explanations"]
