"""ASTCT CRS and ICANS grading (Lee DW, et al. Biol Blood Marrow Transplant 2019;25:625-38)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from myelonav import DISCLAIMER
from myelonav.clinical.astct import (
    Consciousness,
    Edema,
    Hypotension,
    Motor,
    OxygenSupport,
    Seizure,
    crs_grade,
    icans_grade,
)

router = APIRouter(prefix="/grading", tags=["grading"])

CITATION = "Lee DW, et al. ASTCT consensus grading. Biol Blood Marrow Transplant 2019;25:625-38."


class CrsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_temperature_c: float | None = Field(
        None, ge=25, le=45, description="Highest temperature, degrees Celsius.")
    hypotension: Hypotension = Hypotension.none
    oxygen: OxygenSupport = OxygenSupport.none
    fever_masked: bool = Field(
        False, description="Tocilizumab or steroids were given after CRS began.")


class IcansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ice: int | None = Field(None, ge=0, le=10,
                            description="ICE score 0-10; null only if unarousable.")
    consciousness: Consciousness = Consciousness.normal
    seizure: Seizure = Seizure.none
    motor: Motor = Motor.none
    edema: Edema = Edema.none


class GradeOut(BaseModel):
    scale: str
    grade: int = Field(ge=0, le=5)
    reasons: list[str]
    citation: str = CITATION
    disclaimer: str = DISCLAIMER


@router.post("/crs", response_model=GradeOut, summary="ASTCT CRS grade")
def grade_crs(body: CrsIn) -> GradeOut:
    g = crs_grade(max_temperature_c=body.max_temperature_c, hypotension=body.hypotension,
                  oxygen=body.oxygen, fever_masked=body.fever_masked)
    return GradeOut(scale="ASTCT CRS", grade=g.grade, reasons=g.reasons)


@router.post("/icans", response_model=GradeOut, summary="ASTCT ICANS grade (adults)")
def grade_icans(body: IcansIn) -> GradeOut:
    g = icans_grade(ice=body.ice, consciousness=body.consciousness, seizure=body.seizure,
                    motor=body.motor, edema=body.edema)
    return GradeOut(scale="ASTCT ICANS", grade=g.grade, reasons=g.reasons)


__all__ = ["router"]
