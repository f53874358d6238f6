"""Keep the local store in step with ClinicalTrials.gov for one condition.

The first sync of a condition is a full pull; later ones ask only for studies whose
``LastUpdatePostDate`` is on or after the previous sync's start date
(``filter.advanced=AREA[LastUpdatePostDate]RANGE[date,MAX]``). Each fetched page is staged
with the token of the next page, so a sync that dies halfway resumes where it stopped; the
live snapshot changes only when ``commit_run`` swaps every staged study in at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from myelonav.errors import TrialsDataError, TrialsHTTPError
from myelonav.trials.client import CtgovClient
from myelonav.trials.models import Study
from myelonav.trials.store import RunState, StudyRecord, TrialStore

DEFAULT_CONDITION = "multiple myeloma"

ProgressCallback = Callable[[int, int | None], None]
"""Called after each page with (studies fetched so far, total reported by the API or None)."""

StartCallback = Callable[[RunState], None]
"""Called once the run is open: ``resumed`` says it continues an interrupted one."""


@dataclass(frozen=True)
class SyncReport:
    condition: str
    mode: str  # "full" | "incremental"
    resumed: bool
    committed: bool  # False when stopped early by max_pages (the run stays open)
    pages_fetched: int
    studies_fetched: int
    written: int
    removed: int
    criteria_failed: int
    since: dt.date | None
    cursor: dt.date
    data_timestamp: str | None


def sync_key(condition: str) -> str:
    return "cond:" + " ".join(condition.lower().split())


def sync_condition(
    store: TrialStore,
    client: CtgovClient,
    condition: str = DEFAULT_CONDITION,
    *,
    full: bool = False,
    page_size: int | None = None,
    progress: ProgressCallback | None = None,
    max_pages: int | None = None,
    today: dt.date | None = None,
    on_start: StartCallback | None = None,
) -> SyncReport:
    """Pull the condition's studies into ``store``; see the module docstring.

    ``max_pages`` stops after that many pages *without* committing (the run stays open and a
    later call resumes it); it exists for the resumability tests and for very slow links.
    """
    key = sync_key(condition)
    since = None if full else store.sync_cursor(key)
    mode = "full" if since is None else "incremental"
    params = CtgovClient.study_params(condition=condition, updated_since=since, page_size=page_size)
    run = store.open_run(key, mode, params)
    resumed = run.resumed
    if on_start is not None:
        on_start(run)
    # the cursor for next time: the day this run began, so nothing updated during it is missed
    cursor = today or run.started_at.date()
    data_timestamp: str | None = None
    try:
        data_timestamp = client.version().data_timestamp
    except (TrialsHTTPError, TrialsDataError):
        data_timestamp = None  # informational only; the sync itself can proceed

    pages_this_call = 0
    total: int | None = None
    while not run.fetched_all:
        if max_pages is not None and pages_this_call >= max_pages:
            return _report(
                condition,
                run,
                resumed,
                since,
                cursor,
                data_timestamp,
                written=0,
                removed=0,
                failed=0,
                pages=pages_this_call,
                committed=False,
            )
        try:
            page = client.studies_page(run.params, run.page_token, cache=False)
        except TrialsHTTPError as exc:
            if run.page_token and "HTTP 400" in exc.message:
                run = store.restart_run(run.id)  # the saved page token expired: start over
                continue
            raise
        records = []
        for index, raw in enumerate(page.studies):
            try:
                records.append(StudyRecord(study=Study.from_v2(raw), raw=raw))
            except TrialsDataError as exc:
                raise TrialsDataError(
                    exc.message,
                    location=f"page {run.pages + 1} studies[{index}]: {exc.location}",
                ) from None
        total = page.total_count if page.total_count is not None else total
        run = store.stage_page(run.id, records, page.next_page_token)
        pages_this_call += 1
        if progress is not None:
            progress(run.studies, total)

    report = store.commit_run(run.id, cursor=cursor, data_timestamp=data_timestamp)
    return _report(
        condition,
        run,
        resumed,
        since,
        cursor,
        data_timestamp,
        written=report.written,
        removed=report.removed,
        failed=report.criteria_failed,
        pages=pages_this_call,
        committed=True,
    )


def _report(
    condition: str,
    run: RunState,
    resumed: bool,
    since: dt.date | None,
    cursor: dt.date,
    data_timestamp: str | None,
    *,
    written: int,
    removed: int,
    failed: int,
    pages: int,
    committed: bool,
) -> SyncReport:
    return SyncReport(
        condition=condition,
        mode=run.mode,
        resumed=resumed,
        committed=committed,
        pages_fetched=pages,
        studies_fetched=run.studies,
        written=written,
        removed=removed,
        criteria_failed=failed,
        since=since,
        cursor=cursor,
        data_timestamp=data_timestamp,
    )


__all__ = [
    "DEFAULT_CONDITION",
    "ProgressCallback",
    "StartCallback",
    "SyncReport",
    "sync_condition",
    "sync_key",
]
