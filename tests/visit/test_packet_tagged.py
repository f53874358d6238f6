"""The packet PDF is tagged (PDF/UA-1), reads in section order, marks where each fact came
from (the patient's word or the records) and carries the patient's name only when asked."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from myelonav.patient.models import FactSource, PatientRecord
from myelonav.samples import SAMPLE_AS_OF, sample_ids, sample_profile
from myelonav.visit.packet import PacketInputs, html_to_pdf, packet_context, render_html
from myelonav.visit.plot import describe
from myelonav.visit.provenance import MARK_TEXT, mark, profile_default

pytest.importorskip("weasyprint", reason="weasyprint is needed to render the PDF")
pypdf = pytest.importorskip("pypdf", reason="pypdf is needed to read the PDF back")

HEADINGS = (
    "1. Patient summary",
    "2. Treatment timeline",
    "3. M-protein and free light chains over time",
    "4. CAR T: IMWG best response and progression",
    "5. Staging at diagnosis",
    "6. Current labs against common trial thresholds",
    "7. Options myelonav found, with sources",
    "8. Matched clinical trials and nearest sites",
    "9. Questions we want to ask",
    "10. Records checklist",
    "11. Finding a myeloma centre for a second opinion",
)
NAME = "Jane Q. Example"


def _record() -> PatientRecord:
    return sample_profile(sample_ids()[0])


def _named(record: PatientRecord, name: str | None) -> PatientRecord:
    prefs = record.preferences.model_copy(update={"name_on_packet": name})
    return record.model_copy(update={"preferences": prefs})


@pytest.fixture(scope="module")
def tagged_pdf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bytes]]:
    record = _named(_record(), NAME)
    pdf = html_to_pdf(render_html(PacketInputs(record, SAMPLE_AS_OF, [], source="intake")))
    path = tmp_path_factory.mktemp("packet") / "packet.pdf"
    path.write_bytes(pdf)
    yield path, pdf


def _struct_elements(node: Any, out: list[tuple[str, Any]]) -> None:
    node = node.get_object()
    if isinstance(node, pypdf.generic.ArrayObject):
        for kid in node:
            _struct_elements(kid, out)
        return
    if not isinstance(node, pypdf.generic.DictionaryObject):
        return
    if "/S" in node:
        out.append((str(node["/S"]), node))
    if "/K" in node:
        _struct_elements(node["/K"], out)


def test_pdf_is_tagged_with_language_title_and_structure(tagged_pdf: tuple[Path, bytes]) -> None:
    _, pdf = tagged_pdf
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == pypdf.generic.BooleanObject(True)
    assert str(root["/Lang"]).lower().startswith("en")
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata is not None and reader.metadata.title.startswith("Second-opinion packet")
    elements: list[tuple[str, Any]] = []
    _struct_elements(root["/StructTreeRoot"], elements)
    kinds = [k for k, _ in elements]
    for needed in ("/H1", "/H2", "/H3", "/Table", "/TH", "/TD", "/Figure", "/L", "/P"):
        assert needed in kinds, f"no {needed} in the structure tree"
    figures = [node for kind, node in elements if kind == "/Figure"]
    alt = describe(_record(), SAMPLE_AS_OF)
    assert any(str(f.get("/Alt", "")) == alt for f in figures), "the lab plot has no alt text"
    # one H1, then one H2 per section (the page text order is checked below)
    assert kinds.count("/H1") == 1
    assert kinds.index("/H1") < kinds.index("/H2")
    assert kinds.count("/H2") == len(HEADINGS)


@pytest.mark.skipif(
    shutil.which("pdfinfo") is None, reason="pdfinfo (Debian poppler-utils) is not installed"
)
def test_pdfinfo_says_tagged(tagged_pdf: tuple[Path, bytes]) -> None:
    path, _ = tagged_pdf
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert fields["Tagged"].strip() == "yes"
    assert fields["Title"].strip().startswith("Second-opinion packet")


def _page_text(pdf: bytes) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, check=True, capture_output=True
        ).stdout.decode("utf-8")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_reading_order_is_the_section_order(tagged_pdf: tuple[Path, bytes]) -> None:
    _, pdf = tagged_pdf
    text = _page_text(pdf)
    positions = []
    for heading in HEADINGS:
        at = text.find(heading)
        assert at >= 0, f"{heading!r} is missing from the PDF text"
        positions.append(at)
    assert positions == sorted(positions), "sections are read out of order"
    # the name, when asked for, comes before the first section; the legend too
    assert text.find(f"Prepared for: {NAME}") < positions[0]
    assert text.find("Source column") < positions[0]


def test_no_name_unless_the_patient_asks() -> None:
    record = _record()
    assert record.preferences.name_on_packet is None  # the default is off
    html = render_html(PacketInputs(record, SAMPLE_AS_OF, []))
    assert "Prepared for" not in html
    named = render_html(PacketInputs(_named(record, NAME), SAMPLE_AS_OF, []))
    assert f"Prepared for: {NAME}" in named


def _sources(context: dict[str, Any]) -> list[str]:
    out = [r["source"] for r in context["timeline"]["regimens"]]
    out += [r["source"] for r in context["timeline"]["transplants"]]
    out += [c["source"] for c in context["car_t"]]
    out += [lab["source"] for lab in context["summary"]["latest_labs"]]
    out += [c["source"] for c in context["summary"]["cytogenetics"]]
    out += [s["source"] for s in context["summary"]["disease_sites"]]
    return out


@pytest.mark.parametrize(
    ("source", "expected"),
    [("intake", "patient"), ("fhir", "records"), ("ccda", "records"), ("profile", "unstated")],
)
def test_profile_source_marks_every_fact(source: str, expected: str) -> None:
    record = _record().model_copy(update={"sample": False})
    context = packet_context(PacketInputs(record, SAMPLE_AS_OF, [], source=source))
    marks = _sources(context)
    assert marks and set(marks) == {expected}
    html = render_html(PacketInputs(record, SAMPLE_AS_OF, [], source=source))
    assert MARK_TEXT[expected] in html


def test_a_fact_s_own_source_wins_over_the_profile_s() -> None:
    """A lab the patient typed into a profile imported from the records is their word."""
    record = _record().model_copy(update={"sample": False})
    newest = max(record.labs, key=lambda lab: lab.date)
    typed = newest.model_copy(
        update={"reported_by": FactSource.patient, "date": newest.date + dt.timedelta(days=1)}
    )
    record = record.model_copy(update={"labs": [*record.labs, typed]})
    context = packet_context(
        PacketInputs(record, SAMPLE_AS_OF + dt.timedelta(days=1), [], source="fhir")
    )
    by_analyte = {lab["analyte"]: lab["source"] for lab in context["summary"]["latest_labs"]}
    assert by_analyte[typed.analyte.value] == "patient"
    assert {v for k, v in by_analyte.items() if k != typed.analyte.value} == {"records"}


def test_marks_without_a_profile_source() -> None:
    assert profile_default(None) is None
    assert profile_default("something else") is None
    assert mark(object(), None) == "unstated"
    assert mark(object(), FactSource.records) == "records"


def test_a_result_below_the_detection_limit_prints_as_less_than() -> None:
    from myelonav.patient.models import Analyte, LabResult

    record = sample_profile(sample_ids()[0])
    below = LabResult(analyte=Analyte.serum_m_protein, date=SAMPLE_AS_OF, value=0.1,
                      below_limit=True)
    record = record.model_copy(update={"labs": [*record.labs, below]})
    html = render_html(PacketInputs(record, SAMPLE_AS_OF, []))
    assert "&lt; 0.1 g/dL" in html or "< 0.1 g/dL" in html
