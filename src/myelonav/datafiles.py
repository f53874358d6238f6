"""What every curated data file (support and visit content) shares: the strict base model,
the citation model and the YAML loader that names the file and field on any error.

The option files of ``knowledge/`` have their own richer citation schema; these are for the
shorter content pieces (label schedules, triage rules, resources, questions, checklists).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from myelonav.errors import KnowledgeError


class Strict(BaseModel):
    """Frozen, and unknown keys are an error: a typo in a data file fails at load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(Strict):
    """A source a figure or rule was read from: journal article, FDA label or web page."""

    label: str = Field(min_length=3, description="What it is: trial, guideline, label, page.")
    source: str = Field(min_length=2, description="Journal, agency or publisher.")
    year: int = Field(ge=1990, le=2030)
    url: str | None = Field(None, pattern=r"^https?://")
    pmid: str | None = Field(None, pattern=r"^[0-9]{6,9}$")
    doi: str | None = Field(None, pattern=r"^10\.")

    @model_validator(mode="after")
    def _locatable(self) -> Citation:
        if not (self.url or self.pmid or self.doi):
            raise ValueError("a citation needs a url, pmid or doi")
        return self

    def short(self) -> str:
        where = [f"doi:{self.doi}" if self.doi else "", f"PMID {self.pmid}" if self.pmid else ""]
        where.append(self.url or "")
        year = "" if str(self.year) in self.source else f" {self.year}"
        return f"{self.label}. {self.source}{year}. " + "; ".join(w for w in where if w)


M = TypeVar("M", bound=BaseModel)


def parse_content(text: str, model: type[M], source: str) -> M:
    """Validate YAML text against ``model``; errors name the file and the field path.

    Top-level keys starting with ``_`` only hold YAML anchors (shared citations) and are
    dropped before validation.
    """
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


def load_content_file(path: str | Path, model: type[M]) -> M:
    """Load and validate a content file from disk (e.g. an edited copy before shipping)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read: {exc.strerror}", location=str(p)) from None
    return parse_content(text, model, str(p))


__all__ = ["Citation", "M", "Strict", "load_content_file", "parse_content"]
