"""The options page: a summary with counts, collapsed cards, and every source at the end."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from myelonav.web.deps import ProfileId, Store, require_profile
from myelonav.web.options_view import options_view
from myelonav.web.pages.render import page
from myelonav.web.services import default_as_of, options_for, parse_as_of_param
from myelonav.web.voice import VoiceParam, voice_for


def options_router() -> APIRouter:
    router = APIRouter()

    @router.get("/p/{profile_id}/options", response_class=HTMLResponse)
    def options(
        request: Request,
        store: Store,
        profile_id: ProfileId,
        audience: VoiceParam = None,
        as_of: Annotated[str | None, Query(max_length=10)] = None,
    ) -> HTMLResponse:
        saved = require_profile(store, profile_id)
        voice = voice_for(request, audience)
        when = parse_as_of_param(as_of) or default_as_of(saved.record)
        report = options_for(saved.record, when, voice)
        return page(
            request,
            "options.html",
            report=report,
            view=options_view(report),
            audience=voice,
            profile_id=saved.id,
            sample=saved.sample,
            section="options",
        )

    return router


__all__ = ["options_router"]
