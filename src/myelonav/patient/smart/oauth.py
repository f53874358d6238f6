"""SMART App Launch, standalone patient launch: discovery, PKCE (S256), code exchange, refresh.

Tokens live only in a ``Token`` object in memory; its ``repr`` hides them, nothing here logs,
and the loopback receiver does not print the request line (which carries the code).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx

from myelonav.errors import ImportError_

WELL_KNOWN = ".well-known/smart-configuration"
RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "Medication",
    "Procedure",
    "Observation",
    "DocumentReference",
    "Binary",
)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _fail(where: str, message: str) -> ImportError_:
    return ImportError_(message, location=where)


def check_url(url: str, what: str) -> str:
    """Endpoints must be https (plain http only on this machine's loopback, for tests)."""
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        # a URL that is passed on to the browser (the sign-in page) must be one token
        raise _fail(what, f"{url[:200]!r} has spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise _fail(what, f"{url[:200]!r} is not a URL") from None
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS):
        return url
    raise _fail(what, f"{url[:200]!r} is not an https URL")


@dataclass(frozen=True)
class SmartConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    capabilities: frozenset[str] = frozenset()
    scopes_supported: frozenset[str] = frozenset()
    token_auth_methods: frozenset[str] = frozenset()

    @property
    def v2_scopes(self) -> bool:
        return "permission-v2" in self.capabilities or any(
            s.endswith(".rs") for s in self.scopes_supported
        )

    def scope(self) -> str:
        suffix = "rs" if self.v2_scopes else "read"
        reads = " ".join(f"patient/{t}.{suffix}" for t in RESOURCE_TYPES)
        return f"launch/patient openid fhirUser offline_access {reads}"

    def auth_method(self, client_secret: str | None) -> str:
        """How myelonav proves who it is at the token endpoint.

        Without a secret: "none" (a public client; PKCE protects the code). With one:
        ``client_secret_basic`` unless the portal lists only ``client_secret_post``
        (RFC 8414: an absent list means ``client_secret_basic``).
        """
        if client_secret is None:
            return "none"
        methods = self.token_auth_methods
        if not methods or "client_secret_basic" in methods:
            return "client_secret_basic"
        if "client_secret_post" in methods:
            return "client_secret_post"
        raise _fail(
            self.token_endpoint,
            "a client secret is configured, but the portal accepts neither client_secret_basic "
            f"nor client_secret_post (it lists: {', '.join(sorted(methods))[:200]})",
        )


def discover(http: httpx.Client, iss: str) -> SmartConfiguration:
    """Read ``{iss}/.well-known/smart-configuration``."""
    iss = check_url(iss.rstrip("/"), "ISS_URL")
    where = f"{iss}/{WELL_KNOWN}"
    try:
        response = http.get(where, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise _fail(where, f"cannot reach the portal: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise _fail(where, f"the portal answered HTTP {response.status_code}; is this a FHIR URL?")
    data = _json(response, where)
    try:
        auth = check_url(str(data["authorization_endpoint"]), f"{where}: authorization_endpoint")
        token = check_url(str(data["token_endpoint"]), f"{where}: token_endpoint")
    except KeyError as exc:
        raise _fail(where, f"missing {exc.args[0]}") from None
    methods = data.get("code_challenge_methods_supported")
    if isinstance(methods, list) and methods and "S256" not in methods:
        raise _fail(where, "the portal does not support PKCE S256")
    caps = data.get("capabilities")
    scopes = data.get("scopes_supported")
    auth_methods = data.get("token_endpoint_auth_methods_supported")
    return SmartConfiguration(
        issuer=iss,
        authorization_endpoint=auth,
        token_endpoint=token,
        capabilities=frozenset(c for c in caps if isinstance(c, str))
        if isinstance(caps, list)
        else frozenset(),
        scopes_supported=frozenset(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else frozenset(),
        token_auth_methods=frozenset(m for m in auth_methods if isinstance(m, str))
        if isinstance(auth_methods, list)
        else frozenset(),
    )


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


@dataclass
class Token:
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    patient: str | None = None
    scope: str = ""

    def expired(self, margin: float = 30.0) -> bool:
        return time.time() + margin >= self.expires_at


def _json(response: httpx.Response, where: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise _fail(where, "the portal did not answer with JSON") from None
    if not isinstance(data, dict):
        raise _fail(where, "the portal answered with JSON that is not an object")
    return data


def _token_from(data: dict[str, Any], where: str, previous: Token | None = None) -> Token:
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise _fail(where, "the token response has no access_token")
    if str(data.get("token_type", "bearer")).lower() != "bearer":
        raise _fail(where, "the token is not a bearer token")
    expires_in = data.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
    refresh = data.get("refresh_token")
    patient = data.get("patient")
    if not isinstance(refresh, str):
        refresh = previous.refresh_token if previous else None
    if not isinstance(patient, str):
        patient = previous.patient if previous else None
    return Token(
        access_token=access,
        expires_at=time.time() + max(0.0, min(lifetime, 86_400.0)),
        refresh_token=refresh,
        patient=patient,
        scope=str(data.get("scope", "")),
    )


def _client_form_value(value: str) -> str:
    return urllib.parse.quote_plus(value, safe="")


def token_post(
    http: httpx.Client,
    config: SmartConfiguration,
    form: dict[str, str],
    *,
    client_id: str,
    client_secret: str | None = None,
) -> httpx.Response:
    """POST to the token endpoint, authenticating as the portal asks (``auth_method``).

    client_secret_basic encodes id and secret form-style before base64 (RFC 6749 2.3.1).
    The secret goes only into this request; it is never logged or kept.
    """
    method = config.auth_method(client_secret)
    headers = {"Accept": "application/json"}
    body = dict(form)
    if method == "client_secret_basic" and client_secret is not None:
        pair = f"{_client_form_value(client_id)}:{_client_form_value(client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        body["client_id"] = client_id
        if method == "client_secret_post" and client_secret is not None:
            body["client_secret"] = client_secret
    return http.post(config.token_endpoint, data=body, headers=headers)


def exchange_code(
    http: httpx.Client,
    config: SmartConfiguration,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str | None = None,
) -> Token:
    where = config.token_endpoint
    try:
        response = token_post(
            http,
            config,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            client_id=client_id,
            client_secret=client_secret,
        )
    except httpx.HTTPError as exc:
        raise _fail(
            where, f"cannot reach the portal's sign-in service: {type(exc).__name__}"
        ) from None
    if response.status_code == 401 and client_secret is None:
        raise _fail(
            where,
            "the portal refused the sign-in (HTTP 401): it may need myelonav registered with a "
            "client secret (MYELONAV_SMART_CLIENT_SECRET_FILE)",
        )
    if response.status_code != 200:
        raise _fail(where, f"the portal refused the sign-in (HTTP {response.status_code})")
    token = _token_from(_json(response, where), where)
    if token.patient is None:
        raise _fail(where, "the portal did not say which patient record was shared")
    return token


def refresh(
    http: httpx.Client,
    config: SmartConfiguration,
    token: Token,
    client_id: str,
    client_secret: str | None = None,
) -> Token | None:
    """A fresh access token from the refresh token, or None when that is not possible."""
    if token.refresh_token is None:
        return None
    try:
        response = token_post(
            http,
            config,
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token},
            client_id=client_id,
            client_secret=client_secret,
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return _token_from(_json(response, config.token_endpoint), config.token_endpoint, token)


def authorization_url(
    config: SmartConfiguration, *, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    """The portal's sign-in address for this launch (PKCE S256, ``state``, ``aud``)."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": config.scope(),
            "state": state,
            "aud": config.issuer,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in config.authorization_endpoint else "?"
    return f"{config.authorization_endpoint}{separator}{query}"


def consent_error(error: str) -> str:
    """Plain words for the portal's ``error`` answer on the redirect."""
    if error == "access_denied":
        return "you (or the portal) declined to share the record; nothing was read"
    return f"the portal refused the sign-in: {error[:80]}"


class _Receiver(BaseHTTPRequestHandler):
    result: dict[str, str] | None = None

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        query = dict(urllib.parse.parse_qsl(parts.query))
        type(self).result = query
        body = (
            "<!doctype html><title>myelonav</title><p>"
            + (
                "Connected. You can close this window and go back to myelonav."
                if "code" in query
                else "The portal did not share the record. You can close this window."
            )
            + "</p>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line carries the authorization code."""


def authorize(
    http: httpx.Client,
    config: SmartConfiguration,
    *,
    client_id: str,
    open_browser: Callable[[str], object],
    port: int = 0,
    timeout: float = 300.0,
    client_secret: str | None = None,
) -> Token:
    """Run the authorization-code + PKCE flow with a one-shot 127.0.0.1 redirect receiver."""
    handler: type[_Receiver] = type("Receiver", (_Receiver,), {"result": None})
    server = HTTPServer(("127.0.0.1", port), handler)
    server.timeout = 0.2
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    url = authorization_url(
        config, client_id=client_id, redirect_uri=redirect_uri, state=state, challenge=challenge
    )
    opener = threading.Thread(target=open_browser, args=(url,), daemon=True)
    deadline = time.monotonic() + timeout
    try:
        opener.start()
        while handler.result is None and time.monotonic() < deadline:
            server.handle_request()
    finally:
        server.server_close()
    result: dict[str, str] | None = handler.result
    where = config.authorization_endpoint
    if result is None:
        raise _fail(where, f"no answer from the portal within {timeout:.0f} s")
    if result.get("state") != state:
        raise _fail(where, "the portal's answer does not match this sign-in (state); refused")
    if "error" in result:
        raise _fail(where, consent_error(result["error"]))
    code = result.get("code")
    if not code:
        raise _fail(where, "the portal's answer has no authorization code")
    return exchange_code(
        http,
        config,
        code=code,
        verifier=verifier,
        redirect_uri=redirect_uri,
        client_id=client_id,
        client_secret=client_secret,
    )


__all__ = [
    "RESOURCE_TYPES",
    "SmartConfiguration",
    "Token",
    "authorization_url",
    "authorize",
    "check_url",
    "consent_error",
    "discover",
    "exchange_code",
    "pkce_pair",
    "refresh",
    "token_post",
]
