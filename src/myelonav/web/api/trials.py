"""Trials: search the local store, and match a saved profile against it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict

from myelonav import DISCLAIMER
from myelonav.web.deps import (
    AsOfQuery,
    MilesQuery,
    ProfileId,
    Store,
    TrialsDb,
    ZipQuery,
    require_profile,
)
from myelonav.web.services import default_as_of, parse_as_of_param, trial_matches

router = APIRouter(tags=["trials"])

VERDICTS = ("likely_eligible", "possibly_eligible", "likely_ineligible")
StatusChoice = Literal["RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"]
PhaseChoice = Literal["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"]
CategoryChoice = Literal["car_t", "bispecific", "trispecific", "celmod", "adc", "retreatment"]
VERDICT_PATTERN = "^(" + "|".join(VERDICTS) + ")$"


class MatchesOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    as_of: str
    origin: str | None
    judged: int
    counts: dict[str, int]
    trials: list[dict[str, Any]]
    sample_notice: str | None
    disclaimer: str = DISCLAIMER


class SearchHitOut(BaseModel):
    nct_id: str
    title: str
    overall_status: str | None
    phases: list[str]
    is_sample: bool
    nearest_site_miles: float | None
    url: str


class SearchOut(BaseModel):
    hits: list[SearchHitOut]
    disclaimer: str = DISCLAIMER


@router.get("/profiles/{profile_id}/trials", response_model=MatchesOut,
            summary="Stored trials judged for this profile, criterion by criterion")
def get_matches(
    store: Store,
    db: TrialsDb,
    profile_id: ProfileId,
    as_of: AsOfQuery = None,
    near: ZipQuery = None,
    within_miles: MilesQuery = None,
    verdict: Annotated[str | None, Query(pattern=VERDICT_PATTERN)] = None,
    include_ineligible: bool = False,
    include_closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    status: Annotated[list[StatusChoice] | None,
                      Query(description="Only these recruiting statuses.")] = None,
    phase: Annotated[list[PhaseChoice] | None, Query(description="Only these phases.")] = None,
    category: Annotated[list[CategoryChoice] | None,
                        Query(description="Only these kinds of treatment.")] = None,
) -> MatchesOut:
    saved = require_profile(store, profile_id)
    when = parse_as_of_param(as_of) or default_as_of(saved.record)
    return MatchesOut.model_validate(trial_matches(
        saved.record, when, trials_db=db, near=near, within_miles=within_miles,
        include_ineligible=include_ineligible, include_closed=include_closed, verdict=verdict,
        limit=limit, statuses=tuple(dict.fromkeys(status or ())),
        phases=tuple(dict.fromkeys(phase or ())),
        categories=tuple(dict.fromkeys(category or ())),
    ))


@router.get("/trials/search", response_model=SearchOut, summary="Search the local trial store")
def search_trials(
    db: TrialsDb,
    q: Annotated[str, Query(max_length=200, description="Free text.")] = "",
    status: Annotated[list[str] | None,
                      Query(description="Overall status, e.g. RECRUITING.")] = None,
    near: ZipQuery = None,
    within_miles: MilesQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    from myelonav.errors import InputError
    from myelonav.trials.geo import zip_point
    from myelonav.trials.local import criteria_parser, open_store
    from myelonav.trials.store import SearchQuery

    try:
        point = zip_point(near) if near else None
    except InputError as exc:
        raise InputError(exc.message, location="near") from None
    if within_miles is not None and point is None:
        raise InputError("within_miles needs near (a ZIP code)", location="within_miles")
    query = SearchQuery(text=q, statuses=tuple(s[:40] for s in (status or [])[:10]), near=point,
                        within_miles=within_miles, limit=limit)
    store = open_store(db, parse_criteria=criteria_parser())
    try:
        hits = store.search(query)
    finally:
        store.close()
    return SearchOut(hits=[
        SearchHitOut(nct_id=h.study.nct_id, title=h.study.title,
                     overall_status=h.study.overall_status, phases=h.study.phases,
                     is_sample=h.study.is_sample,
                     nearest_site_miles=h.nearest.miles if h.nearest else None, url=h.study.url)
        for h in hits
    ])


class UpdateOut(BaseModel):
    started: bool | None = None
    state: str
    trigger: str | None
    started_at: str | None
    finished_at: str | None
    resumed: bool
    mode: str | None
    pages: int
    studies: int
    total: int | None
    percent: int | None
    written: int | None
    removed: int | None
    error: str | None
    last_update: str | None


def _update_out(request: Request, started: bool | None = None) -> UpdateOut:
    from myelonav.web.trials_update import last_update

    status = request.app.state.trials_update.status()
    return UpdateOut(started=started, last_update=last_update(request.app.state.trials_db),
                     **status.as_json())


@router.get("/trials/update", response_model=UpdateOut,
            summary="Progress of the update from ClinicalTrials.gov, and when the last one "
                    "finished")
def get_update(request: Request) -> UpdateOut:
    return _update_out(request)


@router.post("/trials/update", response_model=UpdateOut, status_code=202,
             summary="Start an update from ClinicalTrials.gov (one at a time; an interrupted "
                     "one continues where it stopped)",
             responses={403: {"description": "Only navigators, clinicians and administrators "
                                             "(clinic mode) may start it."}})
def start_update(request: Request) -> UpdateOut:
    from myelonav.web.auth.deps import principal
    from myelonav.web.trials_update import may_update

    if not may_update(principal(request)):
        raise HTTPException(403, "your role does not allow this")
    started = request.app.state.trials_update.start("manual")
    return _update_out(request, started)


__all__ = ["VERDICTS", "router"]
