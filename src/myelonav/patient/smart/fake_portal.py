"""A local SMART-conformant patient portal on 127.0.0.1, for tests and demonstrations.

Real HTTP throughout: discovery, an authorization endpoint that approves or refuses (at once,
or through a plain HTML consent form) and redirects to the app, a token endpoint that checks
the PKCE verifier and, when a client secret is set, client authentication
(client_secret_basic / client_secret_post as advertised), issues and refreshes tokens, and FHIR
search with paging over the bundled sample patients, with a 429 (Retry-After) once, access
tokens that stop working after a number of requests, DocumentReference and Binary.
Never point it at anything but loopback: it serves the fictional sample patients only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
    # a confidential client: the token endpoint requires this secret (None: public client)
    client_secret: str | None = None
    # advertised token_endpoint_auth_methods_supported (None: not advertised)
    auth_methods: list[str] | None = None
    # ask the user on a plain HTML form instead of answering at once
    consent_page: bool = False
    redirect_prefixes: tuple[str, ...] = ("http://127.0.0.1:",)
    throttle_always: bool = False
    # DocumentReference resources served for every patient; Binary id -> (type, bytes)
    documents: list[dict[str, Any]] = field(default_factory=list)
    binaries: dict[str, tuple[str, bytes]] = field(default_factory=dict)

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


def load_patients() -> dict[str, list[dict[str, Any]]]:
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


def handler_for(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _raw(
            self, status: int, kind: str, data: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            # the client may stop reading (a size bound): not a server error
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            # the client may stop reading (a size bound): not a server error
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            if parts.path == "/fhir/.well-known/smart-configuration":
                origin = portal.base.removesuffix("/fhir")
                config: dict[str, Any] = {
                    "authorization_endpoint": f"{origin}/auth/authorize",
                    "token_endpoint": f"{origin}/auth/token",
                    "code_challenge_methods_supported": ["S256"],
                    "capabilities": ["launch-standalone", "context-standalone-patient"],
                }
                if portal.auth_methods is not None:
                    config["token_endpoint_auth_methods_supported"] = portal.auth_methods
                self._send(200, config)
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
                and redirect.startswith(portal.redirect_prefixes)
                and "launch/patient" in query.get("scope", "")
                and bool(query.get("code_challenge"))
                and bool(query.get("state"))
            )
            if not ok:
                self._send(400, {"error": "invalid_request"})
                return
            if portal.consent_page:
                self._consent_form(query)
                return
            self._answer(query, portal.approve)

        def _consent_form(self, query: dict[str, str]) -> None:
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in query.items()
            )
            page = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                "<title>Sample portal: share your record?</title></head><body><main>"
                "<h1>Share your record with myelonav?</h1>"
                f'<form method="post" action="/auth/consent">{hidden}'
                '<button type="submit" name="decision" value="allow">Share my record</button> '
                '<button type="submit" name="decision" value="deny">Do not share</button>'
                "</form></main></body></html>"
            )
            self._raw(200, "text/html; charset=utf-8", page.encode())

        def _answer(self, query: dict[str, str], approve: bool) -> None:
            redirect = query.get("redirect_uri", "")
            state = "forged" if portal.wrong_state else query["state"]
            if approve:
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

        def _client_ok(self, form: dict[str, str]) -> str | None:
            """The authenticated client id, or None when authentication fails."""
            if portal.client_secret is None:
                return form.get("client_id", "")
            methods = portal.auth_methods or ["client_secret_basic"]
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic ") and "client_secret_basic" in methods:
                try:
                    pair = base64.b64decode(header[6:], validate=True).decode()
                except ValueError:
                    return None
                client_id, _, secret = pair.partition(":")
                client_id = urllib.parse.unquote_plus(client_id)
                if secrets.compare_digest(urllib.parse.unquote_plus(secret), portal.client_secret):
                    portal.log.append("auth:basic")
                    return client_id
                return None
            if (
                "client_secret" in form
                and "client_secret_post" in methods
                and secrets.compare_digest(form["client_secret"], portal.client_secret)
            ):
                portal.log.append("auth:post")
                return form.get("client_id", "")
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path == "/auth/consent":
                self._answer(form, form.get("decision") == "allow")
                return
            if self.path != "/auth/token":
                self._send(404, None)
                return
            client_id = self._client_ok(form)
            if client_id is None:
                portal.log.append("token:unauthenticated")
                self._send(
                    401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="token"'}
                )
                return
            form["client_id"] = client_id
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
                if portal.throttle_always:
                    portal.log.append("fhir:429")
                    self._send(429, None, {"Retry-After": "1"})
                    return
                if kind in portal.throttle_once:
                    portal.throttle_once.discard(kind)
                    portal.log.append("fhir:429")
                    self._send(429, None, {"Retry-After": "1"})
                    return
            resources = portal.patients[token["patient"]]
            if path == "_page":
                page = portal.pages.get(query.get("key", ""), [])
                self._page(page, int(query.get("offset", "0")), query.get("key", ""))
            elif path.startswith("Binary/"):
                stored = portal.binaries.get(path.removeprefix("Binary/"))
                if stored is None:
                    self._send(404, None)
                elif "xml" in self.headers.get("Accept", ""):
                    portal.log.append("binary:raw")
                    self._raw(200, stored[0], stored[1])
                else:
                    portal.log.append("binary:json")
                    data = base64.b64encode(stored[1]).decode()
                    self._send(
                        200, {"resourceType": "Binary", "contentType": stored[0], "data": data}
                    )
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
                pool = resources + portal.documents if kind == "DocumentReference" else resources
                matches = [
                    r
                    for r in pool
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


@contextmanager
def serve_portal() -> Iterator[Portal]:
    """A portal on a free 127.0.0.1 port serving the sample patients, stopped on exit."""
    state = Portal(patients=load_patients())
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    state.patient_id = next(iter(state.patients))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["Portal", "handler_for", "load_patients", "serve_portal"]
