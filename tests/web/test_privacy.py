"""Privacy and security: no patient data in logs, security headers, no external resources."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest

from myelonav.web.live import LiveServer
from myelonav.web.security import CSP
from myelonav.web.server import log_config, uvicorn_config

SECRET_ZIP = "55905"
SECRET_NOTE = "PATIENTSECRET-7431"


def test_security_headers_on_pages_and_api(client: Any) -> None:
    for path in ("/", "/api/v1/samples", "/static/style.css", "/nowhere"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert client.get("/").headers["cache-control"] == "no-store"


def test_no_external_resources_and_no_cdn_docs(client: Any) -> None:
    for path in ("/", "/intake", "/support"):
        text = client.get(path).text
        for attr in re.findall(r'(?:src|href)="([^"]+)"', text):
            assert not attr.startswith(("http:", "https:", "//")), (path, attr)
    assert client.get("/docs").status_code == 404, "Swagger UI would load a CDN"
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_request_log_holds_route_template_only(client: Any,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    r = client.post("/api/v1/samples/sample-early-cilta-emd")
    pid = r.json()["id"]
    client.get(f"/api/v1/profiles/{pid}/trials", params={"near": SECRET_ZIP})
    client.patch(f"/api/v1/profiles/{pid}/preferences", json={"notes": SECRET_NOTE})
    client.post("/intake", data={"zip": SECRET_ZIP, "age": "abc"})
    text = "\n".join(rec.getMessage() for rec in caplog.records if rec.name == "myelonav.web")
    assert "GET /api/v1/profiles/{profile_id}/trials 200" in text
    for secret in (SECRET_ZIP, SECRET_NOTE, pid):
        assert secret not in text


def test_uvicorn_access_log_is_off() -> None:
    config = uvicorn_config("127.0.0.1", 0)
    assert config.access_log is False
    assert log_config()["loggers"]["uvicorn.access"]["handlers"] == []


def test_live_server_logs_no_patient_data(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        pid = http.post("/api/v1/samples/sample-early-cilta-emd").json()["id"]
        http.get(f"/p/{pid}/trials", params={"near": SECRET_ZIP, "within_miles": "77"})
        http.patch(f"/api/v1/profiles/{pid}/preferences", json={"notes": SECRET_NOTE})
        http.post("/intake", data={"zip": SECRET_ZIP, "age": "abc"})
        http.get("/no-such-page", params={"zip": SECRET_ZIP})
    log = live_server.log()
    assert "GET /p/{profile_id}/trials 200" in log, log
    for secret in (SECRET_ZIP, SECRET_NOTE, pid, "within_miles"):
        assert secret not in log, f"{secret!r} leaked into the server log"


def test_unknown_host_names_are_refused(client: Any) -> None:
    """DNS rebinding: a page on another site cannot talk to the app under its own name."""
    assert client.get("/api/v1/export", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"host": "localhost"}).status_code == 200


def test_cross_site_posts_are_refused(client: Any) -> None:
    pid = client.post("/api/v1/samples/sample-early-cilta-emd").json()["id"]
    evil = {"origin": "https://evil.example"}
    assert client.post(f"/p/{pid}/delete", headers=evil).status_code == 403
    assert client.delete("/api/v1/profiles", headers=evil).status_code == 403
    assert client.post(f"/p/{pid}/delete", headers={"origin": "null"}).status_code == 403
    assert client.get(f"/api/v1/profiles/{pid}").status_code == 200, "nothing was deleted"
    same = {"origin": "http://testserver"}
    assert client.post(f"/p/{pid}/delete", headers=same).status_code == 200
