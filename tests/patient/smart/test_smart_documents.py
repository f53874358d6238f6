"""DocumentReference from the portal: C-CDA documents merge, other documents are listed."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.patient.models import Analyte
from myelonav.patient.smart import connect
from myelonav.patient.smart.documents import (
    MAX_DOCUMENT_BYTES,
    PortalDocuments,
    fingerprint,
    merge_documents,
)

AS_OF = dt.date(2026, 11, 25)
DATA = Path(__file__).resolve().parents[1] / "ccda" / "data"
DISCHARGE = (DATA / "discharge_summary.xml").read_bytes()
PROGRESS = (DATA / "progress_note.xml").read_bytes()
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'.encode()
        for i in range(9)
    )
    + b']><ClinicalDocument xmlns="urn:hl7-org:v3">&lol8;</ClinicalDocument>'
)


def _doc(rid: str, patient_id: str, attachment: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": "2025-11-03T10:00:00Z",
        "content": [{"attachment": attachment}],
        **extra,
    }


def _labs(record: Any, analyte: Analyte) -> list[tuple[str, float | None]]:
    return [(str(lab.date), lab.value) for lab in record.labs if lab.analyte is analyte]


def test_ccda_documents_merge_and_other_documents_are_listed(portal: Any, browser: Any) -> None:
    pid = portal.patient_id
    without = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20).report.record
    portal.binaries["ccd-1"] = ("application/xml", PROGRESS)
    portal.documents = [
        _doc(
            "d1",
            pid,
            {
                "contentType": "application/xml",
                "data": base64.b64encode(DISCHARGE).decode(),
                "title": "Discharge summary",
            },
        ),
        _doc(
            "d2",
            pid,
            {"contentType": "application/hl7-v3+xml", "url": "Binary/ccd-1"},
            description="Progress note",
        ),
        _doc(
            "d3",
            pid,
            {
                "contentType": "application/pdf",
                "url": "Binary/letter",
                "title": "Letter from Dr. Reyes",
            },
        ),
        _doc(
            "d4",
            pid,
            {
                "contentType": "application/xml",
                "url": "https://elsewhere.example/Binary/9",
                "title": "Outside CCD",
            },
        ),
        _doc(
            "d5",
            pid,
            {
                "contentType": "application/xml",
                "data": base64.b64encode(BOMB).decode(),
                "title": "Odd file",
            },
        ),
        _doc(
            "d6", pid, {"contentType": "application/xml", "data": "not base64!", "title": "Broken"}
        ),
    ]
    portal.log.clear()
    portal.throttle_once = {"Observation"}
    result = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20)
    record = result.report.record
    assert "binary:raw" in portal.log  # the Binary was read as the document itself
    # the discharge summary's labs and the progress note's marrow result joined the record
    assert ("2024-09-01", 0.7) in _labs(record, Analyte.bilirubin)
    assert ("2025-10-20", 35.0) in _labs(record, Analyte.marrow_plasma_cells)
    assert len(record.labs) > len(without.labs)
    by_path = {item.path: item for item in record.unmapped}
    assert by_path["DocumentReference/d3"].text == "Letter from Dr. Reyes (2025-11-03)"
    assert "application/pdf" in by_path["DocumentReference/d3"].reason
    assert "another server" in by_path["DocumentReference/d4"].reason
    assert "DOCTYPE" in by_path["DocumentReference/d5"].reason or "entit" in (
        by_path["DocumentReference/d5"].reason.lower()
    )
    assert "base64" in by_path["DocumentReference/d6"].reason
    assert result.report.resource_counts["C-CDA documents merged"] == 2


def test_a_document_repeating_the_portal_adds_nothing_twice(portal: Any, browser: Any) -> None:
    pid = portal.patient_id
    data = base64.b64encode(DISCHARGE).decode()
    portal.binaries["same"] = ("application/xml", DISCHARGE)
    portal.documents = [
        _doc("a", pid, {"contentType": "application/xml", "data": data}),
        _doc("b", pid, {"contentType": "application/xml", "url": "Binary/same"}),
    ]
    record = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20).report.record
    assert _labs(record, Analyte.bilirubin).count(("2024-09-01", 0.7)) == 1


def test_absolute_binary_url_and_size_bound(portal: Any, browser: Any) -> None:
    pid = portal.patient_id
    portal.binaries["ccd"] = ("application/xml", DISCHARGE)
    portal.binaries["huge"] = ("text/plain", b"<" + b"x" * (MAX_DOCUMENT_BYTES * 2 + 10))
    portal.documents = [
        _doc("j", pid, {"contentType": "application/xml", "url": f"{portal.base}/Binary/ccd"}),
        _doc("h", pid, {"contentType": "application/xml", "url": "Binary/huge"}),
    ]
    result = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20)
    record = result.report.record
    assert ("2024-09-01", 0.7) in _labs(record, Analyte.bilirubin)
    huge = next(i for i in record.unmapped if i.path == "DocumentReference/h")
    assert "larger than" in huge.reason


def test_fingerprint_ignores_ids_and_sources() -> None:
    a = {
        "resourceType": "Observation",
        "id": "1",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1975-2"}]},
        "effectiveDateTime": "2024-09-01T08:00:00Z",
        "valueQuantity": {"value": 0.7, "unit": "mg/dL"},
    }
    b = {**a, "id": "c7", "effectiveDateTime": "2024-09-01"}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "valueQuantity": {"value": 0.8, "unit": "mg/dL"}})


_RESOURCES = st.lists(
    st.fixed_dictionaries(
        {
            "resourceType": st.sampled_from(["Observation", "Procedure", "MedicationRequest"]),
            "id": st.text("abc123", min_size=1, max_size=4),
            "code": st.fixed_dictionaries(
                {
                    "coding": st.lists(
                        st.fixed_dictionaries(
                            {
                                "system": st.just("http://loinc.org"),
                                "code": st.sampled_from(["718-7", "1975-2", "33358-3"]),
                            }
                        ),
                        min_size=1,
                        max_size=2,
                    )
                }
            ),
            "effectiveDateTime": st.sampled_from(["2025-01-01", "2025-02-01T08:00:00Z"]),
            "valueQuantity": st.fixed_dictionaries(
                {"value": st.sampled_from([0.1, 0.7, 9.1]), "unit": st.just("g/dL")}
            ),
        }
    ),
    max_size=8,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(_RESOURCES, _RESOURCES)
def test_merge_keeps_every_portal_resource_and_adds_each_fact_once(
    portal_resources: list[dict[str, Any]], doc_resources: list[dict[str, Any]]
) -> None:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in portal_resources]}
    docs = PortalDocuments(
        merged=[
            (f"d{i}", [{"resource": r} for r in doc_resources], ["/x"] * len(doc_resources))
            for i in range(2)  # the same document twice
        ]
    )
    merged, locations = merge_documents(bundle, docs)
    entries = merged["entry"]
    assert entries[: len(portal_resources)] == bundle["entry"]  # nothing of the portal's lost
    added = [e["resource"] for e in entries[len(portal_resources) :]]
    assert sorted(locations) == list(range(len(portal_resources), len(entries)))
    known = {fingerprint(r) for r in portal_resources}
    prints = [fingerprint(r) for r in added]
    assert len(set(prints)) == len(prints) and not known & set(prints)
    assert {fingerprint(r) for r in doc_resources} <= known | set(prints)
    assert len({r["id"] for r in added}) == len(added)  # ids stay unique in the bundle


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_ATTACHMENT = st.fixed_dictionaries(
    {},
    optional={
        "contentType": st.sampled_from(["application/xml", "application/pdf", "text/xml;x=1"])
        | _JSON,
        "data": st.sampled_from(
            ["", "!!", base64.b64encode(b"<a/>").decode(), base64.b64encode(b"not xml").decode()]
        )
        | _JSON,
        "url": st.sampled_from(["Binary/1", "https://elsewhere.test/x", ""]) | _JSON,
        "title": _JSON,
    },
)
_DOCUMENT = st.fixed_dictionaries(
    {"resourceType": st.just("DocumentReference")},
    optional={
        "id": _JSON,
        "status": st.sampled_from(["current", "entered-in-error"]) | _JSON,
        "date": _JSON,
        "type": _JSON,
        "description": _JSON,
        "context": _JSON,
        "content": st.lists(
            st.fixed_dictionaries({}, optional={"attachment": _ATTACHMENT | _JSON, "format": _JSON})
            | _JSON,
            max_size=3,
        )
        | _JSON,
    },
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(_DOCUMENT, max_size=4))
def test_hostile_document_references_are_listed_never_raised(
    documents: list[dict[str, Any]],
) -> None:
    import time

    import httpx

    from myelonav.patient.smart.documents import read_documents
    from myelonav.patient.smart.fhir import FhirReader
    from myelonav.patient.smart.oauth import Token

    reader = FhirReader(
        httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(404))),
        "https://portal.test/fhir",
        Token(access_token="t", expires_at=time.time() + 3600),
        renew=lambda current: current,
    )
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1960-01-01"}
    found = read_documents(reader, documents, patient)
    live = [d for d in documents if d.get("status") != "entered-in-error"]
    # every document is either merged or listed once: none is dropped silently
    listed = [i for i in found.unmapped if i.resource_type == "DocumentReference"]
    assert found.read + len(listed) == len(live)
    assert all(item.path.startswith("DocumentReference") for item in found.unmapped)
