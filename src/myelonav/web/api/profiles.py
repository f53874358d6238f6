"""Saved profiles: import a record, read it, update preferences, export, delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from myelonav import DISCLAIMER
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.models import PHONE_PATTERN, Goal, TrialInterest
from myelonav.store.profiles import SavedProfile
from myelonav.web.deps import AsOfQuery, ProfileId, Store, require_profile
from myelonav.web.services import parse_as_of_param, record_from_json

router = APIRouter(tags=["profiles"])
HEALTH_INFO_NOTICE = ("This export contains personal health information. Keep it encrypted, "
                      "share it only with the care team, and delete copies you no longer need.")


class UnmappedOut(BaseModel):
    path: str
    reason: str
    resource_type: str | None = None
    text: str | None = None


class ImportOut(BaseModel):
    id: str = Field(description="Saved profile id; the only handle to the profile.")
    source: str
    sample: bool
    summary: str
    unmapped: list[UnmappedOut]
    disclaimer: str = DISCLAIMER


class ProfileOut(BaseModel):
    id: str
    source: str
    sample: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    record: dict[str, Any] = Field(description="The patient record (myelonav profile schema).")
    disclaimer: str = DISCLAIMER


class PreferencesUpdate(BaseModel):
    """Only the fields given change; ``null`` clears a value back to unknown."""

    model_config = ConfigDict(extra="forbid")

    max_travel_miles: float | None = Field(None, ge=0, le=25000)
    trial_interest: TrialInterest | None = None
    goals: list[Goal] | None = None
    notes: str | None = Field(None, max_length=2000)
    care_team_phone: str | None = Field(None, max_length=40, pattern=PHONE_PATTERN)
    after_hours_phone: str | None = Field(None, max_length=40, pattern=PHONE_PATTERN)
    name_on_packet: str | None = Field(
        None, max_length=120, description="Name printed on the visit packet; null: no name.")


class ExportOut(BaseModel):
    profile: dict[str, Any]
    fhir_bundle: dict[str, Any] | None = None
    notice: str = HEALTH_INFO_NOTICE
    disclaimer: str = DISCLAIMER


class ExportAllOut(BaseModel):
    exported_at: dt.datetime
    profiles: list[dict[str, Any]]
    notice: str = HEALTH_INFO_NOTICE
    disclaimer: str = DISCLAIMER


class DeleteAllOut(BaseModel):
    deleted: int


def profile_out(saved: SavedProfile) -> ProfileOut:
    return ProfileOut(
        id=saved.id, source=saved.source, sample=saved.sample, created_at=saved.created_at,
        updated_at=saved.updated_at,
        record=saved.record.model_dump(mode="json", exclude_none=True),
    )


@router.post("/profiles", status_code=201, response_model=ImportOut,
             summary="Import a FHIR R4 Bundle or a myelonav profile and save it")
def import_profile(
    store: Store,
    body: Annotated[dict[str, Any], Body(description="A FHIR Bundle or a myelonav profile.")],
    as_of: AsOfQuery = None,
) -> ImportOut:
    when = parse_as_of_param(as_of)
    record, summary, kind = record_from_json(body, as_of=when)
    saved = store.create(record, kind)
    return ImportOut(
        id=saved.id, source=saved.source, sample=saved.sample, summary=summary,
        unmapped=[UnmappedOut(**u.model_dump()) for u in record.unmapped],
    )


@router.get("/profiles/{profile_id}", response_model=ProfileOut, summary="Read a saved profile")
def read_profile(store: Store, profile_id: ProfileId) -> ProfileOut:
    return profile_out(require_profile(store, profile_id))


@router.patch("/profiles/{profile_id}/preferences", response_model=ProfileOut,
              summary="Update travel, trial interest, goals or notes")
def update_preferences(store: Store, profile_id: ProfileId, body: PreferencesUpdate) -> ProfileOut:
    require_profile(store, profile_id)
    changes = body.model_dump(mode="json", exclude_unset=True)
    if "goals" in changes and changes["goals"] is None:
        changes["goals"] = []
    if "trial_interest" in changes and changes["trial_interest"] is None:
        changes["trial_interest"] = TrialInterest.unknown.value
    saved = store.update_preferences(profile_id, changes)
    return profile_out(require_profile(store, profile_id) if saved is None else saved)


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, description="The caregiver's login name.")


class ShareOut(BaseModel):
    profile_id: str
    shared_with: str


@router.post("/profiles/{profile_id}/share", response_model=ShareOut,
             summary="Let a caregiver's account read and export this profile (clinic mode)")
def share_profile(store: Store, profile_id: ProfileId, body: ShareIn) -> ShareOut:
    from myelonav.web.access import ScopedStore

    if not isinstance(store, ScopedStore) or not store.share(profile_id, body.username):
        require_profile(store, profile_id)  # 404 for a profile that is not there or not yours
        raise HTTPException(400, "sharing with a caregiver needs clinic mode (accounts)")
    return ShareOut(profile_id=profile_id, shared_with=body.username.strip().lower())


@router.get("/profiles/{profile_id}/export", response_model=ExportOut,
            summary="Everything stored for one profile, with a FHIR R4 Bundle")
def export_profile(
    store: Store, profile_id: ProfileId,
    format: Annotated[Literal["all", "profile"],
                      Query(description="'profile' leaves out FHIR.")] = "all",
) -> ExportOut:
    saved = require_profile(store, profile_id)
    bundle = export_bundle(saved.record) if format == "all" else None
    return ExportOut(profile=saved.export(), fhir_bundle=bundle)


@router.delete("/profiles/{profile_id}", status_code=204, summary="Delete a profile for good")
def delete_profile(store: Store, profile_id: ProfileId) -> Response:
    require_profile(store, profile_id)
    store.delete(profile_id)
    return Response(status_code=204)


class ChangeOut(BaseModel):
    at: dt.datetime
    actor: str = Field(description="Who made the change (\"local\" in local mode).")
    field: str = Field(description="The intake answer, \"lab\", \"label\" or "
                                   "\"preferences.<name>\".")
    old: Any = None
    new: Any = None


class HistoryOut(BaseModel):
    profile_id: str
    changes: list[ChangeOut]


@router.get("/profiles/{profile_id}/history", response_model=HistoryOut,
            summary="Every recorded change to a profile, oldest first")
def profile_history(store: Store, profile_id: ProfileId) -> HistoryOut:
    require_profile(store, profile_id)
    changes = [ChangeOut(at=h.at, actor=h.actor, field=h.field, old=h.old, new=h.new)
               for h in store.history(profile_id)]
    return HistoryOut(profile_id=profile_id, changes=changes)


InstallSecret = Annotated[
    str | None,
    Header(alias="X-Myelonav-Install-Secret",
           description="Local mode: the per-install secret (`myelonav users install-secret`)."),
]


def require_bulk(request: Request, given: str | None) -> None:
    """Local mode: the install secret; clinic mode: a clinician (their team only)."""
    from myelonav.store.install_secret import install_secret, matches
    from myelonav.web.auth.deps import principal

    who = principal(request)
    if who.role == "local":
        expected = install_secret(request.app.state.settings.install_secret_file)
        if not matches(given, expected):
            raise HTTPException(403, "bulk export and delete need the install secret",
                                headers={"X-Error-Field": "X-Myelonav-Install-Secret"})
    elif who.role != "clinician":
        raise HTTPException(403, "only a clinician may export or delete every profile "
                                 "of the team")


@router.get("/export", response_model=ExportAllOut,
            summary="Export every saved profile (contains health information)")
def export_all(request: Request, store: Store, secret: InstallSecret = None) -> ExportAllOut:
    require_bulk(request, secret)
    return ExportAllOut(exported_at=dt.datetime.now(dt.UTC), profiles=store.export_all())


@router.delete("/profiles", response_model=DeleteAllOut, summary="Delete every saved profile")
def delete_all(request: Request, store: Store, secret: InstallSecret = None) -> DeleteAllOut:
    require_bulk(request, secret)
    return DeleteAllOut(deleted=store.delete_all())


__all__ = ["router"]
