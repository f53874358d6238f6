"""The web app's sign-ins under way: single use, expiring, bound to browser and account."""

from __future__ import annotations

import stat
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from myelonav.errors import ImportError_
from myelonav.patient.smart import launch
from myelonav.patient.smart.launch import FileLaunches, Launches
from myelonav.patient.smart.oauth import SmartConfiguration

CONFIG = SmartConfiguration(
    "https://p.example/fhir", "https://p.example/auth", "https://p.example/t"
)


Make = Callable[..., Launches]


@pytest.fixture(params=["memory", "files"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Make:
    """Both stores: in memory (one process) and files in the data folder (worker processes)."""

    def build(**kw: Any) -> Launches:
        if request.param == "memory":
            return Launches(**kw)
        return FileLaunches(tmp_path / "connect", **kw)

    return build


def _begin(launches: Launches, key: str = "browser-1", owner: str = "u1") -> str:
    url = launches.begin(
        CONFIG,
        client_id="myelonav",
        redirect_uri="https://app/connect/callback",
        browser_key=key,
        owner=owner,
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["code_challenge_method"] == "S256" and query["aud"] == CONFIG.issuer
    return query["state"]


def test_take_is_single_use_and_checks_browser_and_owner(make: Make) -> None:
    launches = make()
    state = _begin(launches)
    assert launches.known(state) and launches.known(state)  # known() does not use it up
    for key, owner in (("browser-2", "u1"), ("browser-1", "u2"), (None, "u1")):
        with pytest.raises(ImportError_, match="not started in this browser"):
            launches.take(state, browser_key=key, owner=owner)
    pending = launches.take(state, browser_key="browser-1", owner="u1")
    assert pending.redirect_uri == "https://app/connect/callback"
    assert "verifier" not in repr(pending) and pending.verifier not in repr(pending)
    with pytest.raises(ImportError_, match="already used"):
        launches.take(state, browser_key="browser-1", owner="u1")
    assert len(launches) == 0


def test_expiry_and_sweep(make: Make) -> None:
    now = [0.0]
    launches = make(ttl=10, clock=lambda: now[0])
    old = _begin(launches)
    now[0] = 11
    assert not launches.known(old)
    with pytest.raises(ImportError_, match="expired"):
        launches.take(old, browser_key="browser-1", owner="u1")
    stale = _begin(launches)
    now[0] = 30
    _begin(launches)  # starting another sweeps the expired one
    assert len(launches) == 1 and not launches.known(stale)


def test_pending_sign_ins_are_bounded(monkeypatch: pytest.MonkeyPatch, make: Make) -> None:
    monkeypatch.setattr(launch, "MAX_PENDING", 3)
    launches = make()
    states = {_begin(launches, key=f"b{i}") for i in range(3)}
    assert len(states) == 3
    with pytest.raises(ImportError_, match="too many sign-ins"):
        _begin(launches)


def test_a_sign_in_started_in_one_worker_finishes_in_another_once(tmp_path: Path) -> None:
    folder = tmp_path / "connect"
    first, second = FileLaunches(folder), FileLaunches(folder)
    state = _begin(first)
    files = list(folder.iterdir())
    assert len(files) == 1 and state not in files[0].name, "named by a hash, not the state"
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert second.known(state)
    pending = second.take(state, browser_key="browser-1", owner="u1")
    assert pending.config == CONFIG and pending.redirect_uri == "https://app/connect/callback"
    with pytest.raises(ImportError_, match="already used"):
        first.take(state, browser_key="browser-1", owner="u1")
    assert list(folder.iterdir()) == []


def test_a_damaged_sign_in_file_is_not_started(tmp_path: Path) -> None:
    launches = FileLaunches(tmp_path / "connect")
    state = _begin(launches)
    (path,) = (tmp_path / "connect").iterdir()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ImportError_, match="not started in this browser"):
        launches.take(state, browser_key="browser-1", owner="u1")


@pytest.mark.parametrize(
    "url",
    ["https://p.example/auth\r\nSet-Cookie: x=1", "https://p.example/a b", "https://[::1/a"],
)
def test_a_sign_in_address_must_be_one_clean_url(url: str) -> None:
    from myelonav.patient.smart.oauth import check_url

    with pytest.raises(ImportError_, match="authorization_endpoint"):
        check_url(url, "authorization_endpoint")
