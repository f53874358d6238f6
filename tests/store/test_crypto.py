"""Profiles at rest: AES-GCM per record, bound to the row id; private files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import StoreError
from myelonav.patient.models import PatientRecord, Preferences
from myelonav.settings import Settings
from myelonav.store.crypto import RecordCipher, is_sealed, key_from_file, new_key, parse_key
from myelonav.store.profiles import ProfileStore

CIPHER = RecordCipher(parse_key(new_key()))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000), st.from_regex(r"\A[0-9a-f]{32}\Z"))
def test_seal_open_round_trip(text: str, rid: str) -> None:
    sealed = CIPHER.seal(text, rid)
    assert is_sealed(sealed)
    assert CIPHER.open(sealed, rid) == text


def test_ciphertext_moved_to_another_row_does_not_open() -> None:
    sealed = CIPHER.seal('{"id": "x"}', "a" * 32)
    with pytest.raises(StoreError):
        CIPHER.open(sealed, "b" * 32)
    with pytest.raises(StoreError):
        RecordCipher(parse_key(new_key())).open(sealed, "a" * 32)


@pytest.mark.parametrize("bad", ["", "not base64!", new_key()[:20]])
def test_bad_keys_are_named(bad: str) -> None:
    with pytest.raises(StoreError) as err:
        parse_key(bad)
    assert err.value.location == "MYELONAV_DATA_KEY"


def test_encrypted_store_keeps_no_plaintext(db_url: str, tmp_path: Path) -> None:
    store = ProfileStore(db_url, cipher=CIPHER)
    marker = "ZIPMARKER90210"
    saved = store.create(PatientRecord(id="p1", preferences=Preferences(notes=marker)), "intake")
    store.update_preferences(saved.id, {"max_travel_miles": 50})
    with store.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT record_json FROM saved_profiles").scalar_one()
    assert is_sealed(raw) and marker not in raw
    got = store.get(saved.id)
    assert got is not None and got.record.preferences.notes == marker
    assert got.record.preferences.max_travel_miles == 50
    store.close()
    if db_url.startswith("sqlite"):
        files = b"".join(p.read_bytes() for p in (tmp_path / "db").rglob("*") if p.is_file())
        assert marker.encode() not in files


def test_plain_rows_from_before_encryption_still_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    old = ProfileStore(url)
    saved = old.create(PatientRecord(id="legacy"), "intake")
    old.close()
    new = ProfileStore(url, cipher=CIPHER)
    got = new.get(saved.id)
    assert got is not None and got.record.id == "legacy"
    new.close()


def test_home_and_database_are_private(tmp_path: Path) -> None:
    cfg = Settings(home=tmp_path / "home")
    home = cfg.ensure_home()
    store = ProfileStore(cfg.profiles_db_url)
    store.create(PatientRecord(id="p"), "intake")
    store.close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "profiles.sqlite3").stat().st_mode) == 0o600
    key = key_from_file(cfg.data_key_file)
    assert stat.S_IMODE(cfg.data_key_file.stat().st_mode) == 0o600
    assert key_from_file(cfg.data_key_file) == key, "the key is never replaced"


def test_existing_loose_folder_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    Settings(home=home).ensure_home()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
