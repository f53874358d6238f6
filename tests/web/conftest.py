"""Web fixtures: an app on a private data folder (profiles and trials in tmp_path)."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from myelonav.settings import Settings
from myelonav.web.app import create_app
from myelonav.web.live import LiveServer, start_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", web_allowed_hosts=["testserver"],
                    ctgov_base_url="http://127.0.0.1:9/api/v2", ctgov_max_attempts=1)


@pytest.fixture
def app(web_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(web_settings)
    yield application
    application.state.profiles.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c



@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    server = start_server(folder / "home", folder / "server.log")
    yield server
    server.stop()


# --- clinic mode --------------------------------------------------------------------------
# One app in clinic mode on a real PostgreSQL server (SQLite when PostgreSQL is missing, with
# a note), an admin, two care teams, patients and a caregiver; one logged-in client each.

import itertools  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from myelonav.patient.models import PatientRecord, Preferences  # noqa: E402
from myelonav.store import pgtest  # noqa: E402
from myelonav.store.crypto import new_key  # noqa: E402
from myelonav.web.auth.csrf import csrf_token  # noqa: E402

SECRET = "s" * 48
PASSWORD = "clinic test password"
PRINCIPALS = ("anon", "patient", "caregiver", "other_patient", "nav_a", "clin_a", "nav_b",
              "clin_b", "admin")
_db_names = itertools.count()


@dataclass
class Clinic:
    app: FastAPI
    clients: dict[str, TestClient]
    users: dict[str, Any] = field(default_factory=dict)
    backend: str = "sqlite"

    def csrf(self, who: str) -> dict[str, str]:
        token = self.clients[who].cookies.get("myelonav_session")
        return {"X-CSRF-Token": csrf_token(SECRET, token)} if token else {}

    def profile(self, owner: str, marker: str) -> str:
        """A profile in ``owner``'s scope (a team member's team, or a patient's own)."""
        user = self.users[owner]
        record = PatientRecord(id="clinic-test", preferences=Preferences(notes=marker),
                               demographics={"postal_code": "90210", "country": "US"})
        saved = self.app.state.profiles.create(record, "intake", team_id=user.team_id,
                                               owner_id=user.id)
        return saved.id


@pytest.fixture(scope="module")
def pg_server() -> Iterator[pgtest.PgServer | None]:
    if pgtest.available() is not None:
        yield None
        return
    server = pgtest.start()
    yield server
    server.stop()


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "next": "/"}, follow_redirects=False)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory,
           pg_server: pgtest.PgServer | None) -> Iterator[Clinic]:
    home = tmp_path_factory.mktemp("clinic")
    if pg_server is not None:
        url, backend = pg_server.create_database(f"clinic{next(_db_names)}"), "postgresql"
    else:
        url, backend = f"sqlite:///{home / 'clinic.sqlite3'}", "sqlite"
    cfg = Settings(home=home / "home", mode="clinic", database_url=url, secret_key=SECRET,
                   data_key=new_key(), web_allowed_hosts=["testserver"],
                   # a trials update started by the access matrix must not leave the machine
                   ctgov_base_url="http://127.0.0.1:9/api/v2", ctgov_max_attempts=1)
    application = create_app(cfg)
    accounts = application.state.accounts
    users = {
        "admin": accounts.add_user("admin", PASSWORD, "admin"),
        "nav_a": accounts.add_user("nav_a", PASSWORD, "navigator", "Team A"),
        "clin_a": accounts.add_user("clin_a", PASSWORD, "clinician", "Team A"),
        "nav_b": accounts.add_user("nav_b", PASSWORD, "navigator", "Team B"),
        "clin_b": accounts.add_user("clin_b", PASSWORD, "clinician", "Team B"),
        "patient": accounts.add_user("patient", PASSWORD, "patient"),
        "caregiver": accounts.add_user("caregiver", PASSWORD, "patient"),
        "other_patient": accounts.add_user("other_patient", PASSWORD, "patient"),
    }
    clients: dict[str, TestClient] = {}
    for who in PRINCIPALS:
        c = TestClient(application, raise_server_exceptions=False)
        c.__enter__()
        if who != "anon":
            assert login(c, who).status_code == 303, who
        clients[who] = c
    yield Clinic(application, clients, users, backend)
    for c in clients.values():
        c.__exit__(None, None, None)
    application.state.profiles.close()


# --- a fake ClinicalTrials.gov API v2 on 127.0.0.1 (tests/web/fake_ctgov.py) -----------------
from file_modules import load_module  # noqa: E402


def fake_ctgov_module() -> Any:
    return load_module("myelonav_tests_fake_ctgov", Path(__file__).parent / "fake_ctgov.py")


@pytest.fixture
def fake_ctgov() -> Iterator[Any]:
    """A running fake of the API v2 (``.base_url``), serving the recorded-shape studies."""
    fake = fake_ctgov_module().FakeCtgov().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def fake_ctgov_shared() -> Iterator[Any]:
    """One fake API v2 for a whole module (a live server syncs from it)."""
    fake = fake_ctgov_module().FakeCtgov().start()
    yield fake
    fake.stop()


# --- browser tests: Debian's chromium through Playwright (never a downloaded browser), the
# vendored axe-core (npm ``axe-core``, MPL-2.0), screenshots in ``artifacts/screenshots``.
AXE = Path(__file__).parent / "assets" / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOOPBACK = ("http://127.0.0.1", "data:", "about:")
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


@pytest.fixture(scope="module")  # closed after each module: no event loop left behind
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not on PATH (apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def axe_violations(pg: Any, impacts: tuple[str, ...] = ALL_IMPACTS) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations of the given impacts on the page as it is now."""
    pg.evaluate(AXE.read_text("utf-8"))
    result = pg.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"] if v["impact"] in impacts
    ]


def audit_page(pg: Any, name: str, *, shot: str, impacts: tuple[str, ...] = ALL_IMPACTS,
               width_of: str = "document.documentElement.clientWidth") -> None:
    """No axe violation (of ``impacts``), no sideways scroll, a full-page screenshot."""
    bad = axe_violations(pg, impacts)
    assert bad == [], f"{name}: axe violations: {bad}"
    overflow = pg.evaluate(f"document.documentElement.scrollWidth - {width_of}")
    assert overflow <= 0, f"{name}: page scrolls sideways by {overflow}px at {pg.width_name}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{shot}-{pg.width_name}.png"), full_page=True)


def ready(pg: Any, width_name: str, width: int) -> Any:
    """A page carrying what the checks read: its width's name and ``pg.audit``/``pg.axe``."""
    pg.width_name, pg.width_px = width_name, width
    pg.audit = partial(audit_page, pg)
    pg.axe = partial(axe_violations, pg)
    return pg


@pytest.fixture
def open_page(browser: Any) -> Any:
    """``with open_page("phone", 360) as pg``: a fresh browser context at that width; on
    leaving, any request that left the machine fails the test."""

    @contextmanager
    def opened(width_name: str, width: int, allowed: tuple[str, ...] = ()) -> Iterator[Any]:
        context = browser.new_context(viewport={"width": width, "height": 800},
                                      accept_downloads=True)
        pg = ready(context.new_page(), width_name, width)
        external: list[str] = []
        pg.on("request", lambda req: external.append(req.url)
              if not req.url.startswith(LOOPBACK + allowed) else None)
        yield pg
        context.close()
        assert external == [], f"the page made external requests: {external}"

    return opened
