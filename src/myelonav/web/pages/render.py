"""Templates and the helpers they use."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from myelonav import DISCLAIMER
from myelonav.web.services import trials_available, visit_available

STATUS_TEXT = {
    "fits": "May fit you",
    "consider with caution": "Possible, with cautions",
    "need more information": "We need more information",
    "unlikely to fit": "Unlikely to fit",
    "not suitable": "Not suitable",
}
VERDICT_TEXT = {
    "likely_eligible": "Likely eligible",
    "possibly_eligible": "Possibly eligible",
    "likely_ineligible": "Likely not eligible",
}
RESULT_TEXT = {"met": "Met", "not_met": "Not met", "unknown": "Not known yet",
               "screening": "Checked at screening", "ask": "Ask the study team"}


def _status_class(status: str) -> str:
    return status.replace(" ", "-")


def _plain(value: Any) -> str:
    return str(value).replace("_", " ")


def _capitalize_first(value: Any) -> str:
    """Capitalise the first letter only (Jinja's ``capitalize`` lowers the rest: "IgG")."""
    text = str(value)
    return text[:1].upper() + text[1:]


def _templates() -> Jinja2Templates:
    folder = resources.files("myelonav.web.pages").joinpath("templates")
    templates = Jinja2Templates(directory=str(folder))
    env = templates.env
    env.filters["plain"] = _plain
    env.filters["status_class"] = _status_class
    env.filters["capitalize_first"] = _capitalize_first
    env.globals.update(
        disclaimer=DISCLAIMER, STATUS_TEXT=STATUS_TEXT, VERDICT_TEXT=VERDICT_TEXT,
        RESULT_TEXT=RESULT_TEXT,
    )
    return templates


TEMPLATES = _templates()


def csrf_for(request: Request) -> str | None:
    """The session's CSRF token for forms (clinic mode), or None (local mode)."""
    from myelonav.web.auth.csrf import csrf_token
    from myelonav.web.auth.deps import principal

    who = principal(request)
    cfg = request.app.state.settings
    if who.session_token is None or cfg.secret_key is None:
        return None
    return csrf_token(cfg.secret_key.get_secret_value(), who.session_token)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    from myelonav.web.auth.deps import principal

    context.setdefault("csrf_token", csrf_for(request))
    context.setdefault("user", principal(request))
    context.setdefault("sample", False)
    context.setdefault("profile_id", None)
    context.setdefault("has_trials", trials_available())
    context.setdefault("has_visit", visit_available())
    context.setdefault("today", dt.date.today().isoformat())
    from myelonav.web.voice import remember_voice, voice_for

    context.setdefault("voice", voice_for(request))
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    return remember_voice(response, request.query_params.get("audience"), request)


__all__ = ["RESULT_TEXT", "STATUS_TEXT", "TEMPLATES", "VERDICT_TEXT", "page"]
