"""Clinician tools for one profile: the CLI's calculators, reachable from the profile pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from myelonav.clinical import astct
from myelonav.web.clinician_tools import (
    calendar_from_params,
    crs_from_params,
    icans_from_params,
    record_tools,
    schedule_choices,
)
from myelonav.web.deps import ProfileId, Store, require_profile
from myelonav.web.pages.render import page
from myelonav.web.services import default_as_of

_CHOICES = {
    "hypotension": [(h.value, h.value.replace("_", " ")) for h in astct.Hypotension],
    "oxygen": [(o.value, o.value.replace("_", " ")) for o in astct.OxygenSupport],
    "consciousness": [(c.value, c.value.replace("_", " ")) for c in astct.Consciousness],
    "seizure": [(s.value, s.value.replace("_", " ")) for s in astct.Seizure],
    "motor": [(m.value, m.value.replace("_", " ")) for m in astct.Motor],
    "edema": [(e.value, e.value.replace("_", " ")) for e in astct.Edema],
}


def clinician_router() -> APIRouter:
    router = APIRouter()

    @router.get("/p/{profile_id}/clinician", response_class=HTMLResponse)
    def clinician_tools(request: Request, store: Store, profile_id: ProfileId) -> HTMLResponse:
        saved = require_profile(store, profile_id)
        as_of = default_as_of(saved.record)
        params = {k: v[:40] for k, v in request.query_params.items()}
        asked = [
            o
            for o in (
                crs_from_params(params),
                icans_from_params(params),
                calendar_from_params(params),
            )
            if o is not None
        ]
        return page(
            request,
            "clinician.html",
            tools=record_tools(saved.record, as_of),
            asked=asked,
            params=params,
            choices=_CHOICES,
            schedules=schedule_choices(),
            as_of=as_of,
            profile_id=saved.id,
            sample=saved.sample,
            section="clinician",
            status_code=422 if any(o.problem for o in asked) else 200,
        )

    return router


__all__ = ["clinician_router"]
