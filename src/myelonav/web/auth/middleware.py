"""Clinic mode: every request but the health check, static files and the login page needs
a valid session; local mode: every request is the local user.

The principal goes into ``scope["state"]`` (``request.state.principal``). Unauthenticated
API calls get 401 JSON; pages get a redirect to ``/login`` with a *local* ``next`` path.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from urllib.parse import quote

from anyio import to_thread
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from myelonav.store.accounts import Accounts
from myelonav.web.auth.principal import LOCAL, Principal

# /connect/callback: the portal's redirect back carries no SameSite=Strict session cookie;
# that page only hands the answer on to /connect/finish (which needs the session)
PUBLIC_PATHS = frozenset({"/healthz", "/login", "/connect/callback"})
PUBLIC_PREFIXES = ("/static/",)


def cookie_name(secure: bool) -> str:
    # __Host- cookies must be Secure, path=/ and host-only: no subdomain can set or read them
    return "__Host-myelonav_session" if secure else "myelonav_session"


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no ``//`` or ``/\\`` tricks."""
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or any(c in target for c in "\\\r\n\t") or len(target) > 500):
        return "/"
    return target


def session_cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is just no session
                return None
            morsel = jar.get(name)
            if morsel is not None and morsel.value:
                return morsel.value
    return None


class AuthMiddleware:
    def __init__(self, app: ASGIApp, *, clinic: bool, accounts: Accounts,
                 secure_cookie: bool) -> None:
        self.app = app
        self.clinic = clinic
        self.accounts = accounts
        self.cookie = cookie_name(secure_cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not self.clinic:
            state["principal"] = LOCAL
            await self.app(scope, receive, send)
            return
        token = session_cookie(scope, self.cookie)
        user = await to_thread.run_sync(self.accounts.session_user, token) if token else None
        path = str(scope.get("path", ""))
        if user is not None:
            state["principal"] = Principal(user.id, user.username, user.role, user.team_id,
                                           token)
        elif not is_public(path):
            await self._refuse(scope, path)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _refuse(scope: Scope, path: str) -> Response:
        if path.startswith("/api/"):
            body: dict[str, object] = {"detail": "log in first", "field": None, "errors": []}
            return Response(json.dumps(body), 401, media_type="application/json",
                            headers={"WWW-Authenticate": 'Cookie realm="myelonav"'})
        target = safe_next(path) if scope.get("method") == "GET" else "/"
        return RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)


__all__ = [
    "PUBLIC_PATHS",
    "AuthMiddleware",
    "cookie_name",
    "is_public",
    "safe_next",
    "session_cookie",
]
