"""The web app's sign-ins under way: single use, expiring, bound to browser and account."""

from __future__ import annotations

import urllib.parse

import pytest

from myelonav.errors import ImportError_
from myelonav.patient.smart import launch
from myelonav.patient.smart.launch import Launches
from myelonav.patient.smart.oauth import SmartConfiguration

CONFIG = SmartConfiguration(
    "https://p.example/fhir", "https://p.example/auth", "https://p.example/t"
)


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


def test_take_is_single_use_and_checks_browser_and_owner() -> None:
    launches = Launches()
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


def test_expiry_and_sweep() -> None:
    now = [0.0]
    launches = Launches(ttl=10, clock=lambda: now[0])
    old = _begin(launches)
    now[0] = 11
    assert not launches.known(old)
    with pytest.raises(ImportError_, match="expired"):
        launches.take(old, browser_key="browser-1", owner="u1")
    stale = _begin(launches)
    now[0] = 30
    _begin(launches)  # starting another sweeps the expired one
    assert len(launches) == 1 and not launches.known(stale)


def test_pending_sign_ins_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "MAX_PENDING", 3)
    launches = Launches()
    states = {_begin(launches, key=f"b{i}") for i in range(3)}
    assert len(states) == 3
    with pytest.raises(ImportError_, match="too many sign-ins"):
        _begin(launches)


@pytest.mark.parametrize(
    "url",
    ["https://p.example/auth\r\nSet-Cookie: x=1", "https://p.example/a b", "https://[::1/a"],
)
def test_a_sign_in_address_must_be_one_clean_url(url: str) -> None:
    from myelonav.patient.smart.oauth import check_url

    with pytest.raises(ImportError_, match="authorization_endpoint"):
        check_url(url, "authorization_endpoint")
