"""Symptom check (triage) and support resources (``myelonav.support``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from myelonav import DISCLAIMER
from myelonav.support.content import resource_list
from myelonav.support.triage import SymptomReport, check

router = APIRouter(prefix="/support", tags=["support"])


class TriageOut(BaseModel):
    urgency: str
    headline: str
    what_to_do: str
    red_flags: list[str]
    reasons: list[dict[str, Any]]
    phones: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    disclaimer: str = DISCLAIMER


class ResourcesOut(BaseModel):
    resources: list[dict[str, Any]]
    disclaimer: str = DISCLAIMER


@router.post("/triage", response_model=TriageOut,
             summary="What to do now about symptoms (never a diagnosis)")
def post_triage(body: SymptomReport) -> TriageOut:
    """An empty report (nothing ticked, nothing measured) is refused with 422."""
    return TriageOut.model_validate(check(body).to_dict())


@router.get("/resources", response_model=ResourcesOut, summary="Support organisations")
def get_resources() -> ResourcesOut:
    return ResourcesOut(resources=[
        r.model_dump(mode="json", exclude_none=True) for r in resource_list().resources
    ])


__all__ = ["router"]
