"""The REST API under ``/api/v1``: one module per resource, each with its own schemas."""

from __future__ import annotations

from fastapi import APIRouter

from myelonav.web.api import grading, options, profiles, samples, support
from myelonav.web.security import API_PREFIX
from myelonav.web.services import trials_available, visit_available


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (profiles, samples, options, grading, support):
        router.include_router(module.router)
    if trials_available():
        from myelonav.web.api import trials

        router.include_router(trials.router)
    if visit_available():
        from myelonav.web.api import visit

        router.include_router(visit.router)
    return router


__all__ = ["api_router"]
