"""Clinic mode: login, sessions, CSRF, audit trail, team isolation, XSS, open redirects."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from myelonav.web.auth.middleware import safe_next

from .conftest import PASSWORD, login  # type: ignore[import-not-found]


def test_runs_on_postgresql_when_installed(clinic: Any) -> None:
    from myelonav.store import pgtest

    expected = "postgresql" if pgtest.available() is None else "sqlite"
    assert clinic.backend == expected
    assert clinic.app.state.profiles.engine.dialect.name == expected


def test_navigator_sees_only_their_team(clinic: Any) -> None:
    mine, theirs = f"MINE-{uuid.uuid4().hex}", f"THEIRS-{uuid.uuid4().hex}"
    clinic.profile("nav_a", mine)
    clinic.profile("nav_b", theirs)
    desk = clinic.clients["nav_a"].get("/desk")
    assert desk.status_code == 200
    export = clinic.clients["clin_a"].get("/api/v1/export").json()
    notes = [p["record"].get("preferences", {}).get("notes") for p in export["profiles"]]
    assert mine in notes and theirs not in notes
    assert "health information" in export["notice"]


def test_every_access_is_in_the_audit_trail(clinic: Any) -> None:
    pid = clinic.profile("nav_a", "AUDITME")
    nav = clinic.clients["nav_a"]
    nav.get(f"/api/v1/profiles/{pid}")
    nav.patch(f"/api/v1/profiles/{pid}/preferences", json={"max_travel_miles": 10},
              headers=clinic.csrf("nav_a"))
    nav.get(f"/api/v1/profiles/{pid}/export")
    clinic.clients["nav_b"].get(f"/api/v1/profiles/{pid}")
    clinic.clients["clin_a"].delete(f"/api/v1/profiles/{pid}", headers=clinic.csrf("clin_a"))
    trail = clinic.clients["admin"].get("/api/v1/admin/audit", params={"profile_id": pid})
    assert trail.status_code == 200
    body = trail.json()
    seen = [(e["actor"], e["action"]) for e in body["events"]]
    assert seen == [("nav_a", "read"), ("nav_a", "change"), ("nav_a", "export"),
                    ("nav_b", "denied"), ("clin_a", "delete")]
    assert all(e["client"] == "testclient" and e["at"] for e in body["events"])
    assert body["chain_intact"] is True
    assert "AUDITME" not in trail.text and "90210" not in trail.text
    assert clinic.clients["nav_a"].get("/api/v1/admin/audit").status_code == 403


def test_admin_holds_no_clinical_data(clinic: Any) -> None:
    pid = clinic.profile("nav_a", "ADMINNO")
    admin = clinic.clients["admin"]
    assert admin.get(f"/api/v1/profiles/{pid}").status_code == 404
    assert admin.get("/api/v1/export").status_code == 403
    users = admin.get("/api/v1/admin/users").json()
    assert {u["username"] for u in users} >= {"admin", "nav_a", "clin_b"}
    assert all("password" not in str(u) for u in users)


def test_state_changes_need_the_csrf_token(clinic: Any) -> None:
    pid = clinic.profile("nav_a", "CSRF")
    nav = clinic.clients["nav_a"]
    url = f"/api/v1/profiles/{pid}/preferences"
    assert nav.patch(url, json={"notes": "x"}).status_code == 403
    assert nav.patch(url, json={"notes": "x"},
                     headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    # a token from another session is worthless
    assert nav.patch(url, json={"notes": "x"}, headers=clinic.csrf("clin_a")).status_code == 403
    assert nav.patch(url, json={"notes": "x"}, headers=clinic.csrf("nav_a")).status_code == 200
    # the forms carry it
    page = nav.get(f"/p/{pid}").text
    assert 'name="csrf_token"' in page
    assert nav.post(f"/p/{pid}/preferences", data={"trial_interest": "yes"},
                    follow_redirects=False).status_code == 403


def test_login_sets_a_fresh_hardened_cookie(clinic: Any) -> None:
    with TestClient(clinic.app) as c:
        c.cookies.set("myelonav_session", "planted-by-attacker", domain="testserver.local")
        r = login(c, "nav_b")
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        token = c.cookies.get("myelonav_session")
        assert token and token != "planted-by-attacker"
        assert c.get("/api/v1/me").json()["username"] == "nav_b"
        # logging out ends the session on the server, not only in the browser
        csrf = {"X-CSRF-Token": clinic.csrf("nav_a")["X-CSRF-Token"]}
        assert c.post("/logout", headers=csrf, follow_redirects=False).status_code == 403
        from myelonav.web.auth.csrf import csrf_token

        from .conftest import SECRET  # type: ignore[import-not-found]

        out = c.post("/logout", headers={"X-CSRF-Token": csrf_token(SECRET, token)},
                     follow_redirects=False)
        assert out.status_code == 303
        c.cookies.set("myelonav_session", token, domain="testserver.local")
        assert c.get("/api/v1/me").status_code == 401


def test_wrong_passwords_are_throttled(clinic: Any) -> None:
    clinic.app.state.accounts.add_user("throttled", PASSWORD, "patient")
    with TestClient(clinic.app) as c:
        for _ in range(5):
            assert login(c, "throttled", "wrong wrong wrong").status_code == 401
        assert login(c, "throttled").status_code == 401, "locked out even with the password"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1"])
def test_login_never_redirects_off_site(clinic: Any, target: str) -> None:
    assert safe_next(target) == "/"
    with TestClient(clinic.app) as c:
        r = c.post("/login", data={"username": "nav_a", "password": PASSWORD, "next": target},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/")
        assert not r.headers["location"].startswith(("//", "/\\"))


def test_unauthenticated_pages_redirect_to_login_with_a_local_next(clinic: Any) -> None:
    r = clinic.clients["anon"].get("/p/" + "a" * 32, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/p/")
    assert clinic.clients["anon"].get("/healthz").json() == {"status": "ok"}
    assert clinic.clients["anon"].get("/static/style.css").status_code == 200
    assert clinic.clients["anon"].get("/api/v1/openapi.json").status_code == 401


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_stored_text_is_escaped_when_rendered(clinic: Any) -> None:
    pid = clinic.profile("nav_a", XSS)
    nav = clinic.clients["nav_a"]
    clinic.app.state.profiles.set_label(pid, XSS)
    for path in (f"/p/{pid}", "/desk", f"/p/{pid}/options"):
        html = nav.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    api = nav.get(f"/api/v1/profiles/{pid}")
    assert api.headers["content-type"].startswith("application/json")


def test_batch_rematch_runs_in_the_background_for_the_team_only(clinic: Any) -> None:
    clinic.profile("clin_b", "REMATCH-B1")
    clinic.profile("clin_b", "REMATCH-B2")
    clin = clinic.clients["clin_b"]
    started = clin.post("/api/v1/desk/rematch", headers=clinic.csrf("clin_b"))
    assert started.status_code in (202, 409), started.text
    team_b = clinic.users["clin_b"].team_id
    clinic.app.state.rematch.wait(team_b)
    status = clin.get("/api/v1/desk/rematch").json()
    assert status["state"] == "done" and status["done"] == status["total"] >= 2
    mine = {p.id for p in clinic.app.state.profiles.list_profiles(team_b)}
    assert {r["profile_id"] for r in status["results"]} <= mine
    assert all("counts" in r or "error" in r for r in status["results"])
    assert clinic.clients["nav_a"].get("/api/v1/desk/rematch").json()["state"] == "idle"
    assert clinic.clients["patient"].get("/api/v1/desk/rematch").status_code == 403
    assert "Re-match now" in clin.get("/desk").text
