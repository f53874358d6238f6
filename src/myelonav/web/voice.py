"""Whose words a page uses: the patient's (default) or the clinician's.

Chosen with ``?audience=clinician`` on any page and remembered in a cookie, so the summary,
options, trials and questions pages all speak the same voice. The facts underneath are the
same either way (one clinical picture); only the wording and the detail shown change.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from fastapi import Query, Request
from starlette.responses import Response

Audience = Literal["patient", "clinician"]
VOICES: tuple[Audience, ...] = ("patient", "clinician")
COOKIE = "myelonav_voice"
_ONE_YEAR = 365 * 24 * 3600
R = TypeVar("R", bound=Response)

VoiceParam = Annotated[
    Audience | None,
    Query(description="patient (plain words) or clinician (clinical wording); remembered."),
]


def _valid(value: str | None) -> Audience | None:
    return "clinician" if value == "clinician" else "patient" if value == "patient" else None


def voice_for(request: Request, chosen: str | None = None) -> Audience:
    """The voice asked for now (parameter), else the one remembered, else plain words."""
    return (
        _valid(chosen)
        or _valid(request.query_params.get("audience"))
        or _valid(request.cookies.get(COOKIE))
        or "patient"
    )


def remember_voice(response: R, chosen: str | None, request: Request | None = None) -> R:
    """Keep an explicitly chosen voice for the next pages (a preference, not a secret)."""
    voice = _valid(chosen)
    if voice is not None:
        secure = request is not None and request.url.scheme == "https"
        response.set_cookie(
            COOKIE, voice, max_age=_ONE_YEAR, path="/", httponly=True, samesite="lax", secure=secure
        )
    return response


__all__ = ["COOKIE", "VOICES", "Audience", "VoiceParam", "remember_voice", "voice_for"]
