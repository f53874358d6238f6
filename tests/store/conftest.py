"""Store fixtures: every store test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from myelonav.store import pgtest
from myelonav.store.profiles import ProfileStore

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgtest.PgServer]:
    why = pgtest.available()
    if why:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    server = pgtest.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'profiles.sqlite3'}"
    server: pgtest.PgServer = request.getfixturevalue("pg_server")
    return server.create_database(f"t{next(_names)}")


@pytest.fixture
def store(db_url: str) -> Iterator[ProfileStore]:
    s = ProfileStore(db_url)
    yield s
    s.close()
