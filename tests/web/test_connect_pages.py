""" "Connect to my patient portal" through the web app, end to end over real HTTP.

The app runs in uvicorn on 127.0.0.1 and the local SMART portal
(``myelonav.patient.smart.fake_portal``) beside it; an httpx client plays the browser: it
keeps cookies and follows redirects, and follows the pages' ``Refresh`` as a browser does.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from myelonav.patient.smart.fake_portal import Portal, serve_portal
from myelonav.patient.smart.launch import Launches
from myelonav.settings import Settings
from myelonav.store.crypto import new_key
from myelonav.web.app import create_app
from myelonav.web.live import free_port

PASSWORD = "connect test password"


@contextmanager
def serve_app(cfg: Settings) -> Iterator[tuple[str, Any]]:
    app = create_app(cfg)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.profiles.close()


@pytest.fixture
def portal() -> Iterator[Portal]:
    with serve_portal() as state:
        yield state


@pytest.fixture
def local_app(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    with serve_app(Settings(home=tmp_path / "home")) as served:
        yield served


def _refresh(response: httpx.Response) -> str:
    header = response.headers.get("refresh", "")
    assert header.startswith("0; url="), (response.status_code, response.text[:500])
    return header.removeprefix("0; url=")


def start(client: httpx.Client, base: str, iss: str, **extra: str) -> httpx.Response:
    form = client.get(f"{base}/connect")
    assert form.status_code == 200 and "Your portal's FHIR address" in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    data = {"iss": iss, **({"csrf_token": token[1]} if token else {}), **extra}
    return client.post(f"{base}/connect", data=data)


def sign_in(client: httpx.Client, base: str, iss: str) -> tuple[httpx.Response, str]:
    """Start, go to the portal (which answers at once) and come back: the callback page
    and the /connect/finish address it hands on to."""
    started = start(client, base, iss)
    assert started.status_code == 200, started.text[:500]
    go = _refresh(started)
    assert go.startswith(iss.removesuffix("/fhir")) and "code_challenge_method=S256" in go
    back = client.get(go, follow_redirects=True)  # portal -> 302 -> /connect/callback
    assert back.url.path == "/connect/callback"
    return back, _refresh(back) if back.status_code == 200 else ""


def run_flow(client: httpx.Client, base: str, iss: str) -> httpx.Response:
    back, finish = sign_in(client, base, iss)
    assert back.status_code == 200, back.text[:500]
    return client.get(base + finish)


def _profiles(app: Any) -> list[Any]:
    return app.state.profiles.list_profiles()


def test_connect_imports_the_record_and_keeps_no_token(
    local_app: tuple[str, Any], portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    base, app = local_app
    caplog.set_level(logging.DEBUG)
    with httpx.Client(timeout=30) as client:
        result = run_flow(client, base, portal.base)
        assert result.status_code == 200, result.text[:800]
        assert "Your record is in" in result.text
        assert "not offer" in result.text and "MedicationStatement" in result.text
        (saved,) = _profiles(app)
        assert f'href="/p/{saved.id}"' in result.text
        assert saved.record.labs and saved.record.car_t
        assert client.get(f"{base}/p/{saved.id}").status_code == 200
        assert "myelonav_connect" not in client.cookies  # the browser binding is gone
    assert {"token:code", "page:next", "fhir:429"} <= set(portal.log)
    assert len(app.state.smart_launches) == 0
    issued = [*portal.tokens, *portal.refresh_tokens]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert issued and not any(t in logged or t in result.text for t in issued)


def test_refused_consent_reads_and_saves_nothing(
    local_app: tuple[str, Any], portal: Portal
) -> None:
    base, app = local_app
    portal.approve = False
    with httpx.Client(timeout=30) as client:
        result = run_flow(client, base, portal.base)
    assert result.status_code == 400
    assert "Nothing was shared" in result.text and "declined" in result.text
    assert f'value="{portal.base}"' in result.text  # one click to start again
    assert _profiles(app) == []
    assert not any(entry.startswith(("search:", "token:")) for entry in portal.log)


def test_forged_state_is_refused(local_app: tuple[str, Any], portal: Portal) -> None:
    base, app = local_app
    portal.wrong_state = True  # the answer comes back with a state this browser never sent
    with httpx.Client(timeout=30) as client:
        back, _ = sign_in(client, base, portal.base)
        assert back.status_code == 400 and "expired or was already used" in back.text
        forged = client.get(f"{base}/connect/finish", params={"state": "forged", "code": "x"})
    assert forged.status_code == 400 and "not started in this browser" in forged.text
    assert "token:code" not in portal.log and _profiles(app) == []


def test_state_is_single_use(local_app: tuple[str, Any], portal: Portal) -> None:
    base, app = local_app
    with httpx.Client(timeout=30) as client:
        _back, finish = sign_in(client, base, portal.base)
        first = client.get(base + finish)
        assert first.status_code == 200
        again = client.get(base + finish)
    assert again.status_code == 400 and "already used" in again.text
    assert len(_profiles(app)) == 1
    assert portal.log.count("token:code") == 1


def test_state_is_bound_to_the_browser_that_started(
    local_app: tuple[str, Any], portal: Portal
) -> None:
    base, app = local_app
    with httpx.Client(timeout=30) as victim, httpx.Client(timeout=30) as attacker:
        _, finish = sign_in(victim, base, portal.base)
        stolen = attacker.get(base + finish)
        assert stolen.status_code == 400 and "not started in this browser" in stolen.text
        assert _profiles(app) == []
        # the forged use did not spoil the real sign-in
        assert victim.get(base + finish).status_code == 200
    assert len(_profiles(app)) == 1


def test_an_old_sign_in_expires(local_app: tuple[str, Any], portal: Portal) -> None:
    base, app = local_app
    now = [1000.0]
    app.state.smart_launches = Launches(ttl=600, clock=lambda: now[0])
    with httpx.Client(timeout=30) as client:
        started = start(client, base, portal.base)
        answer = client.get(_refresh(started), follow_redirects=False)
        callback = answer.headers["location"]
        now[0] += 601
        late = client.get(callback)
        assert late.status_code == 400 and "expired" in late.text
        finish = callback.replace("/connect/callback", "/connect/finish")
        assert client.get(finish).status_code == 400
    assert "token:code" not in portal.log


def test_a_busy_portal_gets_retry_advice(local_app: tuple[str, Any], portal: Portal) -> None:
    base, app = local_app
    portal.throttle_always = True
    with httpx.Client(timeout=60) as client:
        result = run_flow(client, base, portal.base)
    assert result.status_code == 429
    assert "Your portal is busy" in result.text and "Wait a few minutes" in result.text
    assert _profiles(app) == []


@pytest.mark.parametrize(
    ("iss", "status", "message"),
    [
        ("http://portal.example.org/fhir", 422, "must start with https://"),
        ("ftp://portal.example.org/fhir", 422, "must start with https://"),
        ("", 422, "enter your portal"),
        ("https://exa mple.org/fhir", 422, "spaces"),
    ],
)
def test_the_address_is_checked(
    local_app: tuple[str, Any], iss: str, status: int, message: str
) -> None:
    base, _ = local_app
    with httpx.Client(timeout=30) as client:
        response = start(client, base, iss)
    assert response.status_code == status and message in response.text
    assert 'aria-invalid="true"' in response.text


def test_an_unreachable_portal_is_said_plainly(local_app: tuple[str, Any]) -> None:
    base, _ = local_app
    with httpx.Client(timeout=30) as client:
        response = start(client, base, f"http://127.0.0.1:{free_port()}/fhir")
    assert response.status_code == 502
    assert "We could not reach your portal" in response.text


def test_the_callback_alone_does_nothing(local_app: tuple[str, Any]) -> None:
    base, _ = local_app
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{base}/connect/callback").status_code == 422
        unknown = client.get(f"{base}/connect/callback", params={"state": "x", "code": "y"})
        assert unknown.status_code == 400 and "refresh" not in unknown.headers
        assert client.get(f"{base}/connect/finish").status_code == 422


def test_confidential_client_from_settings(tmp_path: Path, portal: Portal) -> None:
    portal.client_secret = "web-secret"
    portal.auth_methods = ["client_secret_post"]
    secret_file = tmp_path / "secret"
    secret_file.write_text("web-secret\n", "utf-8")
    cfg = Settings(home=tmp_path / "home", smart_client_secret_file=secret_file)
    with serve_app(cfg) as (base, app), httpx.Client(timeout=30) as client:
        result = run_flow(client, base, portal.base)
        assert result.status_code == 200 and len(_profiles(app)) == 1
    assert "auth:post" in portal.log and "web-secret" not in result.text


def test_public_base_url_sets_the_redirect(tmp_path: Path, portal: Portal) -> None:
    cfg = Settings(home=tmp_path / "home", public_base_url="https://nav.clinic.example/")
    with serve_app(cfg) as (base, _), httpx.Client(timeout=30) as client:
        go = _refresh(start(client, base, portal.base))
    query = dict(httpx.URL(go).params)
    assert query["redirect_uri"] == "https://nav.clinic.example/connect/callback"
    assert query["aud"] == portal.base and len(query["state"]) >= 32


# --- clinic mode ------------------------------------------------------------------------


@pytest.fixture
def clinic_app(tmp_path: Path) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    cfg = Settings(
        home=tmp_path / "home",
        mode="clinic",
        database_url=f"sqlite:///{tmp_path / 'clinic.sqlite3'}",
        secret_key="k" * 48,
        data_key=new_key(),
    )
    with serve_app(cfg) as (base, app):
        accounts = app.state.accounts
        users = {
            "patient": accounts.add_user("patient", PASSWORD, "patient"),
            "nav": accounts.add_user("nav", PASSWORD, "navigator", "Team A"),
            "clin": accounts.add_user("clin", PASSWORD, "clinician", "Team A"),
            "admin": accounts.add_user("admin", PASSWORD, "admin"),
        }
        yield base, app, users


def _login(client: httpx.Client, base: str, who: str) -> None:
    r = client.post(f"{base}/login", data={"username": who, "password": PASSWORD, "next": "/"})
    assert r.status_code in (200, 303), r.text[:300]


def test_clinic_patient_connects_their_own_record(
    clinic_app: tuple[str, Any, dict[str, Any]], portal: Portal
) -> None:
    base, app, users = clinic_app
    with httpx.Client(timeout=30) as client:
        anon = client.get(f"{base}/connect")
        assert anon.status_code == 303 and "/login" in anon.headers["location"]
        _login(client, base, "patient")
        no_csrf = client.post(f"{base}/connect", data={"iss": portal.base})
        assert no_csrf.status_code == 403
        result = run_flow(client, base, portal.base)
    assert result.status_code == 200, result.text[:500]
    (saved,) = _profiles(app)
    assert saved.owner_id == users["patient"].id


def test_clinic_navigator_connects_for_their_team(
    clinic_app: tuple[str, Any, dict[str, Any]], portal: Portal
) -> None:
    base, app, users = clinic_app
    with httpx.Client(timeout=30) as client:
        _login(client, base, "nav")
        assert run_flow(client, base, portal.base).status_code == 200
    (saved,) = _profiles(app)
    assert saved.team_id == users["nav"].team_id


def test_clinic_finish_needs_the_account_that_started(
    clinic_app: tuple[str, Any, dict[str, Any]], portal: Portal
) -> None:
    base, app, _ = clinic_app
    with httpx.Client(timeout=30) as client:
        _login(client, base, "patient")
        _, finish = sign_in(client, base, portal.base)
        client.post(
            f"{base}/logout", headers={"Origin": base}, data={"csrf_token": _csrf(client, base)}
        )
        _login(client, base, "nav")  # same browser (same binding cookie), other account
        other = client.get(base + finish)
    assert other.status_code == 400 and _profiles(app) == []


def _csrf(client: httpx.Client, base: str) -> str:
    page = client.get(f"{base}/connect").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found[1]


@pytest.mark.parametrize("who", ["clin", "admin"])
def test_clinic_other_roles_may_not_connect(
    clinic_app: tuple[str, Any, dict[str, Any]], portal: Portal, who: str
) -> None:
    base, _app, _ = clinic_app
    with httpx.Client(timeout=30) as client:
        _login(client, base, who)
        assert client.get(f"{base}/connect").status_code == 403
        assert client.get(f"{base}/connect/finish", params={"state": "s"}).status_code == 403
    assert portal.authorize_calls == 0


def test_an_access_token_that_runs_out_is_refreshed(
    local_app: tuple[str, Any], portal: Portal
) -> None:
    base, app = local_app
    portal.requests_per_token = 5
    with httpx.Client(timeout=30) as client:
        result = run_flow(client, base, portal.base)
    assert result.status_code == 200 and len(_profiles(app)) == 1
    assert portal.log.count("token:refresh") >= 2


def test_without_a_refresh_token_the_user_is_asked_to_connect_again(
    local_app: tuple[str, Any], portal: Portal
) -> None:
    base, app = local_app
    portal.requests_per_token = 5
    portal.issue_refresh_tokens = False
    with httpx.Client(timeout=30) as client:
        result = run_flow(client, base, portal.base)
    assert result.status_code == 400
    assert "The sign-in expired" in result.text and "connect again" in result.text
    assert _profiles(app) == []
