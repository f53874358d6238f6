"""Sample patients (fictional): list them and save one as a profile for a demo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from myelonav import DISCLAIMER
from myelonav.samples import sample_ids, sample_profile
from myelonav.web.api.profiles import ImportOut
from myelonav.web.deps import Store

router = APIRouter(tags=["samples"])


class SampleOut(BaseModel):
    id: str
    label: str


class SamplesOut(BaseModel):
    samples: list[SampleOut]
    notice: str = "SAMPLE patients are fictional, written for myelonav."
    disclaimer: str = DISCLAIMER


def sample_label(sample_id: str) -> str:
    return "SAMPLE: " + sample_id.removeprefix("sample-").replace("-", " ")


@router.get("/samples", response_model=SamplesOut, summary="List the fictional sample patients")
def list_samples() -> SamplesOut:
    return SamplesOut(samples=[SampleOut(id=i, label=sample_label(i)) for i in sample_ids()])


@router.post("/samples/{sample_id}", status_code=201, response_model=ImportOut,
             summary="Save a sample patient as a new profile (for a demo)")
def use_sample(store: Store,
               sample_id: Annotated[str, Path(max_length=80)]) -> ImportOut:
    if sample_id not in sample_ids():
        raise HTTPException(404, f"no sample patient {sample_id[:80]!r}",
                            headers={"X-Error-Field": "sample_id"})
    saved = store.create(sample_profile(sample_id), "sample")
    return ImportOut(id=saved.id, source=saved.source, sample=True,
                     summary="SAMPLE patient (fictional)", unmapped=[])


__all__ = ["router", "sample_label"]
