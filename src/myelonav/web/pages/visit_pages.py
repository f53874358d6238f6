"""Visit pages (present when ``myelonav.visit`` is installed): questions, plot, packet."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.responses import HTMLResponse

from myelonav.web.deps import ProfileId, Store, TrialsDb, require_profile
from myelonav.web.pages.render import page
from myelonav.web.services import default_as_of
from myelonav.web.visit_service import packet_pdf, plot_bytes, questions_for, trials_view


def visit_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/p/{profile_id}/questions", response_class=HTMLResponse)
    def questions(request: Request, store: Store, db: TrialsDb,
                  profile_id: ProfileId) -> HTMLResponse:
        from myelonav.visit.plot import describe

        saved = require_profile(store, profile_id)
        as_of = default_as_of(saved.record)
        rows, view = trials_view(saved.record, as_of, db)
        return page(request, "questions.html",
                    questions=questions_for(saved.record, as_of, db, rows),
                    plot_description=describe(saved.record, as_of), as_of=as_of,
                    trials_note=view.headline(), trials_updated=view.last_update,
                    trial_rows=rows,
                    profile_id=saved.id, sample=saved.sample, section="questions",
                    name_on_packet=saved.record.preferences.name_on_packet)

    @router.get("/p/{profile_id}/plot.svg")
    def plot(store: Store, profile_id: ProfileId) -> Response:
        saved = require_profile(store, profile_id)
        svg = plot_bytes(saved.record, default_as_of(saved.record), "svg")
        return Response(svg, media_type="image/svg+xml")

    @router.get("/p/{profile_id}/packet.pdf")
    def packet(store: Store, db: TrialsDb, profile_id: ProfileId) -> Response:
        saved = require_profile(store, profile_id)
        as_of = default_as_of(saved.record)
        name = f"myelonav-packet{'-SAMPLE' if saved.sample else ''}-{as_of.isoformat()}.pdf"
        return Response(packet_pdf(saved.record, as_of, db, saved.source),
                        media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    from myelonav.web.pages.packet_pages import packet_router

    router.include_router(packet_router())
    return router


__all__ = ["visit_router"]
