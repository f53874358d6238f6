"""The REST API under ``/api/v1``: one module per resource, each with its own schemas."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from myelonav.web.api import admin, desk, grading, options, profiles, samples, support
from myelonav.web.auth.deps import csrf_guard
from myelonav.web.errors import ERROR_RESPONSES
from myelonav.web.security import API_PREFIX
from myelonav.web.services import trials_available, visit_available


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES,
                       dependencies=[Depends(csrf_guard)])
    for module in (profiles, samples, options, grading, support, admin, desk):
        router.include_router(module.router)
    if trials_available():
        from myelonav.web.api import trials

        router.include_router(trials.router)
    if visit_available():
        from myelonav.web.api import visit

        router.include_router(visit.router)
    return router


__all__ = ["api_router"]
