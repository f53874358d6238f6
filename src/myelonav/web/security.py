"""Security headers on every response, and request logging that carries no patient data.

The log line names the method, the route *template* (``/p/{profile_id}/options``, never the
id itself), the status and the time taken: no query string, no body, no client address.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
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


def same_origin(scope: Scope) -> bool:
    """A state-changing request from a browser must come from this site: when the browser
    sends ``Origin``, its host must be the ``Host`` the request was made to (CSRF guard)."""
    if scope.get("method") not in UNSAFE_METHODS:
        return True
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None:
        return True  # not from a browser page (curl, API clients)
    # "null" is what a browser sends for a cross-site post under a strict referrer policy
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


class SecurityMiddleware:
    """Pure ASGI middleware (no response buffering): headers and one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        if not same_origin(scope):
            response = PlainTextResponse("cross-site request refused (Origin does not match "
                                         "Host)", status_code=403)
            await response(scope, receive, send)
            logger.info("%s %s 403 cross-site", scope.get("method", "?"), "(refused)")
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
            await self.app(scope, receive, send_with_headers)
        finally:
            logger.info("%s %s %d %.1fms", scope.get("method", "?"), route_template(scope),
                        status, (time.perf_counter() - start) * 1000)


__all__ = ["API_PREFIX", "CSP", "SECURITY_HEADERS", "SecurityMiddleware", "logger",
           "route_template", "same_origin"]
