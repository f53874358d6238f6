"""Evidence freshness: what a curator should re-check, oldest first.

``review()`` lists every reviewed content entry (option files and the dated items of the
knowledge, support and visit data) by ``last_reviewed``, every approval with its date, and
every figure whose identifier is not a PMID or DOI (a label, guideline or meeting abstract:
``knowledge.identifiers``), so the curator knows where a PMID/DOI could still be added. The
schema refuses a figure with no checkable identifier, so the count of those is always 0.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import yaml

from myelonav.errors import InputError
from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.schema import Evidence, Option, SafetyData

_PERIOD = re.compile(r"(\d{1,4})([dwmy])")
_DAYS = {"d": 1, "w": 7, "m": 30.4375, "y": 365.25}
CONTENT_PACKAGES = ("myelonav.knowledge", "myelonav.support", "myelonav.visit")


@dataclass(frozen=True)
class ReviewedEntry:
    where: str
    name: str
    last_reviewed: dt.date


@dataclass(frozen=True)
class ApprovalEntry:
    option: str
    status: str
    region: str | None
    date: dt.date | None
    indication: str | None


@dataclass(frozen=True)
class FigureEntry:
    option: str
    study: str
    figures: list[str]
    identifier: str


@dataclass(frozen=True)
class Review:
    as_of: dt.date
    cutoff: dt.date | None
    entries: list[ReviewedEntry]
    approvals: list[ApprovalEntry]
    figures_without_pmid_or_doi: list[FigureEntry]

    @property
    def figures_without_primary_identifier(self) -> list[FigureEntry]:
        """Figures no reader could check (no PMID, DOI, label, guideline or abstract)."""
        return [f for f in self.figures_without_pmid_or_doi if f.identifier == "none"]

    def as_json(self) -> dict[str, Any]:
        def plain(obj: Any) -> Any:
            return {
                k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(obj).items()
            }

        return {
            "as_of": self.as_of.isoformat(),
            "older_than_cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "entries": [plain(e) for e in self.entries],
            "approvals": [plain(a) for a in self.approvals],
            "figures_without_pmid_or_doi": [plain(f) for f in self.figures_without_pmid_or_doi],
            "figures_without_primary_identifier": [
                plain(f) for f in self.figures_without_primary_identifier
            ],
        }


def parse_period(text: str) -> dt.timedelta:
    """``6m``, ``90d``, ``2w``, ``1y`` as a time span; anything else is an input error."""
    match = _PERIOD.fullmatch(text.strip().lower())
    if match is None:
        raise InputError(
            f"--older-than must look like 6m, 90d, 2w or 1y, not {text!r}", location="older_than"
        )
    return dt.timedelta(days=round(int(match.group(1)) * _DAYS[match.group(2)]))


def _dated_items(data: Any, path: str) -> Iterator[tuple[str, dt.date]]:
    if isinstance(data, Mapping):
        reviewed = data.get("last_reviewed")
        if isinstance(reviewed, dt.date):
            label = data.get("id") or data.get("name") or data.get("title")
            yield (f"{path} ({label})" if label else path or "(file)"), reviewed
        for key, value in data.items():
            if key != "last_reviewed":
                yield from _dated_items(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _dated_items(value, f"{path}[{i}]")


def _content_entries() -> list[ReviewedEntry]:
    found: list[ReviewedEntry] = []
    for package in CONTENT_PACKAGES:
        root = resources.files(package) / "data"
        for child in sorted(root.iterdir(), key=lambda c: c.name):
            if not child.name.endswith(".yaml"):
                continue
            data = yaml.safe_load(child.read_text(encoding="utf-8"))
            for name, reviewed in _dated_items(data, ""):
                found.append(ReviewedEntry(f"{package}/{child.name}", name, reviewed))
    return found


def _figures(option: Option) -> Iterator[FigureEntry]:
    entries: list[Evidence | SafetyData] = [*option.evidence, *option.safety.data]
    for entry in entries:
        names = sorted(entry.figures())
        if isinstance(entry, Evidence) and entry.n is not None:
            names.append("n")
        if not names or entry.citation is None or entry.citation.has_pmid_or_doi():
            continue
        yield FigureEntry(
            option=option.id,
            study=entry.study,
            figures=names,
            identifier=entry.citation.checkable_identifier() or "none",
        )


def review(
    as_of: dt.date,
    older_than: dt.timedelta | None = None,
    options: Mapping[str, Option] | None = None,
) -> Review:
    catalogue = options if options is not None else bundled_options()
    cutoff = as_of - older_than if older_than is not None else None
    entries = [
        ReviewedEntry(f"options/{o.id}.yaml", o.name, o.last_reviewed) for o in catalogue.values()
    ]
    entries += [e for e in _content_entries() if "/options" not in e.where]
    if cutoff is not None:
        entries = [e for e in entries if e.last_reviewed < cutoff]
    entries.sort(key=lambda e: (e.last_reviewed, e.where, e.name))
    approvals = [
        ApprovalEntry(o.id, a.status, a.region, a.date, a.indication)
        for o in catalogue.values()
        for a in o.approval
    ]
    approvals.sort(key=lambda a: (a.date or dt.date.min, a.option), reverse=True)
    figures = [f for o in catalogue.values() for f in _figures(o)]
    return Review(as_of, cutoff, entries, approvals, figures)


def render_review(result: Review) -> str:
    lines = [f"Knowledge review as of {result.as_of.isoformat()}"]
    head = (
        f"Entries last reviewed before {result.cutoff.isoformat()}"
        if result.cutoff
        else "Entries by last review date"
    )
    lines += ["", f"{head} ({len(result.entries)}):"]
    lines += [f"  {e.last_reviewed.isoformat()}  {e.where}: {e.name}" for e in result.entries]
    lines += ["", f"Approvals ({len(result.approvals)}), newest first:"]
    for a in result.approvals:
        when = a.date.isoformat() if a.date else "no date"
        text = " ".join((a.indication or "").split())
        lines.append(f"  {when}  {a.option}: {a.status} {a.region or ''} - {text}".rstrip())
    lines += [
        "",
        f"Figures cited without a PMID or DOI ({len(result.figures_without_pmid_or_doi)}); "
        "a label, guideline or meeting abstract identifies each source:",
    ]
    for f in result.figures_without_pmid_or_doi:
        lines.append(f"  {f.option}: {f.study} [{', '.join(f.figures)}] <- {f.identifier}")
    unchecked = result.figures_without_primary_identifier
    lines += ["", f"Figures without a primary identifier: {len(unchecked)}"]
    lines += [f"  {f.option}: {f.study} [{', '.join(f.figures)}]" for f in unchecked]
    return "\n".join(lines)


__all__ = [
    "ApprovalEntry",
    "FigureEntry",
    "Review",
    "ReviewedEntry",
    "parse_period",
    "render_review",
    "review",
]
