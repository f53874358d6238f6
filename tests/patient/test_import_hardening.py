"""Issue 17: the importer never breaks — bounded numbers, JSON limits, type surprises, text a
profile cannot hold, and the lesion-activity tri-state through save/load/export/import."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import ImportError_, RecordValidationError
from myelonav.patient import _safe_json
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle, load_json
from myelonav.patient.models import DiseaseSite, DiseaseSiteKind, PatientRecord
from myelonav.patient.profile_io import (
    dump_profile,
    load_preferences,
    load_profile,
    load_yaml,
    parse_profile_text,
    record_from_data,
    save_profile,
)
from myelonav.samples import sample_profile

AS_OF = dt.date(2026, 11, 25)


def _bundle(*resources: dict[str, Any], patient: dict[str, Any] | None = None) -> dict[str, Any]:
    person = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "gender": "male"}
    person.update(patient or {})
    myeloma = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "109989006"}],
            "text": "Multiple myeloma",
        },
        "onsetDateTime": "2020-01-01",
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (person, myeloma, *resources)],
    }


def _hemoglobin(value: str) -> str:
    """Bundle JSON text with one hemoglobin whose value is the literal ``value``."""
    lab = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
        "effectiveDateTime": "2026-01-01",
        "valueQuantity": {"value": "@@", "unit": "g/dL"},
    }
    return json.dumps(_bundle(lab)).replace('"@@"', value)


def _round_trip(record: PatientRecord, tmp_path: Path) -> PatientRecord:
    path = tmp_path / "profile.json"
    save_profile(record, path)
    return load_profile(path)


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("literal", ["1" * 400, "9" * 5000, "-" + "7" * 4301, "1e400", "-1e999"])
def test_a_huge_lab_value_leaves_that_lab_unmapped(literal: str) -> None:
    start = time.perf_counter()
    report = import_bundle(load_json(_hemoglobin(literal), "b.json"), as_of=AS_OF)
    assert time.perf_counter() - start < 1.0
    assert report.record.labs == []
    assert [(u.path, u.reason) for u in report.unmapped] == [
        ("entry[2].resource", "value too large")
    ]


def test_a_huge_number_where_the_record_needs_it_is_an_error_naming_the_path() -> None:
    ecog = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "89247-1"}]},
        "effectiveDateTime": "2026-01-01",
        "valueInteger": "@@",
    }
    text = json.dumps(_bundle(ecog)).replace('"@@"', "1" * 400)
    with pytest.raises(ImportError_, match=r"entry\[2\]\.resource\.valueInteger: value too large"):
        import_bundle(load_json(text, "b.json"), as_of=AS_OF)


def test_python_callers_with_huge_integers_are_bounded_too() -> None:
    bundle = json.loads(_hemoglobin("1"))
    bundle["entry"][2]["resource"]["valueQuantity"]["value"] = 10**5000
    report = import_bundle(bundle, as_of=AS_OF)
    assert report.unmapped[0].reason == "value too large"
    bundle["entry"][2]["resource"]["code"]["coding"][0]["code"] = 10**5000
    with pytest.raises(ImportError_, match=r"coding\[0\]\.code: value too large"):
        import_bundle(bundle, as_of=AS_OF)


def test_a_reasonable_value_still_imports() -> None:
    report = import_bundle(load_json(_hemoglobin("11.2"), "b.json"), as_of=AS_OF)
    assert [lab.value for lab in report.record.labs] == [11.2]


# ------------------------------------------------------------------ JSON limits and shapes


def test_deep_nesting_is_refused_with_a_path() -> None:
    value: Any = "x"
    for _ in range(_safe_json.MAX_DEPTH + 5):
        value = [value]
    bundle = _bundle({"resourceType": "Observation", "status": "final", "code": value})
    with pytest.raises(ImportError_, match=r"nested deeper than 64 levels.*|entry\[2\]"):
        import_bundle(bundle, as_of=AS_OF)
    raw = b"[" * 200_000 + b"]" * 200_000
    start = time.perf_counter()
    with pytest.raises(ImportError_, match="nested deeper"):
        load_json(raw, "deep.json")
    assert time.perf_counter() - start < 1.0


def test_the_size_limit_is_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_safe_json, "MAX_JSON_BYTES", 1000)
    with pytest.raises(ImportError_, match="larger than"):
        load_json(b" " * 1001, "big.json")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"code": {"coding": True}}, r"entry\[1\]\.resource\.code\.coding: expected a JSON array"),
        ({"code": {"coding": [True]}}, r"code\.coding\[0\]: expected a JSON object"),
        ({"code": {"text": 5}}, r"code\.text: expected a string"),
        ({"onsetDateTime": 20200101}, r"onsetDateTime: expected a string"),
        ({"note": {"text": "x"}}, r"entry\[1\]\.resource\.note: expected a JSON array"),
    ],
)
def test_type_surprises_name_the_path(change: dict[str, Any], where: str) -> None:
    bundle = _bundle()
    bundle["entry"][1]["resource"].update(change)
    with pytest.raises(ImportError_, match=where):
        import_bundle(bundle, as_of=AS_OF)


@pytest.mark.parametrize("country", ["", " ", "ß", "ÿÿ", "United States", "\uffff"])
def test_odd_countries_are_not_crashes(country: str) -> None:
    bundle = _bundle(patient={"address": [{"country": country, "postalCode": ""}]})
    report = import_bundle(bundle, as_of=AS_OF)
    assert report.record.demographics.country in (None, "US")


def test_a_value_the_record_refuses_names_the_resource() -> None:
    lesion = {
        "resourceType": "Condition",
        "code": {"text": "Extramedullary plasmacytoma"},
        "bodySite": [{"text": "x" * 100_000}],
        "onsetDateTime": "2025-01-01",
    }
    try:
        report = import_bundle(_bundle(lesion), as_of=AS_OF)
    except ImportError_ as exc:
        assert "entry[2].resource" in str(exc)
    else:
        assert report.record.disease_sites


# ------------------------------------------------------------------ text a profile cannot hold


def test_lone_surrogates_and_noncharacters_are_kept_escaped(tmp_path: Path) -> None:
    vitamin = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Vitamin D @@"},
        "effectiveDateTime": "2026-01-01",
        "valueQuantity": {"value": 30, "unit": "ng/mL"},
    }
    escapes = r"\ud800 \uffff \u0000 \ud83d\ude00 \u00e9"
    raw = json.dumps(_bundle(vitamin)).replace("@@", escapes)
    report = import_bundle(load_json(raw, "b.json"), as_of=AS_OF)
    texts = [u.text for u in report.unmapped if u.resource_type == "Observation"]
    assert texts == ["Vitamin D \\ud800 \\uffff \\u0000 \U0001f600 \u00e9"]
    record = report.record
    dump_profile(record).encode("utf-8")  # no lone surrogate is left to refuse encoding
    assert _round_trip(record, tmp_path) == record
    assert record_from_data(load_yaml(dump_profile(record))) == record  # YAML can read it too
    assert _safe_json.clean_text("a\ud800b\uffffc") == "a\\ud800b\\uffffc"


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.characters(exclude_categories=()) | st.sampled_from("\uffff\ufffe\x85\u2028"),
        max_size=30,
    )
)
def test_any_text_survives_save_and_load(text: str) -> None:
    record = sample_profile("sample-late-idecel-t1114")
    data = record.model_dump(mode="json", exclude_none=True)
    data["unmapped"] = [{"path": "entry[0]", "reason": "test", "text": text}]
    changed = record_from_data(data, "p")
    saved = dump_profile(changed)
    assert parse_profile_text(saved, "p.json") == changed
    assert record_from_data(load_yaml(saved), "p.yaml") == changed
    cleaned = _safe_json.clean_text(text)
    assert changed.unmapped[0].text == cleaned
    if cleaned != text:  # what could not be held is written out as its escape, not dropped
        assert all(f"\\u{ord(c):04x}" in cleaned for c in text if c not in cleaned)


def test_profile_readers_give_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(RecordValidationError, match="not UTF-8"):
        load_profile(bad)
    with pytest.raises(RecordValidationError, match="aliases"):
        parse_profile_text("a: &x [1]\nb: *x\n", "p.yaml")
    with pytest.raises(RecordValidationError, match="too many digits"):
        parse_profile_text("id: " + "1" * 5000, "p.yaml")
    with pytest.raises(RecordValidationError, match="nested deeper"):
        parse_profile_text('{"id": ' + "[" * 100 + "]" * 100 + "}", "p.json")
    prefs = tmp_path / "prefs.yaml"
    prefs.write_text("max_travel_miles: [1\n")
    with pytest.raises(RecordValidationError, match=r"prefs\.yaml"):
        load_preferences(prefs)


# ------------------------------------------------------------------ tri-state lesion activity


@pytest.mark.parametrize("active", [True, False, None])
def test_lesion_activity_survives_save_load_export_import(
    active: bool | None, tmp_path: Path
) -> None:
    record = sample_profile("sample-late-idecel-t1114")
    site = DiseaseSite(kind=DiseaseSiteKind.extramedullary_plasmacytoma, active=active)
    record = record.model_copy(update={"disease_sites": [site]})
    again = _round_trip(record, tmp_path)
    assert again.disease_sites[0].active is active
    assert record_from_data(load_yaml(dump_profile(record))).disease_sites[0].active is active
    imported = import_bundle(export_bundle(again), as_of=AS_OF, record_id=record.id).record
    assert [s.active for s in imported.disease_sites] == [active]


def test_unknown_activity_is_written_as_unknown_and_read_from_yaml() -> None:
    site = DiseaseSite(kind=DiseaseSiteKind.bone_lesion, active=None)
    assert site.model_dump(mode="json", exclude_none=True)["active"] == "unknown"
    assert DiseaseSite.model_validate({"kind": "bone_lesion", "active": "unknown"}).active is None
    assert DiseaseSite.model_validate({"kind": "bone_lesion"}).active is True
    with pytest.raises(ValueError, match="boolean"):
        DiseaseSite.model_validate({"kind": "bone_lesion", "active": "perhaps"})
