"""A local SMART-conformant portal on 127.0.0.1: authorization server + FHIR endpoint.

Real HTTP throughout: discovery, an authorization endpoint that approves or refuses and
redirects to the app's loopback receiver, a token endpoint that checks the PKCE verifier and
issues / refreshes tokens, and FHIR search with paging over the bundled sample patients, with a
429 (Retry-After) once and access tokens that stop working after a number of requests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from myelonav.samples import sample_bundle_path, sample_ids


@dataclass
class Portal:
    """Server state and knobs; tests set the knobs before connecting."""

    patients: dict[str, list[dict[str, Any]]]
    patient_id: str = ""
    base: str = ""
    approve: bool = True
    wrong_state: bool = False
    issue_refresh_tokens: bool = True
    requests_per_token: int = 10_000
    page_size: int = 7
    throttle_once: set[str] = field(default_factory=lambda: {"Observation"})
    unsupported: set[str] = field(default_factory=lambda: {"MedicationStatement"})
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    authorize_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_token(self) -> dict[str, Any]:
        access = secrets.token_urlsafe(16)
        self.tokens[access] = {"uses": 0, "patient": self.patient_id}
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "launch/patient patient/*.read",
            "patient": self.patient_id,
        }
        if self.issue_refresh_tokens:
            refresh = secrets.token_urlsafe(16)
            self.refresh_tokens.add(refresh)
            answer["refresh_token"] = refresh
        return answer


def _load_patients() -> dict[str, list[dict[str, Any]]]:
    patients = {}
    for sample in sample_ids():
        bundle = json.loads(sample_bundle_path(sample).read_text("utf-8"))
        resources = [e["resource"] for e in bundle["entry"]]
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        patients[patient["id"]] = resources
    return patients


def _refers_to(resource: dict[str, Any], patient_id: str) -> bool:
    for key in ("subject", "patient"):
        ref = resource.get(key)
        if isinstance(ref, dict) and str(ref.get("reference", "")).endswith(patient_id):
            return True
    return False


def _categories(resource: dict[str, Any]) -> set[str]:
    return {
        str(coding.get("code"))
        for category in resource.get("category", [])
        for coding in category.get("coding", [])
    }


def _handler(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            if parts.path == "/fhir/.well-known/smart-configuration":
                origin = portal.base.removesuffix("/fhir")
                self._send(
                    200,
                    {
                        "authorization_endpoint": f"{origin}/auth/authorize",
                        "token_endpoint": f"{origin}/auth/token",
                        "code_challenge_methods_supported": ["S256"],
                        "capabilities": ["launch-standalone", "context-standalone-patient"],
                    },
                )
            elif parts.path == "/auth/authorize":
                self._authorize(query)
            elif parts.path.startswith("/fhir/"):
                self._fhir(parts.path.removeprefix("/fhir/"), query)
            else:
                self._send(404, None)

        def _authorize(self, query: dict[str, str]) -> None:
            portal.authorize_calls += 1
            redirect = query.get("redirect_uri", "")
            ok = (
                query.get("response_type") == "code"
                and query.get("code_challenge_method") == "S256"
                and query.get("aud") == portal.base
                and redirect.startswith("http://127.0.0.1:")
                and "launch/patient" in query.get("scope", "")
            )
            if not ok:
                self._send(400, {"error": "invalid_request"})
                return
            state = "forged" if portal.wrong_state else query["state"]
            if portal.approve:
                code = secrets.token_urlsafe(12)
                portal.codes[code] = {
                    "challenge": query["code_challenge"],
                    "redirect_uri": redirect,
                    "client_id": query.get("client_id", ""),
                }
                answer = {"code": code, "state": state}
            else:
                answer = {"error": "access_denied", "state": state}
            self.send_response(302)
            self.send_header("Location", f"{redirect}?{urllib.parse.urlencode(answer)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            if self.path != "/auth/token":
                self._send(404, None)
                return
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            with portal.lock:
                if form.get("grant_type") == "authorization_code":
                    grant = portal.codes.pop(form.get("code", ""), None)
                    verifier = form.get("code_verifier", "")
                    digest = hashlib.sha256(verifier.encode()).digest()
                    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                    if (
                        grant is None
                        or grant["challenge"] != challenge
                        or grant["redirect_uri"] != form.get("redirect_uri")
                        or grant["client_id"] != form.get("client_id")
                    ):
                        portal.log.append("token:rejected")
                        self._send(400, {"error": "invalid_grant"})
                        return
                    portal.log.append("token:code")
                    self._send(200, portal.new_token())
                elif form.get("grant_type") == "refresh_token":
                    refresh = form.get("refresh_token", "")
                    if refresh not in portal.refresh_tokens:
                        self._send(400, {"error": "invalid_grant"})
                        return
                    portal.refresh_tokens.discard(refresh)
                    portal.log.append("token:refresh")
                    self._send(200, portal.new_token())
                else:
                    self._send(400, {"error": "unsupported_grant_type"})

        def _fhir(self, path: str, query: dict[str, str]) -> None:
            auth = self.headers.get("Authorization", "")
            with portal.lock:
                token = portal.tokens.get(auth.removeprefix("Bearer "))
                if token is None or token["uses"] >= portal.requests_per_token:
                    portal.log.append("fhir:401")
                    self._send(401, {"resourceType": "OperationOutcome"})
                    return
                token["uses"] += 1
                kind = path.split("/", 1)[0]
                if kind in portal.throttle_once:
                    portal.throttle_once.discard(kind)
                    portal.log.append("fhir:429")
                    self._send(429, None, {"Retry-After": "1"})
                    return
            resources = portal.patients[token["patient"]]
            if path == "_page":
                page = portal.pages.get(query.get("key", ""), [])
                self._page(page, int(query.get("offset", "0")), query.get("key", ""))
            elif "/" in path:
                kind, rid = path.split("/", 1)
                found = [r for r in resources if r["resourceType"] == kind and r["id"] == rid]
                self._send(200, found[0]) if found else self._send(404, None)
            elif kind in portal.unsupported:
                self._send(400, {"resourceType": "OperationOutcome"})
            else:
                if query.get("patient") != token["patient"]:
                    self._send(403, {"resourceType": "OperationOutcome"})
                    return
                matches = [
                    r
                    for r in resources
                    if r["resourceType"] == kind
                    and _refers_to(r, token["patient"])
                    and ("category" not in query or query["category"] in _categories(r))
                ]
                key = secrets.token_urlsafe(8)
                portal.pages[key] = matches
                portal.log.append(f"search:{kind}")
                self._page(matches, 0, key)

        def _page(self, matches: list[dict[str, Any]], offset: int, key: str) -> None:
            chunk = matches[offset : offset + portal.page_size]
            links = [{"relation": "self", "url": f"{portal.base}/_page?key={key}&offset={offset}"}]
            if offset + portal.page_size < len(matches):
                nxt = offset + portal.page_size
                links.append(
                    {"relation": "next", "url": f"{portal.base}/_page?key={key}&offset={nxt}"}
                )
                portal.log.append("page:next")
            self._send(
                200,
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "total": len(matches),
                    "link": links,
                    "entry": [{"resource": r, "search": {"mode": "match"}} for r in chunk],
                },
            )

    return Handler


@pytest.fixture
def portal() -> Iterator[Portal]:
    state = Portal(patients=_load_patients())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    state.patient_id = next(iter(state.patients))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Browser:
    """The user's browser: follows the portal's redirect to the app's loopback receiver."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        httpx.get(url, follow_redirects=True, timeout=10)


@pytest.fixture
def browser() -> Browser:
    return Browser()
