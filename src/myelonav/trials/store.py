"""The trial store interface: what every backend (SQLite today, PostgreSQL later) provides.

A store keeps, per study, the raw v2 record (lossless), the typed ``Study``, a full-text
index, site coordinates, and optionally the output of an eligibility-criteria parser run at
store time (``parse_criteria``). Writes are all-or-nothing:

- ``import_studies`` writes a batch in one transaction (a failed import changes nothing);
- a sync stages pages into a *run* (``open_run`` / ``stage_page``, committed page by page so a
  killed sync can resume from its saved page token) and ``commit_run`` swaps the staged
  studies into the live snapshot in one transaction. Until then readers see the old snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from myelonav.trials.geo import NearestSite, Point
from myelonav.trials.models import Study

CriteriaParser = Callable[[Study], dict[str, Any]]
"""Turns a study's eligibility text into JSON-able structured criteria (run at store time)."""


@dataclass(frozen=True)
class StudyRecord:
    """A study as read from a source, with the raw v2 record it came from."""

    study: Study
    raw: dict[str, Any]


@dataclass(frozen=True)
class SearchQuery:
    """Free text plus filters; every filter is optional and filters combine with AND."""

    text: str = ""
    statuses: Sequence[str] = ()  # overall status, any of
    phases: Sequence[str] = ()  # any of
    drug_classes: Sequence[str] = ()  # vocabulary classes, any of
    targets: Sequence[str] = ()  # BCMA, GPRC5D, FcRH5 …, any of
    near: Point | None = None
    within_miles: float | None = None  # needs ``near``; distance to the nearest RECRUITING site
    include_samples: bool = True
    limit: int = 20


@dataclass(frozen=True)
class SearchHit:
    study: Study
    score: float  # higher is better; 0 when there was no text query
    nearest: NearestSite | None = None


@dataclass(frozen=True)
class RunState:
    """A sync run: the query it pulls and how far it got (for resuming)."""

    id: int
    key: str
    mode: str  # "full" | "incremental"
    params: dict[str, str]
    page_token: str | None
    pages: int
    studies: int
    fetched_all: bool
    started_at: dt.datetime
    resumed: bool = False


@dataclass
class StoreStats:
    studies: int = 0
    samples: int = 0
    sites: int = 0
    criteria_parsed: int = 0
    criteria_failed: int = 0
    last_sync: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApplyReport:
    written: int
    removed: int
    criteria_failed: int


@runtime_checkable
class TrialStore(Protocol):
    """Persistence and search for studies. Implementations: ``SqliteTrialStore``."""

    parse_criteria: CriteriaParser | None

    # reading
    def get(self, nct_id: str) -> Study | None: ...
    def get_raw(self, nct_id: str) -> dict[str, Any] | None: ...
    def parsed_criteria(self, nct_id: str) -> dict[str, Any] | None: ...
    def iter_studies(self, *, include_samples: bool = True) -> Iterator[Study]: ...
    def count(self, *, samples: bool | None = None) -> int: ...
    def stats(self) -> StoreStats: ...
    def is_populated(self) -> bool: ...
    def search(self, query: SearchQuery) -> list[SearchHit]: ...
    def get_models(self, nct_ids: Iterable[str]) -> dict[str, Study]: ...
    def version(self) -> str: ...  # changes with every write (cache key)

    # writing
    def import_studies(self, records: Iterable[StudyRecord], *, source: str) -> ApplyReport: ...
    def reparse_criteria(self) -> int: ...

    # sync runs
    def sync_cursor(self, key: str) -> dt.date | None: ...
    def open_run(self, key: str, mode: str, params: dict[str, str]) -> RunState: ...
    def stage_page(
        self, run_id: int, records: Sequence[StudyRecord], next_token: str | None
    ) -> RunState: ...
    def commit_run(
        self, run_id: int, *, cursor: dt.date, data_timestamp: str | None
    ) -> ApplyReport: ...
    def restart_run(self, run_id: int) -> RunState: ...
    def abandon_run(self, run_id: int) -> None: ...

    def close(self) -> None: ...


__all__ = [
    "ApplyReport",
    "CriteriaParser",
    "RunState",
    "SearchHit",
    "SearchQuery",
    "StoreStats",
    "StudyRecord",
    "TrialStore",
]
