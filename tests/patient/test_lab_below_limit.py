"""'< value' (below the detection limit) and the 'low' flag are two facts, kept apart.

Before issue 17 both were ``qualitative: low`` and the FHIR export wrote "< 9.1" for a
haemoglobin that was only flagged low. Old profiles are read with the old meaning sorted out.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.patient.ccda import import_ccda
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle
from myelonav.patient.models import Analyte, LabResult, PatientRecord, Qualitative
from myelonav.patient.profile_io import load_profile, save_profile

AS_OF = dt.date(2026, 11, 25)
LOINC = "http://loinc.org"
FLAGS = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DISCHARGE = Path(__file__).parent / "ccda" / "data" / "discharge_summary.xml"


def _bundle(*observations: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "gender": "male"}
    myeloma = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "109989006"}]},
        "onsetDateTime": "2020-01-01",
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, myeloma, *observations)],
    }


def _obs(
    rid: str,
    loinc: str,
    value: float,
    unit: str,
    comparator: str | None = None,
    flag: str | None = None,
) -> dict[str, Any]:
    quantity: dict[str, Any] = {
        "value": value,
        "unit": unit,
        "system": "http://unitsofmeasure.org",
        "code": unit,
    }
    if comparator:
        quantity["comparator"] = comparator
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "effectiveDateTime": "2025-03-01",
        "valueQuantity": quantity,
    }
    if flag:
        obs["interpretation"] = [{"coding": [{"system": FLAGS, "code": flag}]}]
    return obs


def _lab(record: PatientRecord, analyte: Analyte) -> LabResult:
    return next(lab for lab in record.labs if lab.analyte is analyte)


def _exported(record: PatientRecord, loinc: str) -> dict[str, Any]:
    for entry in export_bundle(record)["entry"]:
        resource = entry["resource"]
        codes = [c.get("code") for c in resource.get("code", {}).get("coding", [])]
        if resource["resourceType"] == "Observation" and loinc in codes:
            return dict(resource)
    raise AssertionError(loinc)


def test_a_low_flag_is_not_exported_as_below_a_limit() -> None:
    record = import_bundle(_bundle(_obs("h", "718-7", 9.1, "g/dL", flag="L")), as_of=AS_OF).record
    hb = _lab(record, Analyte.hemoglobin)
    assert (hb.value, hb.qualitative, hb.below_limit) == (9.1, Qualitative.low, False)
    exported = _exported(record, "718-7")
    assert "comparator" not in exported["valueQuantity"]
    assert exported["interpretation"][0]["coding"][0]["code"] == "L"


def test_below_the_detection_limit_is_exported_with_its_comparator() -> None:
    bundle = _bundle(_obs("m", "33358-3", 0.1, "g/dL", comparator="<"))
    record = import_bundle(bundle, as_of=AS_OF).record
    spep = _lab(record, Analyte.serum_m_protein)
    assert (spep.value, spep.qualitative, spep.below_limit) == (0.1, None, True)
    exported = _exported(record, "33358-3")
    assert exported["valueQuantity"]["comparator"] == "<"
    assert "interpretation" not in exported


def test_both_facts_at_once_survive() -> None:
    bundle = _bundle(_obs("k", "36916-5", 2.0, "mg/L", comparator="<", flag="L"))
    record = import_bundle(bundle, as_of=AS_OF).record
    kappa = _lab(record, Analyte.kappa_flc)
    assert (kappa.qualitative, kappa.below_limit) == (Qualitative.low, True)
    again = import_bundle(export_bundle(record), as_of=AS_OF).record
    assert _lab(again, Analyte.kappa_flc) == kappa


_CASES = st.lists(
    st.tuples(
        st.sampled_from([("718-7", "g/dL"), ("33358-3", "g/dL"), ("36916-5", "mg/L")]),
        st.sampled_from([None, "<", "<="]),
        st.sampled_from([None, "L", "H", "N"]),
        st.floats(min_value=1.0, max_value=20, allow_nan=False).map(lambda v: round(v, 2)),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda case: case[0][0],
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_CASES)
def test_fhir_import_export_import_round_trips(cases: list[Any]) -> None:
    observations = [
        _obs(f"o{i}", loinc, value, unit, comparator, flag)
        for i, ((loinc, unit), comparator, flag, value) in enumerate(cases)
    ]
    first = import_bundle(_bundle(*observations), as_of=AS_OF).record
    second = import_bundle(export_bundle(first), as_of=AS_OF).record
    assert second.labs == first.labs
    analytes = {
        "718-7": Analyte.hemoglobin,
        "33358-3": Analyte.serum_m_protein,
        "36916-5": Analyte.kappa_flc,
    }
    flags = {None: None, "L": Qualitative.low, "H": Qualitative.high, "N": Qualitative.normal}
    for (loinc, _), comparator, flag, value in cases:
        lab = _lab(first, analytes[loinc])
        assert lab.value == pytest.approx(value)
        assert bool(lab.below_limit) is (comparator is not None)
        assert lab.qualitative is flags[flag]


def test_old_profiles_are_migrated_on_load(tmp_path: Path) -> None:
    record = import_bundle(_bundle(), as_of=AS_OF).record
    data = record.model_dump(mode="json", exclude_none=True)
    data["labs"] = [
        # written before issue 17: both meanings were qualitative "low"
        {"analyte": "serum_m_protein", "date": "2025-03-01", "value": 0.1, "qualitative": "low"},
        {"analyte": "hemoglobin", "date": "2025-03-01", "value": 9.1, "qualitative": "low"},
        {"analyte": "serum_m_protein", "date": "2025-04-01", "qualitative": "low"},
    ]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), "utf-8")
    loaded = load_profile(old)
    spep, hb, spep_text = loaded.labs
    assert (spep.below_limit, spep.qualitative) == (True, None)
    assert (hb.below_limit, hb.qualitative) == (False, Qualitative.low)
    assert (spep_text.below_limit, spep_text.qualitative) == (None, Qualitative.low)
    # saved again and read back: the same facts (the migration does not run twice)
    again = tmp_path / "again.json"
    save_profile(loaded, again)
    assert load_profile(again).labs == loaded.labs
    assert "comparator" not in _exported(loaded, "718-7")["valueQuantity"]


def test_below_limit_needs_a_value() -> None:
    with pytest.raises(ValueError, match="below_limit needs the limit"):
        LabResult(
            analyte=Analyte.serum_m_protein,
            date=dt.date(2025, 1, 1),
            qualitative=Qualitative.negative,
            below_limit=True,
        )


def test_ccda_bound_and_flag_round_trip() -> None:
    raw = DISCHARGE.read_text("utf-8")
    bilirubin = '<value xsi:type="PQ" value="0.7" unit="mg/dL"/>'
    assert bilirubin in raw
    raw = raw.replace(
        bilirubin,
        '<value xsi:type="IVL_PQ"><high value="0.2" unit="mg/dL" inclusive="false"/></value>',
    )
    wbc = raw.index('code="6690-2"')
    end = raw.index("</observation>", wbc)
    raw = (
        raw[:end] + '<interpretationCode code="L" codeSystem="2.16.840.1.113883.5.83"/>' + raw[end:]
    )
    record = import_ccda(raw.encode()).record
    bili = _lab(record, Analyte.bilirubin)
    wbc_lab = _lab(record, Analyte.wbc)
    assert (bili.value, bili.below_limit, bili.qualitative) == (0.2, True, None)
    assert (wbc_lab.below_limit, wbc_lab.qualitative) == (False, Qualitative.low)
    again = import_bundle(export_bundle(record), as_of=AS_OF, record_id=record.id).record
    assert _lab(again, Analyte.bilirubin) == bili
    assert _lab(again, Analyte.wbc) == wbc_lab


def test_summary_shows_below_the_limit() -> None:
    from myelonav.patient.summary import render_text, summarise

    bundle = _bundle(
        _obs("m", "33358-3", 0.1, "g/dL", comparator="<"), _obs("h", "718-7", 9.1, "g/dL", flag="L")
    )
    record = import_bundle(bundle, as_of=AS_OF).record
    summary = summarise(record, AS_OF)
    by_analyte = {lab["analyte"]: lab for lab in summary["latest_labs"]}
    assert by_analyte["serum_m_protein"]["below_limit"] is True
    assert by_analyte["hemoglobin"]["below_limit"] is False
    text = render_text(summary)
    assert "< 0.1 g/dL" in text and "< 9.1" not in text
