"""Clinic mode: every route x every role x own/other team -> the expected outcome.

``MATRIX`` names, for each (method, path) the app serves (the OpenAPI spec plus the HTML
pages), what kind of access it is; ``EXPECTED`` says, for each kind, who is allowed. A
route added without a matrix entry fails ``test_matrix_covers_every_route``. Denied means
401 (API) / 303 to the login page (pages) for the anonymous, and 403 or 404 with none of
the profile's content for everyone else.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from myelonav.samples import sample_ids, sample_profile

ANY_USER = frozenset({"patient", "caregiver", "other_patient", "nav_a", "clin_a", "nav_b",
                      "clin_b", "admin"})
CLINICAL = ANY_USER - {"admin"}

# kind -> who is allowed; profile kinds are judged on a team A profile ("team") and on a
# profile the patient owns and shares with the caregiver ("own")
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "public": {"any": ANY_USER | {"anon"}},
    "user": {"any": ANY_USER},
    "create": {"any": CLINICAL},
    "desk": {"any": frozenset({"nav_a", "clin_a", "nav_b", "clin_b"})},
    "bulk": {"any": frozenset({"clin_a", "clin_b"})},
    "admin": {"any": frozenset({"admin"})},
    "read": {"team": frozenset({"nav_a", "clin_a"}), "own": frozenset({"patient", "caregiver"})},
    "export": {"team": frozenset({"nav_a", "clin_a"}),
               "own": frozenset({"patient", "caregiver"})},
    "change": {"team": frozenset({"nav_a", "clin_a"}), "own": frozenset({"patient"})},
    "delete": {"team": frozenset({"clin_a"}), "own": frozenset({"patient"})},
}

MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "user",
    ("GET", "/api/v1/openapi.json"): "user",
    ("GET", "/api/v1/me"): "user",
    ("GET", "/api/v1/samples"): "user",
    ("POST", "/api/v1/grading/crs"): "user",
    ("POST", "/api/v1/grading/icans"): "user",
    ("POST", "/api/v1/support/triage"): "user",
    ("GET", "/api/v1/support/resources"): "user",
    ("GET", "/api/v1/trials/search"): "user",
    ("GET", "/"): "user",
    ("GET", "/intake"): "user",
    ("GET", "/upload"): "user",
    ("GET", "/support"): "user",
    ("POST", "/support"): "user",
    ("GET", "/privacy"): "user",
    ("POST", "/api/v1/profiles"): "create",
    ("POST", "/api/v1/samples/{sample_id}"): "create",
    ("POST", "/demo/{sample_id}"): "create",
    ("POST", "/intake"): "create",
    ("POST", "/upload"): "create",
    ("GET", "/desk"): "desk",
    ("POST", "/api/v1/desk/rematch"): "desk",
    ("POST", "/desk/rematch"): "desk",
    ("GET", "/api/v1/desk/rematch"): "desk",
    ("GET", "/api/v1/export"): "bulk",
    ("DELETE", "/api/v1/profiles"): "bulk",
    ("GET", "/api/v1/admin/users"): "admin",
    ("GET", "/api/v1/admin/audit"): "admin",
    ("GET", "/api/v1/profiles/{profile_id}"): "read",
    ("GET", "/api/v1/profiles/{profile_id}/options"): "read",
    ("GET", "/api/v1/profiles/{profile_id}/trials"): "read",
    ("GET", "/api/v1/profiles/{profile_id}/questions"): "read",
    ("GET", "/api/v1/profiles/{profile_id}/plot"): "read",
    ("GET", "/p/{profile_id}"): "read",
    ("GET", "/p/{profile_id}/options"): "read",
    ("GET", "/p/{profile_id}/trials"): "read",
    ("GET", "/p/{profile_id}/questions"): "read",
    ("GET", "/p/{profile_id}/plot.svg"): "read",
    ("GET", "/api/v1/profiles/{profile_id}/export"): "export",
    ("GET", "/api/v1/profiles/{profile_id}/packet.pdf"): "export",
    ("GET", "/p/{profile_id}/export.json"): "export",
    ("GET", "/p/{profile_id}/packet.pdf"): "export",
    ("PATCH", "/api/v1/profiles/{profile_id}/preferences"): "change",
    ("POST", "/p/{profile_id}/preferences"): "change",
    ("POST", "/api/v1/profiles/{profile_id}/share"): "change",
    ("DELETE", "/api/v1/profiles/{profile_id}"): "delete",
    ("POST", "/p/{profile_id}/delete"): "delete",
    # s2-i15-options: clinician tools (the CLI's calculators on one profile)
    ("GET", "/p/{profile_id}/clinician"): "read",
    # issue 15 load/packet (s2-i15-load)
    ("POST", "/p/{profile_id}/packet-name"): "change",
}

# issue 15: updating trials from ClinicalTrials.gov (navigators, clinicians, administrators)
EXPECTED["update"] = {"any": frozenset({"nav_a", "clin_a", "nav_b", "clin_b", "admin"})}
MATRIX.update({
    ("GET", "/trials/update"): "user",
    ("POST", "/trials/update"): "update",
    ("GET", "/api/v1/trials/update"): "user",
    ("POST", "/api/v1/trials/update"): "update",
})


# --- issue 17: "Connect to my patient portal" (web/pages/connect_pages.py) ---------------
# the patient (or a navigator, for their team) connects; the callback is public because the
# portal's redirect carries no SameSite=Strict session cookie (it only hands the answer on)
EXPECTED["connect"] = {"any": frozenset({"patient", "caregiver", "other_patient", "nav_a",
                                         "nav_b"})}
MATRIX.update({
    ("GET", "/connect"): "connect",
    ("POST", "/connect"): "connect",
    ("GET", "/connect/callback"): "public",
    ("GET", "/connect/finish"): "connect",
})

def served_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) in the OpenAPI spec, plus the pages (kept out of the spec)."""
    from myelonav.web.pages import page_router

    found = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    found |= {("GET", "/api/v1/openapi.json"), ("GET", "/healthz")}

    def walk(routes: Any) -> None:
        for r in routes:
            if hasattr(r, "endpoint"):
                found.update((m, r.path) for m in r.methods if m != "HEAD")
            elif hasattr(r, "original_router"):
                walk(r.original_router.routes)

    walk(page_router().routes)
    return found


def test_matrix_covers_every_route(clinic: Any) -> None:
    served = served_routes(clinic.app)
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert not missing, f"routes without an access-matrix entry: {missing}"
    assert not stale, f"matrix entries for routes that do not exist: {stale}"


def _request(clinic: Any, who: str, method: str, path: str) -> Any:
    client = clinic.clients[who]
    headers = {"Accept": "application/json"} | clinic.csrf(who)
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if path == "/api/v1/profiles" and method == "POST":
        kwargs["json"] = sample_profile(sample_ids()[0]).model_dump(mode="json")
    elif path.endswith("/preferences") and method == "PATCH":
        kwargs["json"] = {"notes": "changed"}
    elif path.endswith("/share"):
        kwargs["json"] = {"username": "caregiver"}
    elif path == "/upload":
        raw = json.dumps(sample_profile(sample_ids()[0]).model_dump(mode="json")).encode()
        kwargs["files"] = {"file": ("p.json", raw, "application/json")}
    elif path == "/login" and method == "POST":
        kwargs["data"] = {"username": f"nobody-{who}", "password": "wrong password"}
    elif method in ("POST", "PATCH") and path.startswith("/api/"):
        kwargs["json"] = {}
    elif method == "POST":
        kwargs["data"] = {}
    if path == "/api/v1/trials/search":
        kwargs["params"] = {"q": "myeloma"}
    return client.request(method, path, **kwargs)


def _denied_status(who: str, path: str, status: int) -> bool:
    if who == "anon":
        return status == (401 if path.startswith("/api/") else 303)
    return status in (403, 404)


def _cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for method, path in MATRIX:
        targets = ["team", "own"] if "{profile_id}" in path else ["any"]
        for target in targets:
            for who in ("anon", *sorted(ANY_USER)):
                cases.append((method, path, target, who))
    return cases


def test_access_matrix(clinic: Any) -> None:
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    team_a_marker = f"TEAMA-{uuid.uuid4().hex}"
    for method, path, target, who in _cases():
        if (method, path) == ("POST", "/logout"):
            continue  # exercised in test_clinic (it ends the session)
        kind = MATRIX[(method, path)]
        allowed = who in EXPECTED[kind][target]
        marker = f"M{uuid.uuid4().hex}"
        concrete = path.replace("{sample_id}", sample_ids()[0])
        if "{profile_id}" in path:
            owner = "nav_a" if target == "team" else "patient"
            pid = clinic.profile(owner, marker)
            if target == "own":
                clinic.app.state.accounts.share(pid, clinic.users["caregiver"].id)
            concrete = concrete.replace("{profile_id}", pid)
        elif kind == "bulk":
            clinic.profile("nav_a", team_a_marker)
        r = _request(clinic, who, method, concrete)
        if allowed:
            # a wrong password is still the login route answering (401 with the form)
            ok = r.status_code < 400 or r.status_code in (409, 422) or (
                path == "/login" and r.status_code == 401)
            if ok and kind in ("read", "export") and r.headers.get("content-type", "").startswith(
                    ("application/json",)) and path.endswith(("{profile_id}", "/export")):
                ok = marker in r.text
        else:
            ok = _denied_status(who, path, r.status_code) and marker not in r.text
            if kind == "bulk":
                ok = ok and team_a_marker not in r.text
        if kind == "bulk" and allowed and who == "clin_b":
            ok = ok and team_a_marker not in r.text  # bulk is scoped to one's own team
        outcomes["allowed" if allowed else "denied"] += 1
        if not ok:
            failures.append(f"{who:13} {method} {path} [{target}] -> {r.status_code} "
                            f"(expected {'allowed' if allowed else 'denied'})")
    assert not failures, "\n".join(failures)
    assert outcomes["allowed"] > 50 and outcomes["denied"] > 200, outcomes


@pytest.mark.parametrize("path", ["/api/v1/profiles/{pid}", "/p/{pid}", "/api/v1/export"])
def test_anonymous_gets_no_patient_data(clinic: Any, path: str) -> None:
    marker = f"ANON-{uuid.uuid4().hex}"
    pid = clinic.profile("nav_a", marker)
    r = clinic.clients["anon"].get(path.format(pid=pid), follow_redirects=True)
    assert marker not in r.text and "90210" not in r.text


# --- issue 15, profiles that last: my profiles, edit, history, labs, delete with undo -------
EXPECTED["mine"] = {"any": CLINICAL}  # a list of one's own (or team's) profiles; no admin
MATRIX.update({
    ("GET", "/profiles"): "mine",
    ("POST", "/p/{profile_id}/label"): "change",
    ("GET", "/p/{profile_id}/edit"): "change",
    ("POST", "/p/{profile_id}/edit"): "change",
    ("GET", "/p/{profile_id}/history"): "read",
    ("GET", "/p/{profile_id}/labs"): "read",
    ("POST", "/p/{profile_id}/labs"): "change",
    ("GET", "/p/{profile_id}/delete"): "delete",
    ("POST", "/p/{profile_id}/restore"): "delete",
    ("POST", "/p/{profile_id}/erase"): "delete",
    ("GET", "/api/v1/profiles/{profile_id}/history"): "read",
})
