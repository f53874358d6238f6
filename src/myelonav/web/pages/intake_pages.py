"""The guided intake pages: the form, its one-click confirmations and its errors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from myelonav.web.deps import Store
from myelonav.web.intake import (
    CAR_T_PRODUCTS,
    COMORBIDITY_QUESTIONS,
    CRS_GRADES,
    DONOR_CHOICES,
    DONOR_UNKNOWN_WORDS,
    ECOG_PLAIN,
    FLC_UNITS,
    ICANS_GRADES,
    NEUROPATHY_PLAIN,
    IntakeError,
    form_answers,
    prior_choices,
    record_from_intake,
)
from myelonav.web.pages.render import page
from myelonav.web.profile_edit import answers_from_form


def intake_context(
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    confirm_choices: dict[str, list[tuple[str, str]]] | None = None,
) -> dict[str, Any]:
    """What the intake template needs: answers so far, errors, one-click confirmations and
    the choices each question offers (the edit page fills ``values`` from the record)."""
    return {
        "values": values or {},
        "errors": errors or {},
        "confirm_choices": confirm_choices or {},
        "prior_groups": prior_choices(),
        "car_t_products": list(CAR_T_PRODUCTS),
        "ecog_plain": ECOG_PLAIN,
        "crs_grades": list(CRS_GRADES),
        "icans_grades": list(ICANS_GRADES),
        "flc_units": [(code, words) for code, words, _ in FLC_UNITS],
        "neuropathy_plain": list(NEUROPATHY_PLAIN),
        "comorbidity_questions": COMORBIDITY_QUESTIONS,
        "donor_choices": list(DONOR_CHOICES),
        "donor_unknown_words": DONOR_UNKNOWN_WORDS,
        "section": "intake",
    }


def intake_router() -> APIRouter:
    router = APIRouter()

    @router.get("/intake", response_class=HTMLResponse)
    def intake_form(request: Request) -> HTMLResponse:
        return page(request, "intake.html", **intake_context())

    @router.post("/intake", response_class=HTMLResponse, response_model=None)
    async def intake_submit(request: Request, store: Store) -> Response:
        answers = form_answers(await request.form())
        try:
            record = record_from_intake(answers)
        except IntakeError as exc:
            return page(
                request,
                "intake.html",
                status_code=422,
                **intake_context(answers, exc.errors.by_field, exc.errors.choices),
            )
        saved = store.create(record, "intake", answers=answers_from_form(answers))
        return RedirectResponse(f"/p/{saved.id}/options", status_code=303)

    return router


__all__ = ["intake_context", "intake_router"]
