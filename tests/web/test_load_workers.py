"""``myelonav serve`` with two worker processes: a clinic session, its CSRF token and the
saved profiles work whichever worker answers (sessions live in the database, tokens derive
from the secret key, the data key is shared)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from myelonav.samples import sample_ids
from myelonav.store.accounts import Accounts
from myelonav.store.crypto import new_key
from myelonav.store.profiles import make_engine
from myelonav.web.auth.csrf import csrf_token
from myelonav.web.live import free_port

SECRET = "w" * 48
PASSWORD = "two workers password"


def _workers(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    children = psutil.Process(process.pid).children()
    return [c for c in children if "spawn_main" in " ".join(c.cmdline())]


def test_two_workers_share_sessions_csrf_and_profiles(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    engine = make_engine(url)
    Accounts(engine).add_user("nav", PASSWORD, "navigator", "Team W")
    engine.dispose()
    env = {
        **os.environ,
        "MYELONAV_HOME": str(home),
        "MYELONAV_MODE": "clinic",
        "MYELONAV_DATABASE_URL": url,
        "MYELONAV_SECRET_KEY": SECRET,
        "MYELONAV_DATA_KEY": new_key(),
    }
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "myelonav.cli",
                "serve",
                "--port",
                str(port),
                "--mode",
                "clinic",
                "--workers",
                "2",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready = 0
        while time.monotonic() < deadline and ready < 2:
            assert process.poll() is None, log.read_text()
            ready = log.read_text().count("Application startup complete")
            time.sleep(0.3)
        assert ready == 2, log.read_text()
        assert len(_workers(process)) == 2
        # a new connection per request, so the kernel hands them to either worker
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=base, limits=limits, timeout=60) as client:
            login = client.post(
                "/login",
                data={"username": "nav", "password": PASSWORD, "next": "/"},
                follow_redirects=False,
            )
            assert login.status_code == 303, login.text
            session = next(iter(client.cookies.values()))
            headers = {"X-CSRF-Token": csrf_token(SECRET, session)}
            made = [
                client.post(f"/demo/{sample_ids()[0]}", headers=headers, follow_redirects=False)
                for _ in range(4)
            ]
            assert [r.status_code for r in made] == [303] * 4
            refused = client.post(f"/demo/{sample_ids()[0]}", follow_redirects=False)
            assert refused.status_code == 403  # no CSRF token: refused by either worker
            for resp in made:
                path = resp.headers["location"]
                for _ in range(3):
                    assert client.get(path).status_code == 200
                    assert client.get(f"{path}/options").status_code == 200
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "Traceback" not in text and " 500 " not in text


@pytest.mark.parametrize("workers", ["-1", "65"])
def test_workers_option_is_bounded(workers: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "myelonav.cli", "serve", "--workers", workers],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "--workers" in result.stderr


_APPEND = """
import os, sys, time
from myelonav.store.audit import AuditLog
from myelonav.store.profiles import make_engine
log = AuditLog(make_engine(sys.argv[1]))
while not os.path.exists(sys.argv[4]):  # start together
    time.sleep(0.01)
for _ in range(int(sys.argv[2])):
    log.append(actor=sys.argv[3], role="local", action="read", profile_id="p" * 32)
"""


def test_workers_append_to_one_audit_chain(tmp_path: Path) -> None:
    """Two processes writing the SQLite audit trail at once: every row kept, chain intact
    (a deferred transaction failed at once with "database is locked" or forked the chain)."""
    from myelonav.store.audit import AuditLog

    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    engine = make_engine(url)
    log = AuditLog(engine)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _APPEND, url, "150", f"w{i}", str(go)], stderr=subprocess.PIPE
        )
        for i in range(2)
    ]
    time.sleep(3)
    go.touch()
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    events = log.events(limit=1000)
    assert len(events) == 300
    assert [e.seq for e in events] == list(range(1, 301))
    assert log.verify() is None
    engine.dispose()


def test_deferred_reads_are_written_in_order_and_soon(tmp_path: Path) -> None:
    """Reads queued for a group write keep their place before a change written at once,
    and reach the database without anyone asking (the flusher thread)."""
    from myelonav.store.audit import FLUSH_INTERVAL_S, AuditLog

    engine = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    log = AuditLog(engine)
    for i in range(5):
        log.append(actor=f"r{i}", role="local", action="read", deferred=True)
    log.append(actor="c", role="local", action="change")
    log.append(actor="r5", role="local", action="read", deferred=True)
    deadline = time.monotonic() + 60 * FLUSH_INTERVAL_S + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            rows = conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar()
            if rows == 7:
                break
            time.sleep(FLUSH_INTERVAL_S)
    assert rows == 7, "the queued read was not written by the flusher"
    assert [e.actor for e in log.events()] == ["r0", "r1", "r2", "r3", "r4", "c", "r5"]
    assert log.verify() is None
    engine.dispose()
