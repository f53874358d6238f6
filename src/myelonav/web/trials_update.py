""""Update trials from ClinicalTrials.gov" in the web app: one sync at a time, in the background.

The sync itself is ``trials.sync.sync_condition``: every fetched page is staged in the trial
store with the token of the next page, so an update that is interrupted (the connection drops,
the server stops) continues where it stopped the next time it is started; the studies shown
change only when the whole update is in. A second request while one runs is told about the
running one. An optional automatic refresh (``MYELONAV_TRIALS_REFRESH_DAYS``) starts the same
update when the last one is older than that.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from myelonav.errors import MyelonavError, TrialsDataError, TrialsHTTPError
from myelonav.settings import Settings
from myelonav.trials.store import RunState
from myelonav.trials.sync import DEFAULT_CONDITION, sync_condition, sync_key
from myelonav.web.auth.principal import Principal

UPDATE_ROLES = ("local", "navigator", "clinician", "admin")


def may_update(who: Principal) -> bool:
    """Local mode: the person at this computer; clinic mode: navigators, clinicians, admins."""
    return who.role in UPDATE_ROLES


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class UpdateStatus:
    state: str = "idle"  # idle | running | done | failed
    trigger: str | None = None  # "manual" | "automatic"
    started_at: str | None = None
    finished_at: str | None = None
    resumed: bool = False
    mode: str | None = None  # "full" (everything) or "incremental" (changed since last time)
    pages: int = 0
    studies: int = 0
    total: int | None = None
    written: int | None = None
    removed: int | None = None
    error: str | None = None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, round(100 * self.studies / self.total)))

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"percent": self.percent}


def last_update(db: Path) -> str | None:
    """When the last update from ClinicalTrials.gov finished (ISO time), if ever."""
    from myelonav.trials.local import open_store

    store = open_store(db, seed_samples=False)
    try:
        raw = store.meta("sync:" + sync_key(DEFAULT_CONDITION))
    finally:
        store.close()
    if not raw:
        return None
    try:
        value = json.loads(raw).get("finished_at")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


def interrupted(db: Path) -> tuple[int, int] | None:
    """(pages, studies) of an update that was interrupted and will continue, if any."""
    from myelonav.trials.local import open_store

    store = open_store(db, seed_samples=False)
    try:
        return store.unfinished_run(sync_key(DEFAULT_CONDITION))
    finally:
        store.close()


def _plain_error(exc: Exception) -> str:
    if isinstance(exc, TrialsHTTPError):
        return ("ClinicalTrials.gov could not be reached or did not answer "
                f"({exc.message}). Check the internet connection and press Update again: "
                "it continues where it stopped.")
    if isinstance(exc, TrialsDataError):
        return ("ClinicalTrials.gov sent something myelonav could not read "
                f"({exc.message}). Try again later.")
    if isinstance(exc, MyelonavError):
        return f"The update stopped: {exc.message}. Press Update again to continue."
    return "The update stopped on an unexpected error. Press Update again to continue."


class TrialsUpdater:
    """At most one update at a time per app; progress in memory, the work in the store."""

    def __init__(self, db: Path, cfg: Settings,
                 client_factory: Callable[[], Any] | None = None) -> None:
        self.db = db
        self.cfg = cfg
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._status = UpdateStatus()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._auto: threading.Thread | None = None

    # ------------------------------------------------------------------ state
    def status(self) -> UpdateStatus:
        with self._lock:
            return UpdateStatus(**asdict(self._status))

    def running(self) -> bool:
        with self._lock:
            return self._status.state == "running"

    def start(self, trigger: str = "manual") -> bool:
        """Start an update; False when one is already running (nothing new is started)."""
        with self._lock:
            if self._status.state == "running":
                return False
            self._status = UpdateStatus(state="running", trigger=trigger, started_at=_now())
            self._thread = threading.Thread(target=self._run, name="trials-update",
                                            daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout_s: float = 60.0) -> UpdateStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return self.status()

    # ------------------------------------------------------------------ work
    def _client(self) -> Any:
        if self._client_factory is not None:
            return self._client_factory()
        from myelonav.trials.client import CtgovClient

        cfg = self.cfg
        return CtgovClient(base_url=cfg.ctgov_base_url, timeout_s=cfg.ctgov_timeout_s,
                           min_interval_s=cfg.ctgov_min_interval_s,
                           max_attempts=cfg.ctgov_max_attempts)

    def _run(self) -> None:
        from myelonav.trials.local import criteria_parser, open_store

        def started(run: RunState) -> None:
            with self._lock:
                self._status.resumed = run.resumed
                self._status.mode = run.mode
                self._status.pages = run.pages
                self._status.studies = run.studies

        def progress(studies: int, total: int | None) -> None:
            with self._lock:
                self._status.studies = studies
                self._status.pages += 1
                if total is not None:
                    self._status.total = total

        try:
            store = open_store(self.db, parse_criteria=criteria_parser(), seed_samples=False)
            try:
                with self._client() as client:
                    report = sync_condition(store, client, progress=progress,
                                            on_start=started,
                                            page_size=self.cfg.ctgov_page_size)
            finally:
                store.close()
        except Exception as exc:  # shown to the reader in plain words; the run stays resumable
            with self._lock:
                self._status.state = "failed"
                self._status.error = _plain_error(exc)
                self._status.finished_at = _now()
            return
        with self._lock:
            self._status.state = "done"
            self._status.written = report.written
            self._status.removed = report.removed
            self._status.studies = report.studies_fetched
            self._status.finished_at = _now()

    # ------------------------------------------------------------------ automatic refresh
    def due(self, now: dt.datetime | None = None) -> bool:
        """True when automatic refresh is on and the last update is older than the setting."""
        days = self.cfg.trials_refresh_days
        if days is None or days <= 0:
            return False
        last = last_update(self.db)
        if last is None:
            return True
        try:
            when = dt.datetime.fromisoformat(last)
        except ValueError:
            return True
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        now = now or dt.datetime.now(dt.UTC)
        return now - when >= dt.timedelta(days=days)

    def start_auto_refresh(self) -> bool:
        """Check now and then every ``trials_refresh_check_s``; False when the setting is off."""
        if self.cfg.trials_refresh_days is None or self.cfg.trials_refresh_days <= 0:
            return False

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    if self.due() and not self.running():
                        self.start("automatic")
                except MyelonavError:
                    pass  # an unreadable store is reported by the pages; try again later
                self._stop.wait(max(1.0, self.cfg.trials_refresh_check_s))

        self._auto = threading.Thread(target=loop, name="trials-auto-refresh", daemon=True)
        self._auto.start()
        return True

    def stop(self) -> None:
        self._stop.set()


__all__ = ["UPDATE_ROLES", "TrialsUpdater", "UpdateStatus", "interrupted", "last_update",
           "may_update"]
