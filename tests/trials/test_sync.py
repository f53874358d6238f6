"""Sync: full then incremental pulls, atomic swap, resume after a crash or a truncated page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from myelonav.errors import TrialsDataError, TrialsHTTPError
from myelonav.trials.client import CtgovClient
from myelonav.trials.local import open_store
from myelonav.trials.models import Study
from myelonav.trials.sqlite_store import SqliteTrialStore
from myelonav.trials.sync import sync_condition, sync_key

BASE = "https://ctgov.test/api/v2"


def record(n: int, *, updated: str = "2026-10-01", title: str | None = None) -> dict[str, Any]:
    nct = f"NCT{n:08d}"
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": title or f"Myeloma study {n}"},
            "statusModule": {
                "overallStatus": "RECRUITING",
                "lastUpdatePostDateStruct": {"date": updated, "type": "ACTUAL"},
            },
            "conditionsModule": {"conditions": ["Multiple Myeloma"]},
            "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Age >= 18"},
        },
        "hasResults": False,
    }


class FakeApi:
    """Serves /studies in pages of ``page_size`` with opaque tokens; can fail on demand."""

    def __init__(self, studies: list[dict[str, Any]], page_size: int = 2) -> None:
        self.studies = studies
        self.page_size = page_size
        self.requests: list[dict[str, str]] = []
        self.fail: Callable[[int, dict[str, str]], httpx.Response | None] = lambda i, p: None

    def _selected(self, params: dict[str, str]) -> list[dict[str, Any]]:
        since = params.get("filter.advanced")
        if not since:
            return self.studies
        day = since.split("RANGE[")[1].split(",")[0]
        return [
            s
            for s in self.studies
            if s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] >= day
        ]

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/version"):
            return httpx.Response(
                200, json={"apiVersion": "2.0.5", "dataTimestamp": "2026-11-24T08:00:00"}
            )
        params = dict(request.url.params)
        self.requests.append(params)
        failure = self.fail(len(self.requests), params)
        if failure is not None:
            return failure
        chosen = self._selected(params)
        start = int(params.get("pageToken", "tok-0").split("-")[1])
        body: dict[str, Any] = {"studies": chosen[start : start + self.page_size]}
        if start + self.page_size < len(chosen):
            body["nextPageToken"] = f"tok-{start + self.page_size}"
        if "pageToken" not in params:
            body["totalCount"] = len(chosen)
        return httpx.Response(200, json=body)

    def client(self) -> CtgovClient:
        return CtgovClient(
            base_url=BASE,
            transport=httpx.MockTransport(self.handler),
            min_interval_s=0.0,
            max_attempts=2,
            sleep=lambda s: None,
        )


def ids(store: SqliteTrialStore) -> list[str]:
    return [s.nct_id for s in store.iter_studies()]


@pytest.fixture
def store(tmp_path: Path) -> SqliteTrialStore:
    return open_store(tmp_path / "trials.sqlite3")


def test_first_sync_is_full_and_replaces_samples(store: SqliteTrialStore) -> None:
    assert store.count(samples=True) > 0
    api = FakeApi([record(i) for i in range(1, 6)])
    progress: list[tuple[int, int | None]] = []
    with api.client() as client:
        report = sync_condition(
            store, client, "Multiple  Myeloma", progress=lambda d, t: progress.append((d, t))
        )
    assert report.mode == "full" and report.committed and report.pages_fetched == 3
    assert ids(store) == [f"NCT{i:08d}" for i in range(1, 6)]
    assert store.count(samples=True) == 0
    assert "filter.advanced" not in api.requests[0]
    assert progress[-1] == (5, 5)
    assert store.sync_cursor(sync_key("multiple myeloma")) == report.cursor
    assert report.data_timestamp == "2026-11-24T08:00:00"


def test_second_sync_is_incremental_by_last_update(store: SqliteTrialStore) -> None:
    api = FakeApi([record(i, updated="2026-09-01") for i in range(1, 5)])
    with api.client() as client:
        sync_condition(store, client, today=dt.date(2026, 10, 1))
    api.studies[0] = record(1, updated="2026-10-05", title="Updated title for study 1")
    api.studies.append(record(9, updated="2026-10-06"))
    api.requests.clear()
    with api.client() as client:
        report = sync_condition(store, client, today=dt.date(2026, 10, 7))
    assert report.mode == "incremental" and report.since == dt.date(2026, 10, 1)
    assert api.requests[0]["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[2026-10-01,MAX]"
    assert report.written == 2 and report.removed == 0
    study = store.get("NCT00000001")
    assert study is not None and study.brief_title == "Updated title for study 1"
    assert len(ids(store)) == 5
    assert store.sync_cursor(sync_key("multiple myeloma")) == dt.date(2026, 10, 7)


def test_full_resync_drops_studies_no_longer_listed(store: SqliteTrialStore) -> None:
    api = FakeApi([record(i) for i in range(1, 5)])
    with api.client() as client:
        sync_condition(store, client)
    api.studies = api.studies[:2]
    with api.client() as client:
        report = sync_condition(store, client, full=True)
    assert report.mode == "full" and report.removed == 2
    assert ids(store) == ["NCT00000001", "NCT00000002"]


def test_sync_killed_midway_keeps_old_snapshot_and_rerun_resumes(store: SqliteTrialStore) -> None:
    before = ids(store)  # the bundled samples
    api = FakeApi([record(i) for i in range(1, 8)])  # 4 pages of 2

    class Killed(BaseException):
        """Stands in for the process dying (not an error any code path catches)."""

    def die_on_third(i: int, params: dict[str, str]) -> httpx.Response | None:
        if i == 3:
            raise Killed
        return None

    api.fail = die_on_third
    with api.client() as client, pytest.raises(Killed):
        sync_condition(store, client)
    assert ids(store) == before, "a half-done sync must not change the live snapshot"

    api.fail = lambda i, p: None
    api.requests.clear()
    with api.client() as client:
        report = sync_condition(store, client)
    assert report.resumed and report.committed
    assert api.requests[0]["pageToken"] == "tok-4", "the re-run continues from the saved token"
    assert report.pages_fetched == 2
    assert ids(store) == [f"NCT{i:08d}" for i in range(1, 8)]


def test_truncated_page_raises_and_keeps_old_snapshot(store: SqliteTrialStore) -> None:
    api = FakeApi([record(i) for i in range(1, 5)])
    with api.client() as client:
        sync_condition(store, client, today=dt.date(2026, 10, 1))
    before = {s.nct_id: s.brief_title for s in store.iter_studies()}

    api.studies = [record(i, updated="2026-10-02", title=f"New {i}") for i in range(1, 7)]

    def truncated_second_page(i: int, params: dict[str, str]) -> httpx.Response | None:
        if params.get("pageToken") == "tok-2":
            return httpx.Response(200, content=b'{"studies": [{"protocolSection": {"identif')
        return None

    api.fail = truncated_second_page
    with api.client() as client, pytest.raises(TrialsDataError) as info:
        sync_condition(store, client, today=dt.date(2026, 10, 3))
    assert "not valid JSON" in str(info.value)
    assert {s.nct_id: s.brief_title for s in store.iter_studies()} == before

    api.fail = lambda i, p: None
    with api.client() as client:
        report = sync_condition(store, client, today=dt.date(2026, 10, 3))
    assert report.resumed and report.written == 6
    assert {s.brief_title for s in store.iter_studies()} == {f"New {i}" for i in range(1, 7)}


def test_persistent_http_error_keeps_snapshot(store: SqliteTrialStore) -> None:
    before = ids(store)
    api = FakeApi([record(i) for i in range(1, 5)])
    api.fail = lambda i, p: httpx.Response(503) if p.get("pageToken") else None
    with api.client() as client, pytest.raises(TrialsHTTPError):
        sync_condition(store, client)
    assert ids(store) == before


def test_invalid_record_names_page_and_index(store: SqliteTrialStore) -> None:
    before = ids(store)
    bad = record(3)
    bad["protocolSection"]["conditionsModule"]["conditions"] = "Myeloma"
    api = FakeApi([record(1), record(2), bad])
    with api.client() as client, pytest.raises(TrialsDataError) as info:
        sync_condition(store, client)
    assert "page 2 studies[0]" in str(info.value) and "conditions" in str(info.value)
    assert ids(store) == before


def test_max_pages_stops_without_committing_and_resumes(store: SqliteTrialStore) -> None:
    before = ids(store)
    api = FakeApi([record(i) for i in range(1, 6)])
    with api.client() as client:
        partial = sync_condition(store, client, max_pages=1)
    assert not partial.committed and ids(store) == before
    with api.client() as client:
        done = sync_condition(store, client)
    assert done.resumed and done.committed and len(ids(store)) == 5


def test_expired_page_token_restarts_the_run(store: SqliteTrialStore) -> None:
    api = FakeApi([record(i) for i in range(1, 6)])
    with api.client() as client:
        sync_condition(store, client, max_pages=1)
    api.requests.clear()
    api.fail = lambda i, p: (
        httpx.Response(400, text="invalid pageToken") if i == 1 and p.get("pageToken") else None
    )
    with api.client() as client:
        report = sync_condition(store, client)
    assert report.committed and len(ids(store)) == 5
    assert api.requests[0]["pageToken"] == "tok-2"
    assert "pageToken" not in api.requests[1], "after a 400 on the old token, start from page 1"


def test_criteria_parser_runs_at_store_time(tmp_path: Path) -> None:
    calls: list[str] = []

    def parse(study: Study) -> dict[str, Any]:
        calls.append(study.nct_id)
        if study.nct_id == "NCT00000002":
            raise ValueError("cannot parse")
        return {"n_chars": len(study.eligibility.criteria_text)}

    store = SqliteTrialStore(tmp_path / "t.sqlite3", parse_criteria=parse)
    api = FakeApi([record(1), record(2)])
    with api.client() as client:
        report = sync_condition(store, client)
    assert sorted(calls) == ["NCT00000001", "NCT00000002"]
    assert report.criteria_failed == 1
    assert store.parsed_criteria("NCT00000001") == {
        "n_chars": len("Inclusion Criteria:\n\n* Age >= 18")
    }
    assert store.parsed_criteria("NCT00000002") is None
    assert store.stats().criteria_failed == 1


def test_parser_runs_before_the_commit_transaction_and_only_on_candidates(
    tmp_path: Path,
) -> None:
    in_transaction: dict[str, bool] = {}

    def parse(study: Study) -> dict[str, Any]:
        in_transaction[study.nct_id] = store._conn.in_transaction
        return {"criteria": [{"id": "I1", "text": study.eligibility.criteria_text}]}

    store = SqliteTrialStore(tmp_path / "t.sqlite3", parse_criteria=parse)
    other = record(3, title="Asthma study 3")
    other["protocolSection"]["conditionsModule"]["conditions"] = ["Asthma"]
    api = FakeApi([record(1), record(2), other])
    with api.client() as client:
        sync_condition(store, client)
    # a slow parse never holds the write lock that swaps the snapshot in
    assert in_transaction == {"NCT00000001": False, "NCT00000002": False}
    assert store.parsed_criteria("NCT00000003") is None  # never a candidate: never parsed
    assert store.parsed_criteria("NCT00000001") == {
        "criteria": [{"id": "I1", "text": "Inclusion Criteria:\n\n* Age >= 18"}]
    }
    # identical criteria are stored once
    assert store._conn.execute("SELECT count(*) FROM criterion_bodies").fetchone()[0] == 1
    assert [r.nct_id for r in store.match_rows()] == ["NCT00000001", "NCT00000002"]


def test_raw_records_are_stored_losslessly(store: SqliteTrialStore) -> None:
    rec = record(4)
    rec["protocolSection"]["someFutureModule"] = {"x": [1, 2, {"y": "z"}]}
    api = FakeApi([rec])
    with api.client() as client:
        sync_condition(store, client)
    assert store.get_raw("NCT00000004") == json.loads(json.dumps(rec))


def test_crash_during_swap_rolls_back_and_rerun_commits(
    store: SqliteTrialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from myelonav.errors import StoreError

    before = ids(store)
    api = FakeApi([record(i) for i in range(1, 6)])
    original = SqliteTrialStore._write
    calls = {"n": 0}

    def failing_write(self: SqliteTrialStore, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise sqlite3.OperationalError("database or disk is full")
        original(self, *args)

    monkeypatch.setattr(SqliteTrialStore, "_write", failing_write)
    with api.client() as client, pytest.raises(StoreError) as info:
        sync_condition(store, client)
    assert "previous snapshot is unchanged" in str(info.value)
    assert ids(store) == before

    monkeypatch.setattr(SqliteTrialStore, "_write", original)
    api.requests.clear()
    with api.client() as client:
        report = sync_condition(store, client)
    assert report.resumed and report.committed and report.pages_fetched == 0
    assert api.requests == [], "every page was already staged; nothing is fetched again"
    assert len(ids(store)) == 5


def _sync_until_killed(db: str) -> None:
    """Child process: sync, and die like a killed process (no cleanup) on the third page."""
    import os

    store = SqliteTrialStore(db)
    api = FakeApi([record(i) for i in range(1, 8)])

    def die(i: int, params: dict[str, str]) -> httpx.Response | None:
        if i == 3:
            os._exit(9)
        return None

    api.fail = die
    with api.client() as client:
        sync_condition(store, client)


def test_process_killed_mid_sync_keeps_snapshot_and_resumes(tmp_path: Path) -> None:
    import multiprocessing

    db = tmp_path / "trials.sqlite3"
    store = open_store(db)
    before = ids(store)
    store.close()
    child = multiprocessing.get_context("fork").Process(target=_sync_until_killed, args=(str(db),))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 9

    store = open_store(db)
    assert ids(store) == before
    api = FakeApi([record(i) for i in range(1, 8)])
    with api.client() as client:
        report = sync_condition(store, client)
    assert report.resumed and api.requests[0]["pageToken"] == "tok-4"
    assert ids(store) == [f"NCT{i:08d}" for i in range(1, 8)]
