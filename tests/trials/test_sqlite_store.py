"""The SQLite store: lossless raw storage, upserts, atomic imports, samples, schema guard."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import StoreError
from myelonav.trials.local import criteria_parser, open_store
from myelonav.trials.models import Study
from myelonav.trials.samples import sample_records
from myelonav.trials.sqlite_store import SqliteTrialStore, join_parse, split_parse
from myelonav.trials.store import SearchQuery, StudyRecord, TrialStore


def rec(
    n: int, *, title: str = "Study", criteria: str = "Inclusion Criteria:\n\n* Adults"
) -> StudyRecord:
    raw: dict[str, Any] = {
        "protocolSection": {
            "identificationModule": {"nctId": f"NCT{n:08d}", "briefTitle": title},
            "statusModule": {"overallStatus": "RECRUITING"},
            "eligibilityModule": {"eligibilityCriteria": criteria},
        }
    }
    return StudyRecord(study=Study.from_v2(raw), raw=raw)


def test_store_satisfies_the_interface(tmp_path: Path) -> None:
    store = SqliteTrialStore(tmp_path / "t.sqlite3")
    assert isinstance(store, TrialStore)


def test_import_get_and_raw_are_lossless(tmp_path: Path) -> None:
    store = SqliteTrialStore(tmp_path / "t.sqlite3")
    report = store.import_studies([rec(1, title="Alpha"), rec(2)], source="import:test")
    assert report.written == 2 and store.count() == 2
    study = store.get("nct00000001")
    assert study is not None and study.brief_title == "Alpha"
    assert store.get_raw("NCT00000001") == rec(1, title="Alpha").raw
    assert store.get("NCT09999999") is None and store.get_raw("NCT09999999") is None


def test_reimport_updates_the_row_and_the_index(tmp_path: Path) -> None:
    store = SqliteTrialStore(tmp_path / "t.sqlite3")
    store.import_studies([rec(1, title="Belantamab study")], source="import:a")
    store.import_studies([rec(1, title="Cevostamab study")], source="import:b")
    assert store.count() == 1
    assert store.search(SearchQuery(text="belantamab")) == []
    assert [h.study.nct_id for h in store.search(SearchQuery(text="cevostamab"))] == ["NCT00000001"]


def test_failed_import_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqliteTrialStore(tmp_path / "t.sqlite3")
    store.import_studies([rec(1)], source="import:a")
    original_write = SqliteTrialStore._write
    calls = {"n": 0}

    def flaky(self: SqliteTrialStore, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.OperationalError("disk I/O error")
        original_write(self, *args)

    monkeypatch.setattr(SqliteTrialStore, "_write", flaky)
    with pytest.raises(StoreError) as info:
        store.import_studies([rec(2), rec(3)], source="import:b")
    assert "nothing was written" in str(info.value)
    assert [s.nct_id for s in store.iter_studies()] == ["NCT00000001"]


def test_open_store_seeds_samples_once_and_real_data_replaces_them(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    store = open_store(path)
    n_samples = len(sample_records())
    assert store.count() == store.count(samples=True) == n_samples
    assert all(s.is_sample for s in store.iter_studies())
    store.import_studies([rec(1)], source="import:real")
    assert store.count(samples=True) == 0 and store.count() == 1
    store.close()
    reopened = open_store(path)
    assert reopened.count(samples=True) == 0, "samples are not re-seeded after real data"


def test_sample_import_does_not_remove_samples(tmp_path: Path) -> None:
    store = open_store(tmp_path / "t.sqlite3")
    fictional = rec(5, title="SAMPLE — fictional study written for myelonav: test")
    assert fictional.study.is_sample
    store.import_studies([fictional], source="import:fiction")
    assert store.count(samples=True) == len(sample_records()) + 1


def test_schema_version_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    SqliteTrialStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema'")
    with pytest.raises(StoreError) as info:
        SqliteTrialStore(path)
    assert "schema" in str(info.value) and str(path) in str(info.value)


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        SqliteTrialStore(path)
    assert str(path) in str(info.value)


def test_reparse_criteria_with_the_real_parser_hook(tmp_path: Path) -> None:
    hook = criteria_parser()
    if hook is None:
        pytest.skip("myelonav.trials.criteria is not available")
    store = SqliteTrialStore(tmp_path / "t.sqlite3")
    store.import_studies(sample_records(), source="sample")
    assert store.stats().criteria_parsed == 0
    store.parse_criteria = hook
    assert store.reparse_criteria() == len(sample_records())
    stats = store.stats()
    assert stats.criteria_parsed + stats.criteria_failed == len(sample_records())
    parsed = store.parsed_criteria("NCT99000102")
    assert parsed is None or isinstance(parsed, dict)


def test_size_bytes_grows_with_content(tmp_path: Path) -> None:
    store = SqliteTrialStore(tmp_path / "t.sqlite3")
    empty = store.size_bytes()
    store.import_studies([rec(i, criteria="word " * 2000) for i in range(1, 50)], source="x")
    assert store.size_bytes() > empty


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_criterion = st.dictionaries(st.text(max_size=8).filter(lambda k: k != "id"), _json, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    head=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in ("criteria", "__linked__")), _json
    ),
    items=st.lists(st.tuples(st.text(min_size=1, max_size=4), _criterion), max_size=6),
)
def test_split_parse_round_trips_and_shares_equal_bodies(
    head: dict[str, Any], items: list[tuple[str, dict[str, Any]]]
) -> None:
    parsed = {**head, "criteria": [{**body, "id": cid} for cid, body in items]}
    stored_head, bodies = split_parse(parsed)
    links = [(cid, json.loads(zlib.decompress(body))) for _, body, cid in bodies]
    assert join_parse(json.loads(stored_head), links) == json.loads(json.dumps(parsed))
    digests = {d: b for d, b, _ in bodies}
    distinct = {json.dumps(body, sort_keys=True) for _, body in items}
    assert len(digests) == len(distinct)


def test_a_schema_3_store_is_upgraded_in_place_keeping_every_record(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    records = sample_records()
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema', '3'), ('populated', 'x'), ('cursor:mm', '2026-01-01');"
        "CREATE TABLE studies (id INTEGER PRIMARY KEY, nct_id TEXT, raw BLOB, is_sample INT,"
        " source TEXT, criteria_json TEXT);"
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT NOT NULL, mode TEXT NOT NULL,"
        " params TEXT NOT NULL, page_token TEXT, pages INTEGER NOT NULL DEFAULT 0,"
        " studies INTEGER NOT NULL DEFAULT 0, fetched_all INTEGER NOT NULL DEFAULT 0,"
        " started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL);"
    )
    conn.executemany(
        "INSERT INTO studies (nct_id, raw, is_sample, source) VALUES (?, ?, 1, 'sample')",
        [(r.study.nct_id, zlib.compress(json.dumps(r.raw).encode())) for r in records],
    )
    conn.commit()
    conn.close()
    store = SqliteTrialStore(path, parse_criteria=criteria_parser())
    try:
        assert store.count(samples=True) == len(records)
        assert store.sync_cursor("mm") is not None
        for r in records:
            assert store.get_raw(r.study.nct_id) == r.raw
            assert store.parsed_criteria(r.study.nct_id) is not None
        assert store.match_rows()
    finally:
        store.close()
    SqliteTrialStore(path).close()  # upgraded once: opens as the current schema


def _as_schema_4(path: Path) -> None:
    """Turn a current store into the schema 4 layout: a typed copy of every study (``model``),
    no indexed-text digest, a match record for every study."""
    from myelonav.trials.sqlite_store import _match_blob, _model_blob

    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, raw, is_sample FROM studies").fetchall()
    conn.execute("ALTER TABLE studies ADD COLUMN model BLOB NOT NULL DEFAULT x''")
    for study_id, raw, is_sample in rows:
        study = Study.from_v2(json.loads(zlib.decompress(raw)), is_sample=bool(is_sample))
        conn.execute(
            "UPDATE studies SET model = ?, match_rec = ? WHERE id = ?",
            (_model_blob(study), _match_blob(study), study_id),
        )
    conn.execute("ALTER TABLE studies DROP COLUMN fts_digest")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    conn.commit()
    conn.close()


def _fts_intact(store: SqliteTrialStore) -> None:
    """FTS5 finds an index corrupted by a delete that replayed other text."""
    store._conn.execute("INSERT INTO studies_fts (studies_fts) VALUES ('integrity-check')")


def _columns(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[1] for r in conn.execute("PRAGMA table_info(studies)")}
    finally:
        conn.close()


def test_a_schema_4_store_is_upgraded_in_place_without_the_typed_copy(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite3"
    records = sample_records()
    store = SqliteTrialStore(path, parse_criteria=criteria_parser())
    store.import_studies(records, source="sample")
    before = {s.nct_id: s for s in store.iter_studies()}
    parsed = {r.study.nct_id: store.parsed_criteria(r.study.nct_id) for r in records}
    store.close()
    _as_schema_4(path)
    assert "model" in _columns(path)
    v4_bytes = path.stat().st_size

    store = SqliteTrialStore(path, parse_criteria=criteria_parser())
    try:
        assert "model" not in _columns(path) and "fts_digest" in _columns(path)
        assert store.size_bytes() < v4_bytes  # the typed copies are gone and the file compacted
        assert {s.nct_id: s for s in store.iter_studies()} == before
        assert store.get_models(before) == before
        for r in records:
            assert store.get_raw(r.study.nct_id) == r.raw
            assert store.parsed_criteria(r.study.nct_id) == parsed[r.study.nct_id]
        assert {row.nct_id for row in store.match_rows(include_closed=True)} == set(before)
        target = records[0]
        old_title = target.study.brief_title
        assert [h.study.nct_id for h in store.search(SearchQuery(text=old_title))][:1] == [
            target.study.nct_id
        ]
        # a row indexed under schema 4 is still deleted exactly when its study is replaced
        raw = json.loads(json.dumps(target.raw))
        raw["protocolSection"]["identificationModule"]["briefTitle"] = "Zyxwvut renamed study"
        store.import_studies([StudyRecord(study=Study.from_v2(raw), raw=raw)], source="sample")
        assert [h.study.nct_id for h in store.search(SearchQuery(text="Zyxwvut"))] == [
            target.study.nct_id
        ]
        _fts_intact(store)
    finally:
        store.close()
    SqliteTrialStore(path).close()  # upgraded once: opens as the current schema


def test_a_search_row_whose_text_cannot_be_replayed_rebuilds_the_index(tmp_path: Path) -> None:
    """If the registry reader changed so that a study's text no longer rebuilds to what was
    indexed, the delete is not replayed wrongly: the whole index is rebuilt instead."""
    path = tmp_path / "t.sqlite3"
    records = sample_records()
    store = SqliteTrialStore(path)
    store.import_studies(records, source="sample")
    store._conn.execute("UPDATE studies SET fts_digest = x'0000000000000000'")
    target = records[0]
    raw = json.loads(json.dumps(target.raw))
    raw["protocolSection"]["identificationModule"]["briefTitle"] = "Qwertyuiop renamed study"
    store.import_studies([StudyRecord(study=Study.from_v2(raw), raw=raw)], source="sample")
    assert [h.study.nct_id for h in store.search(SearchQuery(text="Qwertyuiop"))] == [
        target.study.nct_id
    ]
    digests = {bytes(r[0]) for r in store._conn.execute("SELECT fts_digest FROM studies")}
    assert b"\x00" * 8 not in digests
    _fts_intact(store)
    store.close()


def test_only_candidates_keep_a_match_record(tmp_path: Path) -> None:
    store = SqliteTrialStore(tmp_path / "t.sqlite3", parse_criteria=criteria_parser())
    raw = json.loads(json.dumps(sample_records()[0].raw))
    raw["protocolSection"]["identificationModule"]["nctId"] = "NCT99999999"
    raw["protocolSection"]["conditionsModule"] = {"conditions": ["Breast Cancer"]}
    raw["protocolSection"]["identificationModule"]["briefTitle"] = "A breast cancer study"
    raw["protocolSection"]["identificationModule"].pop("officialTitle", None)
    store.import_studies([StudyRecord(study=Study.from_v2(raw), raw=raw)], source="test")
    rec = store._conn.execute(
        "SELECT plasma_cell, length(match_rec) FROM studies WHERE nct_id = 'NCT99999999'"
    ).fetchone()
    assert rec == (0, 0)
    assert store.get("NCT99999999") is not None
    store.close()
