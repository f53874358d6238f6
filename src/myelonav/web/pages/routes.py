"""Page routes: home, intake, upload, profile, options, trials, support, export and delete.

Pages are plain HTML forms (GET for filters, POST for changes, redirect after POST), so they
work without JavaScript and print cleanly.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse

from myelonav.errors import InputError, MyelonavError
from myelonav.patient.models import PHONE_PATTERN, TrialInterest
from myelonav.patient.summary import summarise
from myelonav.samples import sample_ids, sample_profile
from myelonav.store.profiles import SavedProfile
from myelonav.support.content import resource_list
from myelonav.support.triage import (
    SYMPTOM_FLAGS,
    care_context,
    make_report,
    parse_temperature,
    phones,
    tel_href,
)
from myelonav.support.triage import check as check_symptoms
from myelonav.web.api.samples import sample_label
from myelonav.web.auth.deps import csrf_guard
from myelonav.web.deps import (
    PROFILE_ID_PATTERN,
    ProfileId,
    Store,
    require_profile,
)
from myelonav.web.errors import error_body, status_for
from myelonav.web.pages.render import page
from myelonav.web.services import (
    default_as_of,
    record_from_upload,
    visit_available,
)

SYMPTOM_LABELS: dict[str, str] = {
    "chills": "Chills or shaking",
    "dizziness": "Dizzy or light-headed",
    "breathing_trouble": "Trouble breathing",
    "confusion": "Confused, or not making sense",
    "handwriting_change": "Handwriting has changed",
    "speech_change": "Trouble speaking or finding words",
    "trouble_staying_awake": "Very sleepy, hard to wake up",
    "seizure": "A seizure (fit)",
    "weakness": "New weakness of the face, an arm or a leg",
    "cough": "New cough",
    "burning_urination": "Burning when passing urine",
    "diarrhea": "Diarrhea",
    "wound_redness": "Red, warm or painful skin or line site",
    "taste_change": "Change in taste",
    "dry_mouth": "Dry mouth",
    "trouble_swallowing": "Trouble swallowing",
    "weight_loss": "Losing weight without trying",
    "skin_peeling": "Skin peeling or rash",
    "nail_change": "Nail changes",
    "bleeding_or_bruising": "New bruises, tiny red spots, nosebleeds or bleeding gums",
    "heavy_bleeding": "Bleeding that will not stop, or black or bloody stools",
    "back_pain": "New or worse back pain",
    "leg_weakness_or_numbness": "New weakness or numbness in the legs, or trouble walking",
    "bladder_bowel_control": "New loss of bladder or bowel control",
    "vomiting": "Throwing up (vomiting)",
    "severe_headache": "A bad new headache",
}


def _context(saved: SavedProfile, section: str) -> dict[str, Any]:
    return {"profile_id": saved.id, "sample": saved.sample, "section": section}


def _intake_context(values: dict[str, Any] | None = None,
                    errors: dict[str, str] | None = None) -> dict[str, Any]:
    from myelonav.web.pages.intake_pages import intake_context

    return intake_context(values, errors)


def _form_values(form: Any) -> dict[str, Any]:
    from myelonav.web.intake import form_answers

    return form_answers(form)


ProfileQuery = Annotated[
    str | None,
    Query(pattern=PROFILE_ID_PATTERN,
          description="Saved profile to check symptoms for (adds its treatment and numbers)."),
]


def _symptom_profile(request: Request, profile_id: str | None) -> SavedProfile | None:
    """The profile a symptom check is for, read with read rights only (a caregiver who may
    read a profile may check symptoms for it); someone else's profile is a 404."""
    if profile_id is None:
        return None
    from myelonav.web.deps import scoped_store

    return require_profile(scoped_store(request, "read"), profile_id)


def _support_page(request: Request, saved: SavedProfile | None, **context: Any) -> HTMLResponse:
    errors = context.get("errors") or {}
    care = care_context(saved.record, default_as_of(saved.record)) if saved else None
    result = context.get("result")
    return page(request, "support.html", status_code=422 if errors else 200,
                symptoms=SYMPTOM_LABELS, resources=resource_list().resources,
                section="support", profile_id=saved.id if saved else None,
                care=care, phones=result["phones"] if result else phones(care),
                tel_href=tel_href, **context)


def page_router() -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        samples = [(i, sample_label(i)) for i in sample_ids()]
        return page(request, "home.html", samples=samples, section="home")

    @router.post("/demo/{sample_id}")
    def demo(store: Store, sample_id: str) -> RedirectResponse:
        if sample_id not in sample_ids():
            raise HTTPException(404, "There is no sample patient with this name.")
        saved = store.create(sample_profile(sample_id), "sample")
        return RedirectResponse(f"/p/{saved.id}", status_code=303)

    @router.get("/upload", response_class=HTMLResponse)
    def upload_form(request: Request) -> HTMLResponse:
        return page(request, "upload.html", section="upload")

    @router.post("/upload", response_class=HTMLResponse, response_model=None)
    async def upload_submit(request: Request, store: Store,
                            file: Annotated[UploadFile, File()]) -> Response:
        raw = await file.read()
        from myelonav.web.pages.profile_pages import moved_profile_upload

        if (moved := moved_profile_upload(request, raw, file.filename, store)) is not None:
            return moved  # a profile file from this app, with its answers and history
        try:
            record, _summary, kind = record_from_upload(raw, as_of=None,
                                                       filename=file.filename or "upload")
        except MyelonavError as exc:
            from myelonav.web.upload_help import upload_advice

            return page(request, "upload.html", status_code=422, section="upload",
                        error=str(exc), advice=upload_advice(raw, file.filename or ""))
        saved = store.create(record, kind)
        return RedirectResponse(f"/p/{saved.id}", status_code=303)

    @router.get("/p/{profile_id}", response_class=HTMLResponse)
    def profile(request: Request, store: Store, profile_id: ProfileId) -> HTMLResponse:
        saved = require_profile(store, profile_id)
        as_of = default_as_of(saved.record)
        return page(request, "profile.html", summary=summarise(saved.record, as_of),
                    record=saved.record, saved=saved, as_of=as_of,
                    interests=[t.value for t in TrialInterest], **_context(saved, "profile"))

    @router.post("/p/{profile_id}/preferences")
    async def preferences(request: Request, store: Store,
                          profile_id: ProfileId) -> RedirectResponse:
        require_profile(store, profile_id)
        form = await request.form()
        travel = str(form.get("travel_miles", "")).strip()
        interest = str(form.get("trial_interest", "unknown"))
        changes: dict[str, Any] = {"trial_interest": interest}
        try:
            changes["max_travel_miles"] = float(travel) if travel else None
        except ValueError:
            raise InputError("enter a number of miles, or leave it empty",
                             location="travel_miles") from None
        store.update_preferences(profile_id, changes)
        return RedirectResponse(f"/p/{profile_id}", status_code=303)


    @router.get("/support", response_class=HTMLResponse)
    def support(request: Request, profile: ProfileQuery = None) -> HTMLResponse:
        saved = _symptom_profile(request, profile)
        return _support_page(request, saved, result=None, values={}, errors={})

    @router.post("/support", response_class=HTMLResponse)
    async def support_submit(request: Request, store: Store) -> HTMLResponse:
        form = await request.form()
        values = {k: form.get(k) for k in form}
        profile = str(form.get("profile", "")).strip() or None
        if profile is not None and not re.fullmatch(PROFILE_ID_PATTERN, profile):
            raise InputError("this link does not point to a saved profile", location="profile")
        saved = _symptom_profile(request, profile)
        errors: dict[str, str] = {}
        if saved is not None and form.get("action") == "save_numbers":
            changes = {
                key: str(form.get(key, "")).strip() or None
                for key in ("care_team_phone", "after_hours_phone")
            }
            for key, value in changes.items():
                if value is not None and not re.fullmatch(PHONE_PATTERN, value):
                    errors[key] = "enter a phone number with digits, for example 555-123-4567"
            # saving numbers changes the profile: the request's own (change-scoped) store
            updated = None if errors else store.update_preferences(saved.id, changes)
            return _support_page(request, updated or saved, result=None,
                                 values=values, errors=errors,
                                 saved_numbers=updated is not None)
        fields: dict[str, Any] = {
            name: True for name in SYMPTOM_FLAGS if form.get(name) == "on"
        }
        for name in ("on_bispecific", "recent_car_t"):
            fields[name] = form.get(name) == "on"
        result = None
        try:
            temp = str(form.get("temperature", "")).strip()
            if temp:
                fields["temperature_c"] = parse_temperature(temp, "temperature")
            for name, key in (("systolic_bp", "systolic_bp"), ("spo2", "spo2")):
                raw = str(form.get(key, "")).strip()
                if raw:
                    try:
                        fields[name] = int(raw)
                    except ValueError:
                        raise InputError("enter a whole number", location=key) from None
            care = None
            if saved is not None:
                care = care_context(saved.record, default_as_of(saved.record))
            result = check_symptoms(make_report(**fields), care=care).to_dict()
        except InputError as exc:
            errors[exc.location or "symptoms"] = exc.message
        return _support_page(request, saved, result=result, values=values, errors=errors)

    @router.get("/privacy", response_class=HTMLResponse)
    def privacy(request: Request) -> HTMLResponse:
        return page(request, "privacy.html", section="privacy",
                    undo_minutes=request.app.state.settings.profile_undo_minutes)

    from myelonav.web.pages.account_pages import account_router

    router.include_router(account_router())
    from myelonav.web.pages.clinician_pages import clinician_router
    from myelonav.web.pages.intake_pages import intake_router
    from myelonav.web.pages.options_pages import options_router

    router.include_router(intake_router())
    router.include_router(options_router())
    router.include_router(clinician_router())
    from myelonav.web.pages.trials_pages import trials_router

    router.include_router(trials_router())
    from myelonav.web.pages.connect_pages import connect_router

    router.include_router(connect_router())
    if visit_available():
        from myelonav.web.pages.visit_pages import visit_router

        router.include_router(visit_router())
    from myelonav.web.pages.profile_pages import profile_router

    router.include_router(profile_router())
    return router


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def install_page_errors(app: FastAPI) -> None:
    """HTML error pages for the pages; JSON (with the field) for the API."""
    from fastapi.exceptions import RequestValidationError

    from myelonav.web.errors import _http, _myelonav, _validation

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _wants_html(request):
            return await _http(request, exc)
        message = exc.detail if isinstance(exc.detail, str) else "Something went wrong."
        return page(request, "error.html", status_code=exc.status_code, message=message,
                    section="error")

    async def myelonav_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MyelonavError)
        if not _wants_html(request):
            return await _myelonav(request, exc)
        status = status_for(exc)
        body = error_body(exc.message, exc.location)
        message = body["detail"] if status < 500 else "Something went wrong on our side."
        return page(request, "error.html", status_code=status, message=message,
                    section="error")

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _wants_html(request):
            return await _validation(request, exc)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        message = f"{where}: {first.get('msg', 'not valid')}"
        if where == "profile_id":
            message = "This link does not point to a saved profile. Check the address."
        return page(request, "error.html", status_code=422, message=message, section="error")

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(MyelonavError, myelonav_error)


__all__ = ["SYMPTOM_LABELS", "install_page_errors", "page_router"]
