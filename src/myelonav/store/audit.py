"""The audit trail: who read, changed, exported or deleted which profile, when, from where.

Append-only and hash-chained: each row's ``hash`` is SHA-256 over the previous row's hash
and this row's fields, so editing or removing a row breaks every later link (``verify``).
The store offers no update or delete; on PostgreSQL a trigger also refuses them. Rows hold
ids, roles and addresses only, never clinical content.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import DateTime, Integer, String, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from myelonav.errors import StoreError

ACTIONS = frozenset({"create", "read", "change", "export", "delete", "delete_all", "export_all",
                     "denied", "login", "login_failed", "logout", "user_change", "share",
                     "trash", "restore", "purge"})
GENESIS = "0" * 64
# queued read events are written together at most this long after the first of them
FLUSH_INTERVAL_S = 0.05
MAX_QUEUED = 10_000  # beyond this (the database is failing) reads are written one by one


class _Base(DeclarativeBase):
    pass


class AuditRow(_Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    profile_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str
    actor: str
    role: str
    action: str
    profile_id: str | None
    team_id: str | None
    client: str | None
    count: int | None
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _digest(prev: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()


def _fields(row: AuditRow) -> dict[str, Any]:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
    return {"seq": row.seq, "at": at.isoformat(), "actor": row.actor, "role": row.role,
            "action": row.action, "profile_id": row.profile_id, "team_id": row.team_id,
            "client": row.client, "count": row.count}


_PG_GUARD = """
CREATE OR REPLACE FUNCTION myelonav_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION myelonav_audit_append_only();
"""
_SQLITE_GUARD = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)


class AuditLog:
    """Append events and read them back, on the profile store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[dict[str, Any]] = []
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        try:
            _Base.metadata.create_all(engine)
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(_PG_GUARD)
                elif engine.dialect.name == "sqlite":
                    for stmt in _SQLITE_GUARD:
                        conn.exec_driver_sql(stmt)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the audit trail: {exc.__class__.__name__}",
                             location="audit_events") from None

    def append(self, *, actor: str, role: str, action: str, profile_id: str | None = None,
               team_id: str | None = None, client: str | None = None,
               count: int | None = None, deferred: bool = False) -> None:
        """Write one event. ``deferred`` (reads only): queue it and write it with the other
        queued events in one transaction within ``FLUSH_INTERVAL_S``; each transaction costs
        a few fsyncs (~30 ms on a busy disk), which a page view cannot afford one by one.
        Any event written at once first writes the queue, so the chain keeps their order."""
        if action not in ACTIONS:
            raise StoreError(f"unknown audit action {action!r}", location="action")
        fields = {"at": dt.datetime.now(dt.UTC).replace(microsecond=0), "actor": actor[:120],
                  "role": role, "action": action, "profile_id": profile_id,
                  "team_id": team_id, "client": (client or "")[:64] or None, "count": count}
        if deferred and action == "read":
            with self._queue_lock:
                if len(self._queue) < MAX_QUEUED:
                    self._queue.append(fields)
                    self._wake.set()
                    self._start_flusher()
                    return
        with self._lock:
            self._write([*self._take(), fields])

    def flush(self) -> None:
        """Write every queued event now."""
        with self._lock:
            queued = self._take()
            if queued:
                self._write(queued)

    def _take(self) -> list[dict[str, Any]]:
        with self._queue_lock:
            queued, self._queue = self._queue, []
            return queued

    def _start_flusher(self) -> None:
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(target=self._flush_loop, name="audit-flush",
                                             daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(FLUSH_INTERVAL_S)  # gather what arrives meanwhile into one write
            self._wake.clear()
            # a failed write keeps the queued reads for the next one (``_write``)
            with contextlib.suppress(StoreError):
                self.flush()

    def _write(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        try:
            with self._sessions.begin() as session:
                if self.engine.dialect.name == "postgresql":
                    # one writer at a time across processes, so the chain never forks
                    session.connection().exec_driver_sql(
                        "LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")
                elif self.engine.dialect.name == "sqlite":
                    # the same on SQLite (several ``serve`` workers): take the write lock
                    # before reading the last row; a deferred transaction would read it,
                    # then fail to upgrade (SQLITE_BUSY at once, no wait) or fork the chain
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                last = session.execute(
                    select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
                ).first()
                prev = last[1] if last else GENESIS
                seq = (last[0] + 1) if last else 1
                for fields in items:
                    row = AuditRow(seq=seq, prev_hash=prev, hash="", **fields)
                    row.hash = _digest(prev, _fields(row))
                    session.add(row)
                    prev, seq = row.hash, seq + 1
        except SQLAlchemyError as exc:
            with self._queue_lock:  # queued reads are kept for the next write
                self._queue[:0] = [f for f in items if f["action"] == "read"]
            raise StoreError(f"cannot write the audit trail: {exc.__class__.__name__}",
                             location="audit_events") from None

    def events(self, *, profile_id: str | None = None, limit: int = 1000,
               after_seq: int = 0) -> list[AuditEvent]:
        self.flush()
        stmt = select(AuditRow).where(AuditRow.seq > after_seq).order_by(AuditRow.seq)
        if profile_id is not None:
            stmt = stmt.where(AuditRow.profile_id == profile_id)
        with self._sessions.begin() as session:
            rows = session.scalars(stmt.limit(limit)).all()
            return [AuditEvent(**_fields(r), prev_hash=r.prev_hash, hash=r.hash) for r in rows]

    def verify(self) -> int | None:
        """The ``seq`` of the first row whose chain link is broken, or ``None`` if intact."""
        self.flush()
        prev = GENESIS
        expected_seq = 1
        with self._sessions.begin() as session:
            for row in session.scalars(select(AuditRow).order_by(AuditRow.seq)):
                if (row.seq != expected_seq or row.prev_hash != prev
                        or row.hash != _digest(prev, _fields(row))):
                    return row.seq
                prev = row.hash
                expected_seq += 1
        return None


def _no_orm_updates(_mapper: Any, _connection: Any, _target: Any) -> None:
    raise StoreError("audit_events is append-only", location="audit_events")


event.listen(AuditRow, "before_update", _no_orm_updates)
event.listen(AuditRow, "before_delete", _no_orm_updates)

__all__ = ["ACTIONS", "GENESIS", "AuditEvent", "AuditLog", "AuditRow"]
