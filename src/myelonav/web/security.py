"""Security headers, CSRF guard, body limits and request logging with no patient data.

The log line names the method, the route *template* (``/p/{profile_id}/options``, never the
id itself), the status and the time taken: no query string, no body, no client address.

Bodies: a declared ``Content-Length`` over the limit is refused (413) before any byte is
read; a chunked body is counted as it arrives and refused once it passes the limit; each
body chunk must arrive within ``body_timeout_s`` (408), so a slow upload cannot hold a
worker forever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("myelonav.web")
API_PREFIX = "/api/v1"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin: no URL (it holds the profile id) ever goes to another site, while the
    # browser still sends our own Origin on form posts, which the CSRF guard checks
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``(unmatched)``: never the concrete path."""
    route = scope.get("route")
    if route is None:
        return "(unmatched)"
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "(route)"
    # routes of an included router carry their template without the include prefix
    path = str(scope.get("path", ""))
    if path.startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
        template = API_PREFIX + template
    return str(template)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def same_origin(scope: Scope) -> bool:
    """CSRF guard: may this state-changing request have come from another site?

    A browser sends ``Origin`` on every cross-site POST/PUT/PATCH/DELETE (modern browsers
    on same-site ones too), and ``Sec-Fetch-Site`` on all requests; whichever is present must
    say "this site". ``Origin: null`` (a sandboxed or privacy-stripped page) is refused. An
    old browser that sends neither still sends ``Referer`` unless told not to, so a
    cross-site ``Referer`` is refused too. A request with none of the three is not from a
    browser page (curl, API clients): nothing a web page can forge, so it passes; clinic
    mode additionally needs a session and a CSRF token (``web.auth``).
    """
    if scope.get("method") not in UNSAFE_METHODS:
        return True
    headers = Headers(scope=scope)
    host = headers.get("host", "").lower()
    origin = headers.get("origin")
    if origin is not None:
        return origin != "null" and _netloc(origin) == host
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() in SAME_ORIGIN_FETCH
    referer = headers.get("referer")
    if referer is not None:
        return _netloc(referer) == host
    return True


def _error(scope: Scope, status: int, message: str) -> Response:
    if str(scope.get("path", "")).startswith(API_PREFIX + "/"):
        body: dict[str, object] = {"detail": message, "field": None, "errors": []}
        return Response(json.dumps(body), status_code=status, media_type="application/json")
    return PlainTextResponse(message, status_code=status)


class SecurityMiddleware:
    """Pure ASGI middleware (no response buffering): headers, CSRF, body limits, one log line."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 6 * 1024 * 1024,
                 body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        refusal = self._refuse(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            logger.info("%s %s %d refused", scope.get("method", "?"), "(refused)",
                        refusal.status_code)
            return
        status = 500
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, self._limited(receive), send_with_headers)
        finally:
            logger.info("%s %s %d %.1fms", scope.get("method", "?"), route_template(scope),
                        status, (time.perf_counter() - start) * 1000)

    def _refuse(self, scope: Scope) -> Response | None:
        if not same_origin(scope):
            return _error(scope, 403, "cross-site request refused (Origin, Sec-Fetch-Site or "
                                      "Referer is not this site)")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                return _error(scope, 400, "Content-Length is not a number")
            if length > self.max_body_bytes:
                return _error(scope, 413, f"request body is larger than "
                                          f"{self.max_body_bytes // 1024} KiB")
        return None

    def _limited(self, receive: Receive) -> Receive:
        limit, timeout = self.max_body_bytes, self.body_timeout_s
        seen = 0
        body_done = False

        async def guarded() -> Message:
            nonlocal seen, body_done
            if body_done:
                return await receive()  # waiting for a disconnect: no deadline
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise HTTPException(408, "the request body arrived too slowly") from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"request body is larger than {limit // 1024} KiB")
                body_done = not message.get("more_body", False)
            return message

        return guarded


__all__ = ["API_PREFIX", "CSP", "SECURITY_HEADERS", "SecurityMiddleware", "logger",
           "route_template", "same_origin"]
