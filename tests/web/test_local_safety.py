"""Local mode safety: install secret, CSRF, body limits and timeouts, slow headers, Host
rules, bind rules, logs without patient data, stale temp files, documented error bodies."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from myelonav.errors import InputError
from myelonav.samples import sample_ids
from myelonav.settings import Settings
from myelonav.web.app import create_app
from myelonav.web.security import SecurityMiddleware
from myelonav.web.server import NoPatientDataFilter, check_bind

from .conftest import TestClient  # type: ignore[import-not-found]


def _pid(client: Any) -> str:
    r = client.post(f"/api/v1/samples/{sample_ids()[0]}")
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_bulk_export_and_delete_need_the_install_secret(client: Any) -> None:
    pid = _pid(client)
    for headers in ({}, {"X-Myelonav-Install-Secret": "guess"}):
        r = client.get("/api/v1/export", headers=headers)
        assert r.status_code == 403 and r.json()["field"] == "X-Myelonav-Install-Secret"
        assert pid not in r.text
        assert client.delete("/api/v1/profiles", headers=headers).status_code == 403
    assert client.get(f"/api/v1/profiles/{pid}").status_code == 200, "nothing was deleted"
    secret_file = client.app.state.settings.install_secret_file
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("headers", [
    {"referer": "https://evil.example/page"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"origin": "null"},
    {"origin": "https://evil.example", "sec-fetch-site": "same-origin"},
])
def test_cross_site_state_changes_are_refused(client: Any, headers: dict[str, str]) -> None:
    pid = _pid(client)
    assert client.delete(f"/api/v1/profiles/{pid}", headers=headers).status_code == 403
    assert client.post(f"/p/{pid}/delete", headers=headers).status_code == 403
    assert client.get(f"/api/v1/profiles/{pid}").status_code == 200


@pytest.mark.parametrize("headers", [
    {"origin": "http://testserver"},
    {"sec-fetch-site": "same-origin"},
    {"referer": "http://testserver/p/x"},
    {},  # not a browser page: curl or an API client
])
def test_same_site_state_changes_pass(client: Any, headers: dict[str, str]) -> None:
    pid = _pid(client)
    assert client.delete(f"/api/v1/profiles/{pid}", headers=headers).status_code == 204


def test_oversized_body_is_refused_before_it_is_read(client: Any) -> None:
    limit = client.app.state.settings.max_body_bytes
    big = b"{" + b" " * limit + b"}"
    r = client.post("/api/v1/profiles", content=big,
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"]
    r = client.post("/upload", files={"file": ("big.json", big, "application/json")})
    assert r.status_code == 413


def test_chunked_body_is_cut_off_at_the_limit(client: Any) -> None:
    limit = client.app.state.settings.max_body_bytes
    sent = 0

    def chunks() -> Any:
        nonlocal sent
        while sent < limit * 3:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    r = client.post("/api/v1/profiles", content=chunks(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_slow_body_times_out() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    sent: list[dict[str, Any]] = []

    async def never() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    guard = SecurityMiddleware(app, body_timeout_s=0.05)
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    start = time.monotonic()
    with pytest.raises(Exception) as err:
        asyncio.run(guard(scope, never, send))
    assert getattr(err.value, "status_code", None) == 408
    assert time.monotonic() - start < 2


def test_uploads_are_not_spooled_to_disk(app: Any) -> None:
    from starlette.formparsers import MultiPartParser

    assert MultiPartParser.spool_max_size >= app.state.settings.max_body_bytes


def test_network_bind_does_not_trust_localhost(tmp_path: Path) -> None:
    cfg = Settings(home=tmp_path / "h", web_allowed_hosts=["nav.clinic.lan"])
    app = create_app(cfg, bind_host="10.1.2.3")
    with TestClient(app) as c:
        assert c.get("/privacy", headers={"host": "localhost"}).status_code == 400
        assert c.get("/privacy", headers={"host": "127.0.0.1:8000"}).status_code == 400
        assert c.get("/privacy", headers={"host": "nav.clinic.lan"}).status_code == 200
        assert c.get("/privacy", headers={"host": "10.1.2.3"}).status_code == 200
    app.state.profiles.close()


def _clinic(tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {"home": tmp_path, "mode": "clinic",
                            "database_url": "postgresql+psycopg://u@db/x",
                            "secret_key": "k" * 40}
    return Settings(**(base | kw))


def test_bind_rules(tmp_path: Path) -> None:
    check_bind("127.0.0.1", Settings(home=tmp_path))
    check_bind("::1", Settings(home=tmp_path))
    for host in ("0.0.0.0", "192.168.1.5", "nav.clinic.lan"):
        with pytest.raises(InputError) as err:
            check_bind(host, Settings(home=tmp_path))
        assert err.value.location == "--host"
    with pytest.raises(InputError) as err:
        check_bind("127.0.0.1", _clinic(tmp_path, database_url=None))
    assert err.value.location == "MYELONAV_DATABASE_URL"
    with pytest.raises(InputError) as err:
        check_bind("127.0.0.1", _clinic(tmp_path, secret_key="short"))
    assert err.value.location == "MYELONAV_SECRET_KEY"
    with pytest.raises(InputError):
        check_bind("0.0.0.0", _clinic(tmp_path))
    check_bind("0.0.0.0", _clinic(tmp_path, behind_proxy=True))
    check_bind("0.0.0.0", _clinic(tmp_path, tls_certfile=tmp_path / "c.pem",
                                  tls_keyfile=tmp_path / "k.pem"))


def test_serve_command_refuses_a_network_bind_in_local_mode(tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from myelonav.cli import app

    monkeypatch.setenv("MYELONAV_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "--mode clinic" in result.output


def test_log_filter_drops_exception_text() -> None:
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1,
                               "Exception in ASGI application", None, None)
    try:
        raise ValueError("postal_code '90210' is not valid")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert NoPatientDataFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "90210" not in text and "ValueError" in text


def test_stale_atomic_temps_are_removed_on_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    stale = home / ".profile.yaml.abc123.tmp"
    stale.write_text("half a record")
    keep = home / "notes.tmp"
    keep.write_text("not ours")
    app = create_app(Settings(home=home))
    assert not stale.exists() and keep.exists()
    app.state.profiles.close()


def test_openapi_documents_the_real_error_bodies(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "ErrorOut" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for code in ("404", "422"):
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut"), (method, path, code)
    r = client.get("/api/v1/profiles/" + "0" * 32)
    assert r.status_code == 404 and set(r.json()) == {"detail", "field", "errors"}


@pytest.mark.slow
def test_slow_headers_are_cut_off(tmp_path: Path, monkeypatch: Any) -> None:
    """slowloris: connections that never finish their headers are closed by the server."""
    from myelonav.web.live import start_server

    monkeypatch.setenv("MYELONAV_HEADER_TIMEOUT_S", "1")
    server = start_server(tmp_path / "home", tmp_path / "server.log")
    try:
        host, port = server.url.removeprefix("http://").split(":")
        socks = []
        for _ in range(30):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(s)
        time.sleep(2.5)
        closed = 0
        for s in socks:
            s.settimeout(2)
            try:
                closed += s.recv(1024) == b""
            except (ConnectionResetError, TimeoutError, OSError):
                closed += 1
            s.close()
        assert closed == len(socks)
        assert "X-Slow" not in server.log()
    finally:
        server.stop()
    assert os.environ.get("MYELONAV_HEADER_TIMEOUT_S") == "1"


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/..%2f..%2fsettings.py", "/static/%2e%2e/%2e%2e/cli.py",
    "/p/..%2f..%2fetc%2fpasswd", "/api/v1/profiles/..%2f..%2fexport",
    "/p/" + "a" * 31 + "/", "/api/v1/profiles/" + "A" * 32,
])
def test_path_traversal_reaches_nothing(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (400, 404, 422), (path, r.status_code)
    assert "import" not in r.text and "root:" not in r.text
