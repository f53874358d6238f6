"""Alembic: a new database and a pre-migration one both end at head, on both backends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from myelonav.patient.models import PatientRecord
from myelonav.store import migrate
from myelonav.store.profiles import ProfileStore, make_engine


def test_new_database_is_at_head(db_url: str) -> None:
    store = ProfileStore(db_url)
    assert migrate.current(store.engine) == migrate.head()
    tables = set(inspect(store.engine).get_table_names())
    assert {"saved_profiles", "users", "teams", "web_sessions", "audit_events"} <= tables
    store.close()
    again = ProfileStore(db_url)  # opening again is a no-op
    assert migrate.current(again.engine) == migrate.head()
    again.close()


def test_database_from_before_issue_16_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:  # the table exactly as the first release made it
        conn.exec_driver_sql(
            "CREATE TABLE saved_profiles (id VARCHAR(64) PRIMARY KEY, source VARCHAR(16), "
            "sample BOOLEAN, record_json TEXT, created_at DATETIME, updated_at DATETIME)")
        conn.exec_driver_sql(
            "INSERT INTO saved_profiles VALUES ('" + "a" * 32 + "', 'intake', 0, "
            "'{\"id\": \"old\"}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    engine.dispose()
    store = ProfileStore(url)
    got = store.get("a" * 32)
    assert got is not None and got.record == PatientRecord(id="old") and got.team_id is None
    columns = {c["name"] for c in inspect(store.engine).get_columns("saved_profiles")}
    assert {"team_id", "owner_id", "label"} <= columns
    assert migrate.current(store.engine) == migrate.head()
    store.close()
