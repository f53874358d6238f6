"""The saved-profile store: round trips, atomic updates, export, and delete-means-gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from myelonav.errors import RecordValidationError, StoreError
from myelonav.patient.models import PatientRecord, Preferences, TrialInterest
from myelonav.samples import sample_ids, sample_profile
from myelonav.settings import Settings
from myelonav.store.profiles import ProfileStore


def _files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_create_read_round_trip(store: ProfileStore) -> None:
    record = sample_profile(sample_ids()[0])
    saved = store.create(record, "sample")
    assert len(saved.id) == 32 and int(saved.id, 16) >= 0
    again = store.get(saved.id)
    assert again is not None
    assert again.record == record
    assert again.sample is True and again.source == "sample"
    assert store.ids() == [saved.id]


def test_ids_are_unique_and_unguessable(store: ProfileStore) -> None:
    record = PatientRecord(id="p1")
    ids = {store.create(record, "intake").id for _ in range(20)}
    assert len(ids) == 20


def test_unknown_source_is_refused(store: ProfileStore) -> None:
    with pytest.raises(StoreError) as err:
        store.create(PatientRecord(id="p1"), "somewhere")
    assert err.value.location == "source"


def test_update_preferences_merges(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p1", preferences=Preferences(max_travel_miles=10)),
                         "intake")
    updated = store.update_preferences(saved.id, {"trial_interest": "yes"})
    assert updated is not None
    assert updated.record.preferences.max_travel_miles == 10
    assert updated.record.preferences.trial_interest is TrialInterest.yes
    assert updated.updated_at >= saved.updated_at


def test_invalid_preferences_change_nothing(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p1", preferences=Preferences(max_travel_miles=10)),
                         "intake")
    with pytest.raises(RecordValidationError) as err:
        store.update_preferences(saved.id, {"max_travel_miles": -5})
    assert "max_travel_miles" in str(err.value)
    after = store.get(saved.id)
    assert after is not None and after.record.preferences.max_travel_miles == 10


def test_missing_profile_reads_as_none(store: ProfileStore) -> None:
    assert store.get("0" * 32) is None
    assert store.update_preferences("0" * 32, {}) is None
    assert store.replace_record("0" * 32, PatientRecord(id="x")) is None
    assert store.delete("0" * 32) is False


def test_export_all_holds_every_profile(store: ProfileStore) -> None:
    a = store.create(sample_profile(sample_ids()[0]), "sample")
    b = store.create(PatientRecord(id="p2"), "intake")
    exported = store.export_all()
    assert [e["id"] for e in exported] == [a.id, b.id]
    assert exported[0]["record"]["id"] == sample_ids()[0]
    assert exported[1]["source"] == "intake"


def test_delete_means_gone_from_row_and_files(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    store = ProfileStore(f"sqlite:///{folder / 'profiles.sqlite3'}")
    marker = "ZZUNIQUEMARKER4242"
    keep = store.create(PatientRecord(id="keep-me"), "intake")
    gone = store.create(PatientRecord(id="gone", preferences=Preferences(notes=marker * 20)),
                        "intake")
    assert marker.encode() in _files_bytes(folder)
    assert store.delete(gone.id) is True
    assert store.get(gone.id) is None
    assert store.get(keep.id) is not None
    store.close()
    # no row, and no copy of its bytes left in the database file or a journal beside it
    assert marker.encode() not in _files_bytes(folder)
    assert {p.name for p in folder.iterdir()} == {"profiles.sqlite3"}


def test_delete_all_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    store = ProfileStore(f"sqlite:///{folder / 'profiles.sqlite3'}")
    for i in range(3):
        store.create(PatientRecord(id=f"p{i}", preferences=Preferences(notes=f"SECRETNOTE{i}")),
                     "intake")
    assert store.delete_all() == 3
    assert store.ids() == [] and store.export_all() == []
    store.close()
    assert b"SECRETNOTE" not in _files_bytes(folder)


def test_failed_write_changes_nothing(store: ProfileStore) -> None:
    saved = store.create(PatientRecord(id="p1"), "intake")
    store.engine.dispose()
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TRIGGER no_update BEFORE UPDATE ON saved_profiles "
                                 "BEGIN SELECT RAISE(ABORT, 'blocked'); END")
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION blocked() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'blocked'; END $$ LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER no_update BEFORE UPDATE ON saved_profiles "
                                 "FOR EACH ROW EXECUTE FUNCTION blocked()")
    with pytest.raises(StoreError):
        store.update_preferences(saved.id, {"max_travel_miles": 42})
    after = store.get(saved.id)
    assert after is not None and after.record.preferences.max_travel_miles is None


def test_settings_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYELONAV_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("MYELONAV_DATABASE_URL", raising=False)
    assert Settings().profiles_db_url == f"sqlite:///{tmp_path / 'h' / 'profiles.sqlite3'}"
    monkeypatch.setenv("MYELONAV_DATABASE_URL", "postgresql+psycopg://u@localhost/myelonav")
    assert Settings().profiles_db_url == "postgresql+psycopg://u@localhost/myelonav"


def test_bad_database_url_names_the_setting() -> None:
    with pytest.raises(StoreError) as err:
        ProfileStore("not a url")
    assert err.value.location == "MYELONAV_DATABASE_URL"
