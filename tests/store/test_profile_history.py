"""Profiles that last (issue 15): intake answers, history of changes, trash with an undo
window and purge, and the list without record content. Every test runs on SQLite and on
PostgreSQL (``db_url``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import inspect, select

from myelonav.patient.models import PatientRecord, Preferences
from myelonav.store import migrate
from myelonav.store.crypto import RecordCipher, new_key, parse_key
from myelonav.store.profiles import (
    Change,
    HistoryEntry,
    HistoryRow,
    ProfileRow,
    ProfileStore,
    make_engine,
)

WINDOW = dt.timedelta(minutes=10)


def _later(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def test_answers_are_kept_and_read_back(store: ProfileStore) -> None:
    answers = {"age": ["66"], "prior": ["bortezomib", "lenalidomide"], "sex": []}
    saved = store.create(PatientRecord(id="p"), "intake", answers=answers, label="Dad")
    assert store.answers(saved.id) == answers
    assert saved.label == "Dad"
    other = store.create(PatientRecord(id="q"), "fhir")
    assert store.answers(other.id) is None
    assert store.answers("0" * 32) is None


def test_replace_record_keeps_id_and_writes_history(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p"), "intake", answers={"age": ["66"]})
    changed = store.replace_record(
        saved.id, PatientRecord(id="p", preferences=Preferences(notes="n")),
        answers={"age": ["67"]}, changes=[Change("age", "66", "67")], actor="nurse1")
    assert changed is not None and changed.id == saved.id
    assert store.answers(saved.id) == {"age": ["67"]}
    [entry] = store.history(saved.id)
    assert (entry.field, entry.old, entry.new, entry.actor) == ("age", "66", "67", "nurse1")
    assert entry.at.tzinfo is not None
    assert store.ids() == [saved.id]


def test_preferences_and_label_changes_are_in_the_history(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p", preferences=Preferences(max_travel_miles=10)),
                         "intake")
    store.update_preferences(saved.id, {"max_travel_miles": 50})
    store.update_preferences(saved.id, {"max_travel_miles": 50})  # no change, no entry
    assert store.set_label(saved.id, "Mum")
    fields = [(e.field, e.old, e.new) for e in store.history(saved.id)]
    assert fields == [("preferences.max_travel_miles", 10.0, 50.0), ("label", None, "Mum")]


def test_history_is_sealed_at_rest(db_url: str) -> None:
    store = ProfileStore(db_url, cipher=RecordCipher(parse_key(new_key())))
    saved = store.create(PatientRecord(id="p"), "intake", answers={"zip": ["10029"]})
    store.replace_record(saved.id, PatientRecord(id="p"), answers={"zip": ["90210"]},
                         changes=[Change("zip", "10029", "90210")])
    with store.engine.connect() as conn:
        raw = " ".join([*conn.execute(select(HistoryRow.change_json)).scalars(),
                        *(str(a) for a in conn.execute(select(ProfileRow.answers_json))
                          .scalars())])
    assert "90210" not in raw and "10029" not in raw
    assert [(e.old, e.new) for e in store.history(saved.id)] == [("10029", "90210")]
    store.close()


def test_trash_hides_then_undo_restores(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p"), "intake", label="L")
    until = store.trash(saved.id, WINDOW)
    assert until is not None and _later(9) < until <= _later(10.1)
    assert store.get(saved.id) is None
    assert store.ids() == [] and store.list_profiles() == [] and store.listing() == []
    assert store.team_of(saved.id) == (False, None, None)
    assert store.team_of(saved.id, include_trashed=True)[0] is True
    assert store.trashed_until(saved.id) == until
    assert store.replace_record(saved.id, PatientRecord(id="x")) is None
    assert store.trash(saved.id, WINDOW) is None  # already there
    assert store.restore(saved.id) is True
    back = store.get(saved.id)
    assert back is not None and back.label == "L" and store.trashed_until(saved.id) is None
    assert store.restore(saved.id) is False  # not in the trash any more


def test_purge_erases_only_after_the_deadline(store: ProfileStore) -> None:
    keep = store.create(PatientRecord(id="keep"), "intake")
    gone = store.create(PatientRecord(id="gone"), "intake")
    store.set_label(gone.id, "x")
    store.trash(gone.id, WINDOW)
    assert store.purge_expired() == []
    assert store.purge_expired(_later(11)) == [gone.id]
    assert store.restore(gone.id) is False
    assert store.team_of(gone.id, include_trashed=True)[0] is False
    assert store.history(gone.id) == []
    assert store.get(keep.id) is not None


def test_purge_runs_on_reads_at_most_once_a_minute(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p"), "intake")
    store.trash(saved.id, dt.timedelta(0))
    assert store.purge_due() == [saved.id]
    again = store.create(PatientRecord(id="q"), "intake")
    store.trash(again.id, dt.timedelta(0))
    assert store.purge_due() == [], "not again within the minute"
    assert store.trashed_until(again.id) is not None


def test_erase_trashed_only_erases_the_trash(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p"), "intake")
    assert store.erase_trashed(saved.id) is False  # live: use trash first
    store.trash(saved.id, WINDOW)
    assert store.erase_trashed(saved.id) is True
    assert store.team_of(saved.id, include_trashed=True)[0] is False


def test_delete_and_delete_all_take_the_history(store: ProfileStore) -> None:
    a = store.create(PatientRecord(id="a"), "intake", team_id="A")
    b = store.create(PatientRecord(id="b"), "intake", team_id="B")
    for p in (a, b):
        store.set_label(p.id, "x")
    assert store.delete_all("A") == 1
    assert store.history(a.id) == [] and len(store.history(b.id)) == 1
    store.trash(b.id, WINDOW)
    assert store.delete_all() == 1  # the trash too
    assert store.history(b.id) == []
    c = store.create(PatientRecord(id="c"), "intake")
    store.set_label(c.id, "y")
    assert store.delete(c.id) and store.history(c.id) == []


def test_listing_scopes_and_order(store: ProfileStore) -> None:
    own = store.create(PatientRecord(id="own"), "intake", owner_id="u1", team_id="A")
    shared = store.create(PatientRecord(id="shared"), "intake", owner_id="u2", team_id="A")
    other = store.create(PatientRecord(id="other"), "fhir", owner_id="u3", team_id="B")
    assert {p.id for p in store.listing()} == {own.id, shared.id, other.id}
    assert {p.id for p in store.listing(team_id="A")} == {own.id, shared.id}
    assert [p.id for p in store.listing(owner_id="u1")] == [own.id]
    assert {p.id for p in store.listing(owner_id="u1", also_ids=[shared.id])} == {
        own.id, shared.id}
    # most recently updated first
    with store.engine.begin() as conn:
        conn.execute(ProfileRow.__table__.update().where(ProfileRow.id == other.id)
                     .values(updated_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
    first = store.listing()[0]
    assert first.id == other.id and first.source == "fhir" and first.label is None


def test_import_history_keeps_when_and_who(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p"), "profile")
    when = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    entry = HistoryEntry(when, "local", "age", "66", "67")
    assert store.import_history(saved.id, [entry])
    assert store.history(saved.id) == [entry]
    assert store.import_history("0" * 32, [entry]) is False


def test_database_at_revision_0001_gains_the_new_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r1.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:  # saved_profiles as revision 0001 left it
        conn.exec_driver_sql(
            "CREATE TABLE saved_profiles (id VARCHAR(64) PRIMARY KEY, source VARCHAR(16), "
            "sample BOOLEAN, record_json TEXT, created_at DATETIME, updated_at DATETIME, "
            "team_id VARCHAR(64), owner_id VARCHAR(64), label VARCHAR(200))")
        conn.exec_driver_sql(
            "INSERT INTO saved_profiles VALUES ('" + "b" * 32 + "', 'intake', 0, "
            "'{\"id\": \"old\"}', '2026-01-01 00:00:00', '2026-01-01 00:00:00', NULL, NULL, "
            "'Mum')")
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0001')")
    engine.dispose()
    store = ProfileStore(url)
    assert migrate.current(store.engine) == migrate.head()
    columns = {c["name"] for c in inspect(store.engine).get_columns("saved_profiles")}
    assert {"answers_json", "trashed_at", "purge_after"} <= columns
    assert "profile_history" in inspect(store.engine).get_table_names()
    old = store.get("b" * 32)
    assert old is not None and old.label == "Mum" and store.answers(old.id) is None
    assert store.set_label(old.id, "Mother") and len(store.history(old.id)) == 1
    store.close()
