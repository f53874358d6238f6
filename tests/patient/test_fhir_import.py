from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from myelonav.errors import ImportError_, NotMyelomaError, UnitError
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle, import_bundle_file
from myelonav.patient.models import AntigenStatus, DiseaseSiteKind, StopReason
from myelonav.patient.profile_io import load_preferences
from myelonav.samples import (
    sample_bundle_path,
    sample_ids,
    sample_preferences_path,
    sample_profile,
)

AS_OF = dt.date(2026, 11, 25)
_EXCLUDE: Any = {"unmapped": True, "preferences": True, "labs": {"__all__": {"source_code"}}}


def _bundle(sample_id: str = "sample-late-idecel-t1114") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_bundle_path(sample_id).read_text("utf-8"))
    return data


def _minimal(*resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "gender": "male"}
    myeloma = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "109989006"}],
            "text": "Multiple myeloma",
        },
        "onsetDateTime": "2020-01-01",
    }
    entries = [patient, myeloma, *resources]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }


@pytest.mark.parametrize("sample_id", sample_ids())
def test_sample_bundles_import_to_their_profiles(sample_id: str) -> None:
    report = import_bundle_file(
        str(sample_bundle_path(sample_id)), as_of=AS_OF, record_id=sample_id
    )
    assert report.unmapped == []
    assert report.mapped == sum(report.resource_counts.values())
    expected = sample_profile(sample_id)
    assert report.record.sample is True
    assert report.record.model_dump(exclude=_EXCLUDE) == expected.model_dump(exclude=_EXCLUDE)


@pytest.mark.parametrize("sample_id", sample_ids())
def test_committed_bundles_match_the_profiles(sample_id: str) -> None:
    exported = export_bundle(sample_profile(sample_id))
    committed = _bundle(sample_id)
    exported.pop("meta")
    committed.pop("meta")
    assert exported == committed, "regenerate src/myelonav/samples/bundles from the profiles"
    preferences = load_preferences(str(sample_preferences_path(sample_id)))
    assert preferences == sample_profile(sample_id).preferences


@pytest.mark.parametrize("sample_id", sample_ids())
def test_import_export_import_round_trips(sample_id: str) -> None:
    first = import_bundle(_bundle(sample_id), as_of=AS_OF, record_id=sample_id).record
    second = import_bundle(export_bundle(first), as_of=AS_OF, record_id=sample_id).record
    assert second == first


def test_export_is_valid_fhir_r4() -> None:
    bundle_model = pytest.importorskip("fhir.resources.R4B.bundle")
    for sample_id in sample_ids():
        bundle_model.Bundle.model_validate(export_bundle(sample_profile(sample_id)))


def test_sample_facts_are_read() -> None:
    record = import_bundle(_bundle("sample-early-cilta-emd"), as_of=AS_OF).record
    episode = record.car_t[0]
    assert episode.product == "ciltacabtagene autoleucel" and episode.target_antigen == "BCMA"
    assert episode.crs_max_grade == 1 and episode.icans_max_grade == 0
    assert episode.antigen_status_at_relapse is None  # not tested is unknown, never "no"
    emd = [s for s in record.disease_sites if s.kind is DiseaseSiteKind.extramedullary_plasmacytoma]
    assert emd and emd[0].painful and emd[0].size_cm == 4.5
    assert record.radiation[0].dose_gy == 20 and record.radiation[0].fractions == 5
    late = import_bundle(_bundle("sample-late-idecel-t1114"), as_of=AS_OF).record
    assert late.car_t[0].antigen_status_at_relapse is AntigenStatus.positive
    tec = import_bundle(_bundle("sample-refractory-cart-tec"), as_of=AS_OF).record
    assert tec.car_t[0].bridging_agents == ["carfilzomib", "dexamethasone"]
    assert tec.therapy_lines[-1].agents == ["teclistamab"] and tec.therapy_lines[-1].after_car_t


def test_text_only_records_are_understood() -> None:
    bundle = _minimal(
        {
            "resourceType": "MedicationStatement",
            "status": "completed",
            "medicationCodeableConcept": {"text": "Tecvayli"},
            "effectivePeriod": {"start": "2025-01-01", "end": "2025-06-01"},
            "statusReason": [{"text": "disease progression"}],
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "Kappa free light chain"},
            "effectiveDateTime": "2025-06-01",
            "valueQuantity": {"value": 12.1, "unit": "mg/dL"},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "FISH panel"},
            "effectiveDateTime": "2020-01-05",
            "valueString": "t(11;14) detected; del(17p) not detected",
        },
    )
    record = import_bundle(bundle, as_of=AS_OF).record
    line = record.therapy_lines[0]
    assert line.agents == ["teclistamab"]
    assert line.stop_reason is StopReason.progression and line.refractory is True
    assert record.labs[0].value == pytest.approx(121.0)  # mg/dL → mg/L
    assert {(f.abnormality.value, f.detected) for f in record.cytogenetics} == {
        ("t(11;14)", True),
        ("del(17p)", False),
    }


def test_medication_reference_and_request() -> None:
    bundle = _minimal(
        {
            "resourceType": "Medication",
            "id": "m1",
            "code": {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1369713"}
                ]
            },
        },
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "authoredOn": "2026-01-10",
            "medicationReference": {"reference": "Medication/m1"},
        },
    )
    line = import_bundle(bundle, as_of=AS_OF).record.therapy_lines[0]
    assert line.agents == ["pomalidomide"] and line.stop_reason is StopReason.ongoing


def test_lymphodepletion_is_not_a_line() -> None:
    bundle = _minimal(
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": {"text": "fludarabine"},
            "effectivePeriod": {"start": "2025-08-28", "end": "2025-08-30"},
        },
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": {"text": "cyclophosphamide"},
            "effectivePeriod": {"start": "2025-08-28", "end": "2025-08-30"},
        },
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": {"text": "Abecma"},
            "effectiveDateTime": "2025-09-02",
        },
    )
    record = import_bundle(bundle, as_of=AS_OF).record
    assert record.therapy_lines == []
    assert record.car_t[0].product == "idecabtagene vicleucel"


def test_unmapped_items_are_listed_not_dropped() -> None:
    bundle = _minimal(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {"text": "acetaminophen 500 mg"},
            "effectiveDateTime": "2026-01-01",
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "Vitamin D"},
            "effectiveDateTime": "2026-01-01",
            "valueQuantity": {"value": 30, "unit": "ng/mL"},
        },
        {"resourceType": "Encounter", "status": "finished"},
    )
    report = import_bundle(bundle, as_of=AS_OF)
    reasons = {(u.resource_type, u.reason) for u in report.unmapped}
    assert ("MedicationStatement", "medication not in the myeloma drug vocabulary") in reasons
    assert ("Observation", "observation not used by myelonav") in reasons
    assert ("Encounter", "resource type not used by myelonav") in reasons
    assert report.record.unmapped == report.unmapped


def _with(bundle: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(bundle)
    changed["entry"][index]["resource"].update(changes)
    return changed


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda b: {"resourceType": "Patient"}, ImportError_, "resourceType.*expected 'Bundle'"),
        (lambda b: {"resourceType": "Bundle", "entry": []}, ImportError_, "no entries"),
        (lambda b: [], ImportError_, "expected a JSON object"),
        (lambda b: _with(b, 0, birthDate=None), ImportError_, r"entry\[0\].*birthDate.*missing"),
        (lambda b: _with(b, 0, birthDate="2020-02-30"), ImportError_, "not a real calendar date"),
        (lambda b: _with(b, 0, birthDate="12/01/1960"), ImportError_, "not a FHIR date"),
        (lambda b: _with(b, 1, onsetDateTime="2099-01-01"), ImportError_, "in the future"),
        (
            lambda b: _with(b, 1, code={"text": "Malignant neoplasm of breast"}),
            NotMyelomaError,
            "no multiple myeloma.*breast",
        ),
    ],
)
def test_bad_bundles_name_the_problem(mutate: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        import_bundle(mutate(_minimal()), as_of=AS_OF)


def test_unknown_unit_names_the_path() -> None:
    bundle = _minimal(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
            "effectiveDateTime": "2026-01-01",
            "valueQuantity": {"value": 10, "unit": "bananas"},
        }
    )
    with pytest.raises(UnitError, match=r"entry\[2\]\.resource\.valueQuantity.*bananas"):
        import_bundle(bundle, as_of=AS_OF)


def test_events_before_birth_are_impossible() -> None:
    bundle = _minimal(
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationCodeableConcept": {"text": "bortezomib"},
            "effectiveDateTime": "1950-01-01",
        }
    )
    with pytest.raises(ImportError_, match="before the birth date"):
        import_bundle(bundle, as_of=AS_OF)


def test_shared_development_bundles_import(shared_dir: Path) -> None:
    bundles = sorted((shared_dir / "data/mm-trials/bundles").glob("D*.json"))
    assert bundles
    for path in bundles:
        if path.name.endswith(".preferences.json"):
            continue
        report = import_bundle_file(str(path), as_of=dt.date(2026, 11, 1))
        assert report.record.car_t, path.name
        assert report.record.therapy_lines, path.name
        assert report.record.labs, path.name


def test_reported_line_count_round_trips() -> None:
    record = sample_profile("sample-late-idecel-t1114").model_copy(
        update={"lines_before_car_t_reported": 5}
    )
    again = import_bundle(export_bundle(record), as_of=AS_OF, record_id=record.id).record
    assert again.lines_before_car_t_reported == 5
