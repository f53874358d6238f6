"""Saved patient profiles in a SQL database (embedded SQLite by default, PostgreSQL by URL).

Each profile is one row: a random id (the only handle to it, so it is unguessable), the
record as JSON, where it came from, and timestamps. Every write is one transaction, so a
failed write changes nothing. The intake answers and a history of changes (``profile_history``)
are sealed like the record. A page delete first moves the profile to the trash
(``trash``/``restore``) until its undo deadline; ``purge_expired`` then erases it. Erased means
gone: SQLite runs with ``secure_delete`` so the
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
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    or_,
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
    # added by issue 15 (migration 0002): the intake answers (sealed like the record) so the
    # form can be reopened; a deleted profile waits in the trash until ``purge_after``
    answers_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    trashed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)
    purge_after: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                            nullable=True, index=True)


class HistoryRow(_Base):
    """One change to one field of a profile: who, when, old value, new value (sealed)."""

    __tablename__ = "profile_history"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(120))
    change_json: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Change:
    """One field's change: ``old``/``new`` are JSON values (None: not given)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    field: str
    old: Any
    new: Any

    def export(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "actor": self.actor, "field": self.field,
                "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ProfileListing:
    """What a list of profiles shows: no record content, so nothing is decrypted."""

    id: str
    source: str
    sample: bool
    label: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


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


PURGE_EVERY_S = 60.0  # how often ordinary reads look for expired trash (``purge_due``)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


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
        self._next_purge = 0.0  # monotonic time of the next trash check (``purge_due``)
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
        return SavedProfile(row.id, row.source, row.sample, record, _aware(row.created_at),
                            _aware(row.updated_at), row.team_id, row.owner_id, row.label)

    def _json(self, record: PatientRecord, profile_id: str) -> str:
        text = json.dumps(record.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
        return self._cipher.seal(text, profile_id) if self._cipher else text

    def create(self, record: PatientRecord, source: str, *, team_id: str | None = None,
               owner_id: str | None = None, answers: dict[str, list[str]] | None = None,
               label: str | None = None) -> SavedProfile:
        if source not in SOURCES:
            raise StoreError(f"unknown source {source!r}", location="source")
        now = _now()
        pid = new_profile_id()
        row = ProfileRow(id=pid, source=source, sample=record.sample,
                         record_json=self._json(record, pid), created_at=now, updated_at=now,
                         team_id=team_id, owner_id=owner_id, label=label,
                         answers_json=self._seal_json(answers, pid))
        with self._tx() as session:
            session.add(row)
        return self._saved(row)

    def get(self, profile_id: str) -> SavedProfile | None:
        """The profile, or None when there is none (a profile in the trash is not there)."""
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id)
            return self._saved(row) if row is not None and row.trashed_at is None else None

    def _live_row(self, session: Session, profile_id: str) -> ProfileRow | None:
        row = session.get(ProfileRow, profile_id, with_for_update=True)
        return row if row is not None and row.trashed_at is None else None

    def _seal_json(self, value: Any, profile_id: str) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return self._cipher.seal(text, profile_id) if self._cipher else text

    def _open_json(self, stored: str, profile_id: str, where: str) -> Any:
        text = self._cipher.open(stored, profile_id) if self._cipher else stored
        try:
            return json.loads(text)
        except ValueError:
            raise StoreError("stored data is unreadable", location=where) from None

    def _note(self, session: Session, profile_id: str, actor: str,
              changes: Sequence[Change], at: dt.datetime) -> None:
        for change in changes:
            session.add(HistoryRow(
                profile_id=profile_id, at=at, actor=actor[:120], field=change.field[:120],
                change_json=self._seal_json({"old": change.old, "new": change.new},
                                            profile_id) or "{}"))

    def replace_record(self, profile_id: str, record: PatientRecord, *,
                       answers: dict[str, list[str]] | None = None,
                       changes: Sequence[Change] = (), actor: str = "local") -> SavedProfile | None:
        """Replace the record (and the intake answers, if given); ``changes`` go to the
        profile's history in the same transaction."""
        with self._tx() as session:
            row = self._live_row(session, profile_id)
            if row is None:
                return None
            now = _now()
            row.record_json = self._json(record, profile_id)
            row.sample = record.sample
            row.updated_at = now
            if answers is not None:
                row.answers_json = self._seal_json(answers, profile_id)
            self._note(session, profile_id, actor, changes, now)
        return self._saved(row)

    def update_preferences(self, profile_id: str, changes: dict[str, Any], *,
                           actor: str = "local") -> SavedProfile | None:
        """Merge ``changes`` into the saved preferences; invalid values change nothing."""
        with self._tx() as session:
            row = self._live_row(session, profile_id)
            if row is None:
                return None
            record = self._saved(row).record
            before = record.preferences.model_dump(mode="json")
            merged = {**record.preferences.model_dump(), **changes}
            try:
                prefs = Preferences.model_validate(merged)
            except ValidationError as exc:
                raise first_error(exc, "preferences") from None
            record = record.model_copy(update={"preferences": prefs})
            now = _now()
            row.record_json = self._json(record, profile_id)
            row.updated_at = now
            after = prefs.model_dump(mode="json")
            self._note(session, profile_id, actor,
                       [Change(f"preferences.{k}", before.get(k), after[k])
                        for k in after if before.get(k) != after[k]], now)
        return self._saved(row)

    def set_label(self, profile_id: str, label: str | None, *, actor: str = "local") -> bool:
        with self._tx() as session:
            row = self._live_row(session, profile_id)
            if row is None:
                return False
            if row.label != label:
                self._note(session, profile_id, actor, [Change("label", row.label, label)],
                           _now())
            row.label = label
        return True

    def answers(self, profile_id: str) -> dict[str, list[str]] | None:
        """The intake answers the profile was made from (None: not made by the intake)."""
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id)
            if row is None or row.trashed_at is not None or row.answers_json is None:
                return None
            data = self._open_json(row.answers_json, profile_id,
                                   f"saved_profiles/{profile_id}/answers")
        if not isinstance(data, dict):
            raise StoreError("stored answers are unreadable",
                             location=f"saved_profiles/{profile_id}/answers")
        return {str(k): [str(v) for v in vs] if isinstance(vs, list) else [str(vs)]
                for k, vs in data.items()}

    def history(self, profile_id: str) -> list[HistoryEntry]:
        """Every recorded change to the profile, oldest first."""
        with self._tx() as session:
            rows = session.scalars(select(HistoryRow).where(HistoryRow.profile_id == profile_id)
                                   .order_by(HistoryRow.seq)).all()
            out = []
            for r in rows:
                data = self._open_json(r.change_json, profile_id,
                                       f"profile_history/{profile_id}")
                data = data if isinstance(data, dict) else {}
                out.append(HistoryEntry(_aware(r.at), r.actor, r.field, data.get("old"),
                                        data.get("new")))
            return out

    def import_history(self, profile_id: str, entries: Sequence[HistoryEntry]) -> bool:
        """Add history brought from another device (an imported export), as it was."""
        with self._tx() as session:
            if self._live_row(session, profile_id) is None:
                return False
            for e in entries:
                self._note(session, profile_id, e.actor, [Change(e.field, e.old, e.new)], e.at)
        return True

    def team_of(self, profile_id: str, *, include_trashed: bool = False
                ) -> tuple[bool, str | None, str | None]:
        """(exists, team_id, owner_id) without reading or decrypting the record."""
        stmt = select(ProfileRow.team_id, ProfileRow.owner_id).where(ProfileRow.id == profile_id)
        if not include_trashed:
            stmt = stmt.where(ProfileRow.trashed_at.is_(None))
        with self._tx() as session:
            row = session.execute(stmt).first()
            return (False, None, None) if row is None else (True, row[0], row[1])

    # --- trash: delete with an undo window ---------------------------------------------------
    def trash(self, profile_id: str, keep_for: dt.timedelta) -> dt.datetime | None:
        """Move a profile to the trash; it is erased for good after ``keep_for`` (the
        returned deadline) unless restored. None: no such profile."""
        with self._tx() as session:
            row = self._live_row(session, profile_id)
            if row is None:
                return None
            now = _now()
            row.trashed_at = now
            row.purge_after = now + keep_for
            return row.purge_after

    def trashed_until(self, profile_id: str) -> dt.datetime | None:
        """When a profile in the trash will be erased (None: it is not in the trash)."""
        with self._tx() as session:
            row = session.execute(select(ProfileRow.purge_after)
                                  .where(ProfileRow.id == profile_id,
                                         ProfileRow.trashed_at.is_not(None))).first()
            return _aware(row[0]) if row is not None and row[0] is not None else None

    def restore(self, profile_id: str) -> bool:
        """Take a profile out of the trash before its deadline; False when it is not there
        (never deleted, or already erased)."""
        self.purge_expired()
        with self._tx() as session:
            row = session.get(ProfileRow, profile_id, with_for_update=True)
            if row is None or row.trashed_at is None:
                return False
            row.trashed_at = None
            row.purge_after = None
        return True

    def purge_expired(self, now: dt.datetime | None = None) -> list[str]:
        """Erase for good every profile whose undo window has passed; their ids."""
        moment = now or _now()
        with self._tx() as session:
            ids = list(session.scalars(select(ProfileRow.id)
                                       .where(ProfileRow.purge_after.is_not(None),
                                              ProfileRow.purge_after <= moment)))
            if not ids:
                return []
            session.execute(delete(HistoryRow).where(HistoryRow.profile_id.in_(ids)))
            session.execute(delete(ProfileRow).where(ProfileRow.id.in_(ids)))
        self._vacuum()
        return ids

    def erase_trashed(self, profile_id: str) -> bool:
        """Erase a profile in the trash now, without waiting for its deadline."""
        if self.trashed_until(profile_id) is None:
            return False
        return self.delete(profile_id)

    def purge_due(self) -> list[str]:
        """``purge_expired`` at most once a minute: called on ordinary reads, so a deleted
        profile is erased soon after its deadline without a separate timer."""
        now = time.monotonic()
        if now < self._next_purge:
            return []
        self._next_purge = now + PURGE_EVERY_S
        return self.purge_expired()

    def delete(self, profile_id: str) -> bool:
        """Erase a profile (live or in the trash) and its history for good, now."""
        with self._tx() as session:
            result = session.execute(delete(ProfileRow).where(ProfileRow.id == profile_id))
            gone = bool(getattr(result, "rowcount", 0))
            session.execute(delete(HistoryRow).where(HistoryRow.profile_id == profile_id))
        self._vacuum()
        return gone

    def delete_all(self, team_id: str | None = None) -> int:
        """Delete every profile (or every profile of one team), with the trash and history."""
        stmt = delete(ProfileRow)
        history = delete(HistoryRow)
        if team_id is not None:
            stmt = stmt.where(ProfileRow.team_id == team_id)
            history = history.where(HistoryRow.profile_id.in_(
                select(ProfileRow.id).where(ProfileRow.team_id == team_id)))
        with self._tx() as session:
            session.execute(history)
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
            return list(session.scalars(select(ProfileRow.id)
                                        .where(ProfileRow.trashed_at.is_(None))
                                        .order_by(ProfileRow.created_at)))

    def _select(self, team_id: str | None) -> Any:
        stmt = select(ProfileRow).where(ProfileRow.trashed_at.is_(None)).order_by(
            ProfileRow.created_at)
        return stmt if team_id is None else stmt.where(ProfileRow.team_id == team_id)

    def listing(self, *, team_id: str | None = None, owner_id: str | None = None,
                also_ids: Sequence[str] = ()) -> list[ProfileListing]:
        """Live profiles, most recently updated first, without reading any record: all of
        them, one team's, or one owner's plus ``also_ids`` (shared with them)."""
        cols = select(ProfileRow.id, ProfileRow.source, ProfileRow.sample, ProfileRow.label,
                      ProfileRow.created_at, ProfileRow.updated_at).where(
                          ProfileRow.trashed_at.is_(None))
        if team_id is not None:
            cols = cols.where(ProfileRow.team_id == team_id)
        if owner_id is not None:
            cols = cols.where(or_(ProfileRow.owner_id == owner_id,
                                  ProfileRow.id.in_(list(also_ids))))
        with self._tx() as session:
            rows = session.execute(cols.order_by(ProfileRow.updated_at.desc(),
                                                 ProfileRow.created_at.desc())).all()
        return [ProfileListing(r[0], r[1], bool(r[2]), r[3], _aware(r[4]), _aware(r[5]))
                for r in rows]

    def list_profiles(self, team_id: str | None = None) -> list[SavedProfile]:
        with self._tx() as session:
            return [self._saved(r) for r in session.scalars(self._select(team_id)).all()]

    def export_all(self, team_id: str | None = None) -> list[dict[str, Any]]:
        return [p.export() for p in self.list_profiles(team_id)]


__all__ = ["SOURCES", "Change", "HistoryEntry", "HistoryRow", "ProfileListing", "ProfileRow",
           "ProfileStore", "SavedProfile", "make_engine", "new_profile_id"]
