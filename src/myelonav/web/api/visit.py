"""Visit preparation: questions to ask, the second-opinion packet (PDF), the lab plot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from myelonav import DISCLAIMER
from myelonav.web.deps import AsOfQuery, ProfileId, Store, TrialsDb, require_profile
from myelonav.web.services import default_as_of, parse_as_of_param
from myelonav.web.visit_service import PlotFormat, packet_pdf, plot_bytes, questions_for

router = APIRouter(tags=["visit"])


class QuestionOut(BaseModel):
    id: str
    text: str
    why: str
    topic: str
    trigger: str
    citations: list[str]


class QuestionsOut(BaseModel):
    as_of: str
    sample: bool
    questions: list[QuestionOut]
    disclaimer: str = DISCLAIMER


@router.get("/profiles/{profile_id}/questions", response_model=QuestionsOut,
            summary="Personal questions for the next visit, each with why and sources")
def get_questions(store: Store, db: TrialsDb, profile_id: ProfileId,
                  as_of: AsOfQuery = None) -> QuestionsOut:
    saved = require_profile(store, profile_id)
    when = parse_as_of_param(as_of) or default_as_of(saved.record)
    items: list[dict[str, Any]] = questions_for(saved.record, when, db)
    return QuestionsOut(as_of=when.isoformat(), sample=saved.sample,
                        questions=[QuestionOut(**q) for q in items])


@router.get("/profiles/{profile_id}/packet.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}},
            summary="The second-opinion packet as a PDF")
def get_packet(store: Store, db: TrialsDb, profile_id: ProfileId,
               as_of: AsOfQuery = None) -> Response:
    saved = require_profile(store, profile_id)
    when = parse_as_of_param(as_of) or default_as_of(saved.record)
    pdf = packet_pdf(saved.record, when, db, saved.source)
    name = f"myelonav-packet{'-SAMPLE' if saved.sample else ''}-{when.isoformat()}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/profiles/{profile_id}/plot", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
            summary="Disease markers and treatments over time")
def get_plot(store: Store, profile_id: ProfileId,
             format: Annotated[PlotFormat, Query()] = "png",
             as_of: AsOfQuery = None) -> Response:
    saved = require_profile(store, profile_id)
    when = parse_as_of_param(as_of) or default_as_of(saved.record)
    media = "image/png" if format == "png" else "image/svg+xml"
    return Response(plot_bytes(saved.record, when, format), media_type=media)


__all__ = ["router"]
