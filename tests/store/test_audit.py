"""The audit trail: append-only, hash-chained, no clinical content; on both backends."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.exc import SQLAlchemyError

from myelonav.errors import StoreError
from myelonav.store.audit import GENESIS, AuditLog
from myelonav.store.profiles import make_engine


def test_chain_links_every_row(db_url: str) -> None:
    log = AuditLog(make_engine(db_url))
    for i in range(5):
        log.append(actor=f"nurse{i}", role="navigator", action="read", profile_id="a" * 32,
                   team_id="t1", client="10.0.0.5")
    events = log.events()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert log.verify() is None
    assert [e.seq for e in log.events(after_seq=3)] == [4, 5]


def test_rows_cannot_be_changed_or_removed(db_url: str) -> None:
    engine = make_engine(db_url)
    log = AuditLog(engine)
    log.append(actor="a", role="clinician", action="delete", profile_id="b" * 32)
    for sql in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(SQLAlchemyError), engine.begin() as conn:
            conn.exec_driver_sql(sql)
    assert log.verify() is None and len(log.events()) == 1


def test_tampering_is_detected(db_url: str) -> None:
    engine = make_engine(db_url)
    log = AuditLog(engine)
    for actor in ("a", "b", "c"):
        log.append(actor=actor, role="navigator", action="read")
    with engine.begin() as conn:  # an attacker with DDL rights drops the guard first
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_no_update")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_append_only ON audit_events")
        conn.exec_driver_sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    assert log.verify() == 2


def test_unknown_action_is_refused(db_url: str) -> None:
    log = AuditLog(make_engine(db_url))
    with pytest.raises(StoreError):
        log.append(actor="a", role="admin", action="peek")
