"""Saved patient profiles in a SQL database (embedded SQLite by default, PostgreSQL by URL).

Each profile is one row: a random id (the only handle to it, so it is unguessable), the
record as JSON, where it came from, and timestamps. Every write is one transaction, so a
failed write changes nothing. Delete means gone: SQLite runs with ``secure_delete`` so the
deleted row's bytes are overwritten in the file, and the rollback journal (not a WAL, which
would keep old pages around) is removed at each commit.

The SQLite file is created 0600 in a 0700 folder (SQLite gives its journal the file's mode).
With a ``RecordCipher`` the record JSON is sealed with AES-GCM per row (see ``crypto``).
In clinic mode each profile belongs to one care team (``team_id``); the web layer checks it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    Boolean,
    DateTime,
    String,
    Text,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from myelonav.errors import InputError, StoreError
from myelonav.patient.models import PatientRecord, Preferences
from myelonav.patient.profile_io import first_error, parse_profile_text
from myelonav.settings import PRIVATE_FILE_MODE, make_private_dir
from myelonav.store.crypto import RecordCipher

SOURCES = frozenset({"intake", "fhir", "profile", "sample", "ccda"})


class _Base(DeclarativeBase):
    pass


class ProfileRow(_Base):
    __tablename__ = "saved_profiles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    record_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # added by issue 16 (nullable, so older files gain them in place: migration 0001)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)


@dataclass(frozen=True)
class SavedProfile:
    id: str
    source: str
    sample: bool
    record: PatientRecord
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: str | None = None
    owner_id: str | None = None
    label: str | None = None

    def export(self) -> dict[str, Any]:
        """Everything stored about this profile, JSON-ready."""
        return {
            "id": self.id,
            "source": self.source,
            "sample": self.sample,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "record": self.record.model_dump(mode="json", exclude_none=True),
        }


def new_profile_id() -> str:
    return secrets.token_hex(16)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=DELETE")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 (and its folder 0700) before SQLite opens it."""
    make_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(fd)
    if path.stat().st_uid == os.getuid():
        path.chmod(PRIVATE_FILE_MODE)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get secure delete and a private file and folder."""
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (SQLAlchemyError, ValueError) as exc:
        raise StoreError(f"cannot use database URL: {exc}",
                         location="MYELONAV_DATABASE_URL") from None
    if engine.dialect.name == "sqlite":
        db = engine.url.database
        if db and db != ":memory:":
            try:
                private_sqlite_file(Path(db).expanduser())
            except OSError as exc:
                raise StoreError(f"cannot create the database file: {exc.strerror}",
                                 location="MYELONAV_DATABASE_URL") from None
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class ProfileStore:
    """Create, read, update, export and delete saved profiles."""

    def __init__(self, url: str, cipher: RecordCipher | None = None) -> None:
        self.engine = make_engine(url)
        self._cipher = cipher
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            from myelonav.store.migrate import upgrade

            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the profile database: {exc.__class__.__name__}",
                             location="MYELONAV_DATABASE_URL") from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc.__class__.__name__}",
                             location="saved_profiles") from None

    def _saved(self, row: ProfileRow) -> SavedProfile:
        text = self._cipher.open(row.record_json, row.id) if self._cipher else row.record_json
        try:
            record = parse_profile_text(text, f"saved_profiles/{row.id}")
        except InputError as exc:  # the one profile reader: limits, text cleaning, schema
            raise StoreError(f"stored profile is unreadable: {exc.__class__.__name__}",
                             location=f"saved_profiles/{row.id}") from None
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
        return SavedProfile(row.id, row.source, row.sample, record, created, updated,
                            row.team_id, row.owner_id, row.label)

    def _json(self, record: PatientRecord, profile_id: str) -> str:
        text = json.dumps(record.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
        return self._cipher.seal(text, profile_id) if self._cipher else text

    def create(self, record: PatientRecord, source: str, *, team_id: str | None = None,
               owner_id: str | None = None) -> SavedProfile:
        if source not in SOURCES:
            raise StoreError(f"unknown source {source!r}", location="source")
        now = _now()
        pid = new_profile_id()
        row = ProfileRow(id=pid, source=source, sample=record.sample,
                         record_json=self._json(record, pid), created_at=now, updated_at=now,
                         team_id=team_id, owner_id=owner_id)
        with self._tx() as session:
            session.add(row)
        return self._saved(row)

    def get(self, profile_id: str) -> SavedProfile | None:
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id)
            return self._saved(row) if row is not None else None

    def replace_record(self, profile_id: str, record: PatientRecord) -> SavedProfile | None:
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id, with_for_update=True)
            if row is None:
                return None
            row.record_json = self._json(record, profile_id)
            row.sample = record.sample
            row.updated_at = _now()
        return self._saved(row)

    def update_preferences(self, profile_id: str, changes: dict[str, Any]) -> SavedProfile | None:
        """Merge ``changes`` into the saved preferences; invalid values change nothing."""
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id, with_for_update=True)
            if row is None:
                return None
            record = self._saved(row).record
            merged = {**record.preferences.model_dump(), **changes}
            try:
                prefs = Preferences.model_validate(merged)
            except ValidationError as exc:
                raise first_error(exc, "preferences") from None
            record = record.model_copy(update={"preferences": prefs})
            row.record_json = self._json(record, profile_id)
            row.updated_at = _now()
        return self._saved(row)

    def set_label(self, profile_id: str, label: str | None) -> bool:
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id, with_for_update=True)
            if row is None:
                return False
            row.label = label
        return True

    def team_of(self, profile_id: str) -> tuple[bool, str | None, str | None]:
        """(exists, team_id, owner_id) without reading or decrypting the record."""
        with self._tx() as session:
            row = session.execute(select(ProfileRow.team_id, ProfileRow.owner_id)
                                  .where(ProfileRow.id == profile_id)).first()
            return (False, None, None) if row is None else (True, row[0], row[1])

    def delete(self, profile_id: str) -> bool:
        with self._tx() as session:
            result = session.execute(delete(ProfileRow).where(ProfileRow.id == profile_id))
            gone = bool(getattr(result, "rowcount", 0))
        self._vacuum()
        return gone

    def delete_all(self, team_id: str | None = None) -> int:
        """Delete every profile (or every profile of one team)."""
        stmt = delete(ProfileRow)
        if team_id is not None:
            stmt = stmt.where(ProfileRow.team_id == team_id)
        with self._tx() as session:
            result = session.execute(stmt)
            count = int(getattr(result, "rowcount", 0) or 0)
        self._vacuum()
        return count

    def _vacuum(self) -> None:
        # secure_delete already zeroes freed cells; VACUUM also drops the freed pages.
        if self.engine.dialect.name != "sqlite":
            return
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("VACUUM")
        except SQLAlchemyError:
            pass  # the data is already overwritten; a busy database can be compacted later

    def ids(self) -> list[str]:
        with self._tx() as session:
            return list(session.scalars(select(ProfileRow.id).order_by(ProfileRow.created_at)))

    def _select(self, team_id: str | None) -> Any:
        stmt = select(ProfileRow).order_by(ProfileRow.created_at)
        return stmt if team_id is None else stmt.where(ProfileRow.team_id == team_id)

    def list_profiles(self, team_id: str | None = None) -> list[SavedProfile]:
        with self._tx() as session:
            return [self._saved(r) for r in session.scalars(self._select(team_id)).all()]

    def export_all(self, team_id: str | None = None) -> list[dict[str, Any]]:
        return [p.export() for p in self.list_profiles(team_id)]


__all__ = ["SOURCES", "ProfileRow", "ProfileStore", "SavedProfile", "make_engine", "new_profile_id"]
