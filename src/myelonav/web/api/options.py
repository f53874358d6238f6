"""Treatment options for a saved profile (``myelonav.options.report``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from myelonav.web.deps import AsOfQuery, ProfileId, Store, require_profile
from myelonav.web.services import Audience, default_as_of, options_for, parse_as_of_param

router = APIRouter(tags=["options"])


class OptionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    category: str
    status: str
    reasons: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    missing_information: list[str]


class OptionsOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    patient_id: str
    sample: bool
    as_of: str
    audience: Audience
    car_t_failure: dict[str, Any]
    options: list[OptionOut]
    facts: dict[str, Any]
    disclaimer: str


@router.get("/profiles/{profile_id}/options", response_model=OptionsOut,
            summary="Options after CAR T: status, reasons, evidence, missing information")
def get_options(
    store: Store,
    profile_id: ProfileId,
    audience: Annotated[Audience, Query(description="Plain words or clinical detail.")] = "patient",
    as_of: AsOfQuery = None,
) -> OptionsOut:
    saved = require_profile(store, profile_id)
    when = parse_as_of_param(as_of) or default_as_of(saved.record)
    return OptionsOut.model_validate(options_for(saved.record, when, audience))




__all__ = ["router"]
