""""Connect to my patient portal" in real headless Chromium, in clinic mode.

The portal runs as ``localhost`` and the app as ``127.0.0.1``: two sites, so the clinic's
SameSite=Strict session cookie really is withheld on the portal's redirect back, and the
callback's hand-on to ``/connect/finish`` is what keeps the sign-in working. The portal's
consent page is a plain HTML form. axe-core: 0 violations (any impact) at 360 and 1280 px.
Conventions as in ``test_browser.py`` (Debian chromium, vendored axe, no external requests).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from myelonav.patient.smart.fake_portal import Portal, serve_portal
from myelonav.settings import Settings
from myelonav.store.crypto import new_key
from myelonav.web.app import create_app
from myelonav.web.live import free_port

WIDTHS = {"phone": 360, "desktop": 1280}
PASSWORD = "browser connect password"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    folder = tmp_path_factory.mktemp("connect-browser")
    cfg = Settings(home=folder / "home", mode="clinic",
                   database_url=f"sqlite:///{folder / 'clinic.sqlite3'}",
                   secret_key="b" * 48, data_key=new_key())
    app = create_app(cfg)
    app.state.accounts.add_user("pat", PASSWORD, "patient")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)
    app.state.profiles.close()


@pytest.fixture
def portal() -> Iterator[Portal]:
    with serve_portal() as state:
        state.consent_page = True
        state.base = state.base.replace("127.0.0.1", "localhost")  # another site
        yield state


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, open_page: Any) -> Iterator[Any]:
    with open_page(request.param, WIDTHS[request.param], allowed=("http://localhost",)) as pg:
        yield pg


def check_page(pg: Any, name: str) -> None:
    """axe-core: no violation at all; no sideways scrolling; a screenshot."""
    pg.audit(name, shot=f"connect-{name}", width_of="window.innerWidth")


def _log_in_and_open(pg: Any, base: str) -> None:
    pg.goto(base + "/connect")
    pg.wait_for_url("**/login**")
    pg.get_by_label("User name").fill("pat")
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Log in").click()
    pg.goto(base + "/connect")


def test_connect_flow_in_a_browser(clinic: tuple[str, Any], portal: Portal, page: Any) -> None:
    base, app = clinic
    pg = page
    before = len(app.state.profiles.list_profiles())
    _log_in_and_open(pg, base)
    check_page(pg, "01-form")

    pg.get_by_label("Your portal's FHIR address").fill("http://portal.example.org/fhir")
    pg.get_by_role("button", name="Connect").click()
    assert "must start with https://" in pg.locator("#iss-error").inner_text()
    check_page(pg, "02-address-error")

    pg.get_by_label("Your portal's FHIR address").fill(portal.base)
    pg.get_by_role("button", name="Connect").click()
    pg.wait_for_url(portal.base.removesuffix("/fhir") + "/auth/authorize**")
    pg.get_by_role("button", name="Share my record").click()
    pg.wait_for_url("**/connect/finish**", timeout=60_000)
    pg.get_by_role("heading", name="Your record is in").wait_for(timeout=60_000)
    check_page(pg, "03-result")
    assert len(app.state.profiles.list_profiles()) == before + 1
    pg.get_by_role("link", name="See my profile").first.click()
    pg.wait_for_url("**/p/*")
    assert "token:code" in portal.log


def test_refused_consent_in_a_browser(clinic: tuple[str, Any], portal: Portal, page: Any) -> None:
    base, app = clinic
    pg = page
    before = len(app.state.profiles.list_profiles())
    _log_in_and_open(pg, base)
    pg.get_by_label("Your portal's FHIR address").fill(portal.base)
    pg.get_by_role("button", name="Connect").click()
    pg.wait_for_url(portal.base.removesuffix("/fhir") + "/auth/authorize**")
    pg.get_by_role("button", name="Do not share").click()
    pg.wait_for_url("**/connect/finish**")
    pg.get_by_role("heading", name="Nothing was shared").wait_for()
    check_page(pg, "04-refused")
    assert len(app.state.profiles.list_profiles()) == before
