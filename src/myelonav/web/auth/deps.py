"""Request dependencies: the principal, the CSRF guard, role checks."""

from __future__ import annotations

from fastapi import HTTPException, Request

from myelonav.settings import Settings
from myelonav.web.auth.csrf import FIELD, HEADER, csrf_ok
from myelonav.web.auth.principal import LOCAL, Principal

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def principal(request: Request) -> Principal:
    who = getattr(request.state, "principal", None)
    return who if isinstance(who, Principal) else LOCAL


async def csrf_guard(request: Request) -> None:
    """Clinic sessions: a state change needs the session's CSRF token (header or form)."""
    if request.method not in UNSAFE:
        return
    who = principal(request)
    if who.session_token is None:
        return
    cfg: Settings = request.app.state.settings
    secret = cfg.secret_key.get_secret_value() if cfg.secret_key else ""
    given = request.headers.get(HEADER)
    content_type = request.headers.get("content-type", "")
    if not given and content_type.startswith(("application/x-www-form-urlencoded",
                                              "multipart/form-data")):
        form = await request.form()
        value = form.get(FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_ok(secret, who.session_token, given):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again",
                            headers={"X-Error-Field": FIELD})


def require_role(request: Request, *roles: str) -> Principal:
    who = principal(request)
    if who.role not in roles:
        raise HTTPException(403, "your role does not allow this")
    return who


__all__ = ["UNSAFE", "csrf_guard", "principal", "require_role"]
