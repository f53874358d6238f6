"""The navigator's desk API: batch re-match of the team's patients, with progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from myelonav.web.auth.deps import require_role
from myelonav.web.deps import Store, TrialsDb
from myelonav.web.errors import ErrorOut, error_body
from myelonav.web.rematch import Rematcher

router = APIRouter(tags=["desk"])
DESK_ROLES = ("navigator", "clinician", "local")


class RematchOut(BaseModel):
    state: str
    total: int
    done: int
    started_at: str | None = None
    finished_at: str | None = None
    results: list[dict[str, Any]]


def scope_of(request: Request) -> str:
    who = require_role(request, *DESK_ROLES)
    return who.team_id or who.user_id


def rematcher(request: Request) -> Rematcher:
    jobs: Rematcher = request.app.state.rematch
    return jobs


@router.post("/desk/rematch", status_code=202, response_model=RematchOut,
             responses={409: {"model": ErrorOut, "description": "A re-match is running."}},
             summary="Re-match every patient of my team against today's trials (background)")
def start_rematch(request: Request, store: Store, db: TrialsDb) -> Any:
    scope = scope_of(request)
    jobs = rematcher(request)
    if not jobs.start(scope, store.list_profiles(), db):
        status = jobs.status(scope)
        return JSONResponse(error_body(f"a re-match is already running ({status['done']} of "
                                       f"{status['total']} done)", None), 409)
    return jobs.status(scope)


@router.get("/desk/rematch", response_model=RematchOut, summary="Progress of the re-match")
def rematch_status(request: Request) -> RematchOut:
    return RematchOut(**rematcher(request).status(scope_of(request)))


__all__ = ["router"]
