"""Trials pages: the trial list with its filters, and "Update trials from ClinicalTrials.gov".

The list is the one trial view (``trials.match_view``, through ``services.trial_matches``)
that the questions, the packet and ``trials match`` also show. Filters are GET parameters
(they work without JavaScript); the update is a POST form that starts the background sync
and redirects to a progress page that refreshes itself with ``<meta refresh>``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import HTMLResponse

from myelonav.errors import InputError
from myelonav.web.deps import ProfileId, Store, TrialsDb, require_profile
from myelonav.web.pages.render import page
from myelonav.web.services import default_as_of, trial_matches, trials_available
from myelonav.web.trials_update import may_update

VERDICTS = ("likely_eligible", "possibly_eligible", "likely_ineligible")
_BACK = re.compile(r"/p/[0-9a-f]{32}/trials")
REFRESH_S = 2

ListQuery = Annotated[list[str] | None, Query(max_length=40)]


def _choices(given: list[str] | None, allowed: dict[str, str], field: str) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(v for v in (given or []) if v))
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InputError(f"choose from the listed answers ({bad[0][:40]!r} is not one)",
                         location=field)
    return values


def _back(value: str | None) -> str | None:
    return value if value and _BACK.fullmatch(value) else None


def _update_context(request: Request) -> dict[str, Any]:
    from myelonav.web.auth.deps import principal
    from myelonav.web.trials_update import interrupted, last_update

    updater = request.app.state.trials_update
    status = updater.status()
    db = request.app.state.trials_db
    return {"update": status, "may_update": may_update(principal(request)),
            "last_update_at": last_update(db),
            "interrupted": interrupted(db) if status.state != "running" else None}


def trials_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/p/{profile_id}/trials", response_class=HTMLResponse)
    def trials(request: Request, store: Store, db: TrialsDb, profile_id: ProfileId,
               verdict: Annotated[str, Query(max_length=20)] = "",
               within_miles: Annotated[str, Query(max_length=10)] = "",
               near: Annotated[str, Query(max_length=10)] = "",
               status: ListQuery = None, phase: ListQuery = None,
               category: ListQuery = None) -> HTMLResponse:
        from myelonav.trials.match_view import CATEGORY_TEXT, PHASE_TEXT, STATUS_TEXT

        if not trials_available():
            raise HTTPException(404, "Trial matching is not installed.")
        saved = require_profile(store, profile_id)
        filters = {"verdict": verdict, "within_miles": within_miles, "near": near,
                   "status": status or [], "phase": phase or [], "category": category or []}
        errors: dict[str, str] = {}
        miles: float | None = None
        if within_miles.strip():
            try:
                miles = float(within_miles.strip().replace(",", "."))
                if not 0 <= miles <= 25000:
                    raise ValueError
            except ValueError:
                errors["within_miles"] = "enter a distance in miles (a number), or leave it empty"
        if verdict and verdict not in VERDICTS:
            errors["verdict"] = "choose one of the listed answers"
        chosen: dict[str, tuple[str, ...]] = {}
        for name, given, allowed in (("status", status, STATUS_TEXT), ("phase", phase, PHASE_TEXT),
                                     ("category", category, CATEGORY_TEXT)):
            try:
                chosen[name] = _choices(given, allowed, name)
            except InputError as exc:
                errors[name] = exc.message
        result = None
        if not errors:
            try:
                result = trial_matches(
                    saved.record, default_as_of(saved.record), trials_db=db,
                    near=near.strip() or None, within_miles=miles, verdict=verdict or None,
                    statuses=chosen["status"], phases=chosen["phase"],
                    categories=chosen["category"])
            except InputError as exc:
                errors[exc.location or "filters"] = exc.message
        return page(request, "trials.html", result=result, filters=filters, errors=errors,
                    status_code=422 if errors else 200, profile_id=saved.id,
                    sample=saved.sample, section="trials", status_text=STATUS_TEXT,
                    phase_text=PHASE_TEXT, category_text=CATEGORY_TEXT,
                    back=f"/p/{saved.id}/trials", **_update_context(request))

    @router.get("/trials/update", response_class=HTMLResponse)
    def update_status(request: Request,
                      back: Annotated[str | None, Query(max_length=60)] = None) -> HTMLResponse:
        context = _update_context(request)
        refresh = REFRESH_S if context["update"].state == "running" else None
        return page(request, "trials_update.html", section="trials-update", back=_back(back),
                    refresh=refresh, **context)

    @router.post("/trials/update")
    async def update_start(request: Request) -> RedirectResponse:
        from myelonav.web.auth.deps import principal

        if not may_update(principal(request)):
            raise HTTPException(403, "Updating trials is for navigators, clinicians and "
                                     "administrators. Ask your care team.")
        form = await request.form()
        back = _back(str(form.get("back") or "") or None)
        request.app.state.trials_update.start("manual")  # False: one is running; show it
        target = "/trials/update" + (f"?back={back}" if back else "")
        return RedirectResponse(target, status_code=303)

    return router


__all__ = ["trials_router"]
