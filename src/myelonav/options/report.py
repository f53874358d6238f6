"""The options report for one patient: CAR T failure explanation, ranked options, facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from myelonav import DISCLAIMER
from myelonav.options.engine import Audience, assess
from myelonav.options.explain import explain_failure
from myelonav.patient.models import PatientRecord
from myelonav.picture import ClinicalPicture


def options_report(
    record: PatientRecord,
    as_of: dt.date,
    audience: Audience = "patient",
    picture: ClinicalPicture | None = None,
) -> dict[str, Any]:
    """JSON-ready: per option ``id``, ``name``, ``category``, ``status``, ``reasons``,
    ``evidence`` (with citations) and ``missing_information``, best first."""
    facts, assessments = assess(record, as_of, audience, picture=picture)
    return {
        "patient_id": record.id,
        "sample": record.sample,
        "as_of": as_of.isoformat(),
        "audience": audience,
        "car_t_failure": explain_failure(facts, audience),
        "options": [a.model_dump(mode="json") for a in assessments],
        "facts": facts.as_json(),
        "data_quality": [n.as_json() for n in facts.picture.notes] if facts.picture else [],
        "disclaimer": DISCLAIMER,
    }


__all__ = ["options_report"]
