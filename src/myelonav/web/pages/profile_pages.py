"""Profiles that last: my profiles, a name on the list, edit answers in place, history of
changes, new labs over time, delete with confirmation and undo, the export file.

Plain forms (POST, then a redirect), so everything works without JavaScript. Each route
reaches the store through the request's ``ScopedStore``, so roles, teams and the audit
apply; caregivers (read-only) see history and labs but get no edit, add or delete.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from myelonav.errors import MyelonavError
from myelonav.patient.summary import _LAB_LABELS
from myelonav.store.profiles import ProfileStore, SavedProfile
from myelonav.web.deps import ProfileId, Store, require_profile, scoped_store
from myelonav.web.intake import IntakeError
from myelonav.web.pages.render import page
from myelonav.web.profile_edit import (
    LAB_UNITS,
    answers_from_form,
    change_words,
    derived_answers,
    edit_answers,
    edited_record,
    export_payload,
    form_from_answers,
    lab_choices,
    looks_like_export,
    read_export,
    read_lab,
    show_value,
    unit_words,
    with_lab,
)

MAX_LABEL_CHARS = 60
SOURCE_WORDS = {
    "intake": "Your answers",
    "fhir": "Records file (FHIR)",
    "ccda": "Records file",
    "profile": "Profile file",
    "sample": "SAMPLE patient",
}


def _context(saved: SavedProfile, section: str) -> dict[str, Any]:
    return {"profile_id": saved.id, "sample": saved.sample, "section": section, "saved": saved}


def _undo_window(request: Request) -> dt.timedelta:
    minutes: float = request.app.state.settings.profile_undo_minutes
    return dt.timedelta(minutes=minutes)


def _not_in_trash(request: Request, profile_id: str) -> HTMLResponse:
    """Restore or erase asked of a profile that is not in the trash: 409 if the principal
    may delete it (it is live), otherwise the usual 403/404."""
    saved = require_profile(scoped_store(request, "delete"), profile_id)
    return page(
        request,
        "error.html",
        status_code=409,
        section="error",
        message="This profile is not in the trash, so there is nothing to undo.",
        profile_id=saved.id,
    )


def import_profile_file(raw: bytes, filename: str, store: ProfileStore) -> SavedProfile | None:
    """A profile file downloaded from this app ("Download everything saved") becomes a
    profile here with its answers, name and history; None for any other kind of file."""
    if not raw.lstrip().startswith(b"{"):
        return None
    from myelonav.patient.fhir_import import load_json

    data = load_json(raw, filename)
    if not looks_like_export(data):
        return None
    imported = read_export(data, filename)
    saved = store.create(
        imported.record, imported.source, answers=imported.answers, label=imported.label
    )
    if imported.history:
        store.import_history(saved.id, imported.history)
    return saved


def moved_profile_upload(
    request: Request, raw: bytes, filename: str | None, store: ProfileStore
) -> Response | None:
    """The upload page's answer to a profile file from this app: the new profile, or the
    upload page saying in plain words what is wrong; None for any other file."""
    try:
        saved = import_profile_file(raw, filename or "upload", store)
    except MyelonavError as exc:
        return page(request, "upload.html", status_code=422, section="upload", error=str(exc))
    return None if saved is None else RedirectResponse(f"/p/{saved.id}", status_code=303)


def _intake_page(
    request: Request,
    saved: SavedProfile,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    confirm_choices: dict[str, list[tuple[str, str]]] | None = None,
) -> HTMLResponse:
    from myelonav.web.pages.intake_pages import intake_context

    context = intake_context(values, errors, confirm_choices)
    context.update(_context(saved, "edit"), form_action=f"/p/{saved.id}/edit", editing=True)
    return page(request, "intake.html", status_code=422 if errors else 200, **context)


def profile_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/profiles", response_class=HTMLResponse)
    def my_profiles(request: Request, store: Store) -> HTMLResponse:
        listing = store.listing()
        return page(
            request,
            "profiles.html",
            profiles=listing,
            source_words=SOURCE_WORDS,
            section="profiles",
        )

    @router.post("/p/{profile_id}/label")
    async def label(request: Request, store: Store, profile_id: ProfileId) -> Response:
        require_profile(store, profile_id)
        form = await request.form()
        text = " ".join(str(form.get("label", "")).split())
        if len(text) > MAX_LABEL_CHARS:
            raise HTTPException(
                422,
                f"label: use at most {MAX_LABEL_CHARS} characters",
                headers={"X-Error-Field": "label"},
            )
        store.set_label(profile_id, text or None)
        back = "/profiles" if form.get("next") == "profiles" else f"/p/{profile_id}"
        return RedirectResponse(back, status_code=303)

    @router.get("/p/{profile_id}/edit", response_class=HTMLResponse)
    def edit_form(request: Request, profile_id: ProfileId) -> HTMLResponse:
        from myelonav.web.pages.routes import _form_values

        store = scoped_store(request, "change")  # the form is for changing: caregivers 403
        saved = require_profile(store, profile_id)
        stored = store.answers(profile_id) or derived_answers(saved)
        if stored is None:
            return page(request, "edit_unavailable.html", **_context(saved, "edit"))
        values = _form_values(form_from_answers(edit_answers(saved, stored)))
        return _intake_page(request, saved, values)

    @router.post("/p/{profile_id}/edit", response_class=HTMLResponse, response_model=None)
    async def edit_submit(request: Request, store: Store, profile_id: ProfileId) -> Response:
        from myelonav.web.pages.routes import _form_values

        saved = require_profile(store, profile_id)
        stored = store.answers(profile_id) or derived_answers(saved)
        if stored is None:
            return page(
                request, "edit_unavailable.html", status_code=409, **_context(saved, "edit")
            )
        form = await request.form()
        try:
            record, answers, changes = edited_record(saved, stored, form)
        except IntakeError as exc:
            return _intake_page(
                request, saved, _form_values(form), exc.errors.by_field, exc.errors.choices
            )
        if changes:
            store.replace_record(profile_id, record, answers=answers, changes=changes)
        return RedirectResponse(f"/p/{profile_id}/history?saved={len(changes)}", status_code=303)

    @router.get("/p/{profile_id}/history", response_class=HTMLResponse)
    def history(
        request: Request,
        store: Store,
        profile_id: ProfileId,
        saved_count: Annotated[int | None, Query(alias="saved", ge=0, le=10000)] = None,
    ) -> HTMLResponse:
        saved = require_profile(store, profile_id)
        entries = [
            {
                "at": e.at,
                "actor": "you" if e.actor == "local" else e.actor,
                "field": change_words(e.field),
                "old": show_value(e.old),
                "new": show_value(e.new),
            }
            for e in reversed(store.history(profile_id))
        ]
        return page(
            request,
            "history.html",
            entries=entries,
            saved_count=saved_count,
            **_context(saved, "history"),
        )

    def _labs_page(
        request: Request,
        saved: SavedProfile,
        *,
        values: dict[str, Any],
        errors: dict[str, str],
        suggestion: float | None = None,
        added: bool = False,
    ) -> HTMLResponse:
        labs = sorted(
            saved.record.labs, key=lambda lab: (lab.date, lab.analyte.value), reverse=True
        )
        rows = [
            {
                "label": _LAB_LABELS.get(lab.analyte, lab.analyte.value),
                "date": lab.date.isoformat(),
                "value": lab.value if lab.value is not None else show_value(lab.qualitative),
                "unit": unit_words(lab.analyte) if lab.value is not None else "",
            }
            for lab in labs
        ]
        from myelonav.web.auth.deps import principal
        from myelonav.web.auth.principal import can

        may_change = can(
            principal(request), "change", team_id=saved.team_id, owner_id=saved.owner_id
        )
        return page(
            request,
            "labs.html",
            status_code=422 if errors else 200,
            rows=rows,
            choices=lab_choices(),
            units=LAB_UNITS,
            values=values,
            errors=errors,
            can_change=may_change,
            suggestion=suggestion,
            added=added,
            **_context(saved, "labs"),
        )

    @router.get("/p/{profile_id}/labs", response_class=HTMLResponse)
    def labs(
        request: Request,
        store: Store,
        profile_id: ProfileId,
        added: Annotated[int, Query(ge=0, le=1)] = 0,
    ) -> HTMLResponse:
        saved = require_profile(store, profile_id)
        return _labs_page(request, saved, values={}, errors={}, added=bool(added))

    @router.post("/p/{profile_id}/labs", response_class=HTMLResponse, response_model=None)
    async def add_lab(request: Request, store: Store, profile_id: ProfileId) -> Response:
        saved = require_profile(store, profile_id)
        form = await request.form()
        read = read_lab(form, saved.record, today=dt.date.today())
        if read.lab is None:
            values = {k: str(form.get(k, "")) for k in ("analyte", "lab_date", "value", "unit")}
            return _labs_page(
                request, saved, values=values, errors=read.errors, suggestion=read.suggestion
            )
        record, change = with_lab(saved.record, read.lab)
        store.replace_record(profile_id, record, changes=[change])
        return RedirectResponse(f"/p/{profile_id}/labs?added=1", status_code=303)

    @router.get("/p/{profile_id}/delete", response_class=HTMLResponse)
    def delete_confirm(request: Request, store: Store, profile_id: ProfileId) -> HTMLResponse:
        saved = require_profile(store, profile_id)  # the delete right (intent: delete)
        minutes = request.app.state.settings.profile_undo_minutes
        return page(request, "delete_confirm.html", minutes=minutes, **_context(saved, "delete"))

    @router.post("/p/{profile_id}/delete", response_class=HTMLResponse)
    def delete(request: Request, store: Store, profile_id: ProfileId) -> HTMLResponse:
        require_profile(store, profile_id)
        until = store.trash(profile_id, _undo_window(request))
        if until is None:
            raise HTTPException(404, "no saved profile with this id (it may have been deleted)")
        return page(
            request,
            "deleted.html",
            section="deleted",
            trashed_id=profile_id,
            until=until,
            minutes=request.app.state.settings.profile_undo_minutes,
        )

    @router.post("/p/{profile_id}/restore", response_model=None)
    def restore(request: Request, store: Store, profile_id: ProfileId) -> Response:
        if store.restore(profile_id):
            return RedirectResponse(f"/p/{profile_id}", status_code=303)
        return _not_in_trash(request, profile_id)

    @router.post("/p/{profile_id}/erase", response_class=HTMLResponse)
    def erase(request: Request, store: Store, profile_id: ProfileId) -> HTMLResponse:
        if store.erase_trashed(profile_id):
            return page(request, "deleted.html", section="deleted", erased=True)
        return _not_in_trash(request, profile_id)

    @router.get("/p/{profile_id}/export.json")
    def export(store: Store, profile_id: ProfileId) -> Response:
        from myelonav.patient.fhir_export import export_bundle

        saved = require_profile(store, profile_id)
        payload = export_payload(
            saved, store.answers(profile_id), store.history(profile_id), export_bundle(saved.record)
        )
        return Response(
            json.dumps(payload, indent=2, ensure_ascii=False),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="myelonav-{saved.id}.json"'},
        )

    return router


def intake_answers(form: Any) -> dict[str, list[str]]:
    """The answers to keep with a profile made by the intake (for editing later)."""
    return answers_from_form(form)


__all__ = [
    "SOURCE_WORDS",
    "import_profile_file",
    "intake_answers",
    "moved_profile_upload",
    "profile_router",
]
