"""Comorbidities travel through FHIR: Condition (present, or refuted = absent) and LVEF."""

from __future__ import annotations

import datetime as dt
from typing import Any

from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle
from myelonav.patient.models import Comorbidities
from myelonav.samples import sample_profile

AS_OF = dt.date(2026, 11, 25)


def test_round_trip_keeps_every_comorbidity() -> None:
    recorded = Comorbidities(
        recorded_on=dt.date(2026, 11, 1),
        heart_failure=True,
        lvef_pct=38,
        lvef_date=dt.date(2026, 10, 1),
        peripheral_neuropathy_grade=2,
        eye_disease=False,
        active_infection=True,
        infection_detail="Pneumonia, right lower lobe",
        movement_disorder_after_car_t=False,
        secondary_malignancy=False,
        transfusion_dependent=True,
    )
    record = sample_profile("sample-late-idecel-t1114").model_copy(
        update={"comorbidities": recorded}
    )
    back = import_bundle(export_bundle(record), as_of=AS_OF).record
    assert back.comorbidities == recorded
    # what was never recorded stays unknown through the round trip
    plain = sample_profile("sample-late-idecel-t1114")
    assert import_bundle(export_bundle(plain), as_of=AS_OF).record.comorbidities == Comorbidities()


def _condition(code: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {
            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}],
            "text": text,
        },
        **extra,
    }


def test_real_shaped_conditions() -> None:
    bundle = export_bundle(sample_profile("sample-late-idecel-t1114"))
    status = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    extra = [
        _condition("I50.22", "Chronic systolic (congestive) heart failure"),
        _condition(
            "J18.9",
            "Pneumonia, unspecified organism",
            clinicalStatus={"coding": [{"system": status, "code": "resolved"}]},
        ),
        _condition("G62.0", "Drug-induced polyneuropathy, grade 1"),
        {"resourceType": "Condition", "code": {"text": "Exposure keratopathy"}},
    ]
    bundle["entry"] += [{"resource": r} for r in extra]
    c = import_bundle(bundle, as_of=AS_OF).record.comorbidities
    assert c.heart_failure is True
    assert c.active_infection is False  # resolved pneumonia is history, not active infection
    assert c.peripheral_neuropathy_grade == 1
    assert c.eye_disease is True
    assert c.transfusion_dependent is None
