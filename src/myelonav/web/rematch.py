"""Batch re-match: a team's patients against today's stored trials, in the background.

One job per scope (a care team, or the local user) at a time, on a worker thread, calling
the same match service as the trials page (``services.trial_matches``). Progress and
results live in memory; each profile's likely/possible trial ids are kept so the next run
can flag trials that are new since the last one.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myelonav.store.profiles import SavedProfile
from myelonav.web.services import default_as_of, trial_matches

HOPEFUL = ("likely_eligible", "possibly_eligible")


@dataclass
class Job:
    total: int
    started_at: str
    done: int = 0
    finished_at: str | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return "done" if self.finished_at else "running"


class Rematcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._previous: dict[str, set[str]] = {}

    def status(self, scope: str) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(scope)
            if job is None:
                return {"state": "idle", "total": 0, "done": 0, "results": []}
            return {"state": job.state, "total": job.total, "done": job.done,
                    "started_at": job.started_at, "finished_at": job.finished_at,
                    "results": [{"profile_id": k, **v} for k, v in job.results.items()]}

    def new_trials(self, profile_id: str, scope: str) -> list[str]:
        with self._lock:
            job = self._jobs.get(scope)
            hit = job.results.get(profile_id) if job else None
            return list(hit.get("new_trials", [])) if hit else []

    def start(self, scope: str, profiles: list[SavedProfile], trials_db: Path) -> bool:
        """Start a run; False when one is already running for this scope."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            running = self._jobs.get(scope)
            if running is not None and running.state == "running":
                return False
            job = Job(total=len(profiles), started_at=now)
            self._jobs[scope] = job
        worker = threading.Thread(target=self._run, args=(job, profiles, trials_db),
                                  name=f"rematch-{scope}", daemon=True)
        worker.start()
        return True

    def wait(self, scope: str, timeout_s: float = 60.0) -> None:
        for thread in threading.enumerate():
            if thread.name == f"rematch-{scope}":
                thread.join(timeout_s)

    def _run(self, job: Job, profiles: list[SavedProfile], trials_db: Path) -> None:
        for saved in profiles:
            entry: dict[str, Any]
            try:
                result = trial_matches(saved.record, default_as_of(saved.record),
                                       trials_db=trials_db, limit=100)
                hopeful = {t["nct_id"] for t in result["trials"] if t["verdict"] in HOPEFUL}
                with self._lock:
                    before = self._previous.get(saved.id)
                    self._previous[saved.id] = hopeful
                new = sorted(hopeful - before) if before is not None else []
                entry = {"counts": result["counts"], "judged": result["judged"],
                         "new_trials": new}
            except Exception as exc:  # one bad record must not stop the batch
                entry = {"error": exc.__class__.__name__}
            with self._lock:
                job.results[saved.id] = entry
                job.done += 1
        with self._lock:
            job.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


__all__ = ["Job", "Rematcher"]
