from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from myelonav import DISCLAIMER
from myelonav.patient.models import PatientRecord
from myelonav.samples import SAMPLE_AS_OF, sample_ids, sample_profile
from myelonav.support.diary import Diary, DiaryEntry
from myelonav.support.triage import SymptomReport
from myelonav.trials.samples import sample_studies
from myelonav.visit.packet import (
    SECTION_IDS,
    PacketInputs,
    _fetcher,
    html_to_pdf,
    render_html,
    write_packet,
)
from myelonav.visit.trials import match_trials

pytest.importorskip("weasyprint", reason="weasyprint is needed to render the PDF")
pypdf = pytest.importorskip("pypdf", reason="pypdf is needed to read the PDF text back")

AS_OF = dt.date(2026, 11, 25)


class _Sections(HTMLParser):
    """Collects the visible text of each <section id=...>, and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self.current: str | None = None
        self.refs: list[str] = []
        self.alts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.current = a["id"]
            self.text[self.current] = []
        if tag in ("style", "h2"):
            self._skip += 1
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(str(a[key]))
        if tag == "img":
            self.alts.append(a.get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None
        if tag in ("style", "h2"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self.current and not self._skip and data.strip():
            self.text[self.current].append(data.strip())


def _inputs(sample_id: str) -> PacketInputs:
    record = sample_profile(sample_id)
    rows = match_trials(record, sample_studies(), as_of=SAMPLE_AS_OF)
    return PacketInputs(record, SAMPLE_AS_OF, rows)


@pytest.mark.parametrize("sample_id", sample_ids())
def test_every_sample_renders_to_pdf_with_all_sections(sample_id: str, tmp_path: Path) -> None:
    inputs = _inputs(sample_id)
    pdf_path, html_path = tmp_path / "packet.pdf", tmp_path / "packet.html"
    html = write_packet(inputs, pdf_path, html_path)
    assert html_path.read_text("utf-8") == html

    reader = pypdf.PdfReader(io.BytesIO(pdf_path.read_bytes()))
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    for heading in ("Treatment timeline", "Options myelonav found", "Questions we want to ask",
                    "M-protein and free light chains over time", "CAR T: IMWG best response",
                    "Staging at diagnosis", "Current labs against common trial thresholds",
                    "Matched clinical trials", "Records checklist", "Finding a myeloma centre"):
        assert heading in text, heading
    # Timeline, options and questions carry content from this record.
    assert inputs.record.therapy_lines[0].regimen in text
    assert "Which treatments fit my test results" in text
    assert "Common thresholds; each trial sets its own." in text
    # Disclaimer and SAMPLE label on every page; pages numbered.
    for n, page in enumerate(pages, start=1):
        assert "Decide every treatment with your care team" in page, f"page {n}"
        assert "SAMPLE" in page, f"page {n}"
        assert f"Page {n} of {len(pages)}" in page

    parser = _Sections()
    parser.feed(html)
    expected = [s for s in SECTION_IDS if s != "diary"]
    assert set(expected) <= set(parser.text)
    for section, chunks in parser.text.items():
        assert " ".join(chunks).strip(), f"section {section} is empty"


def test_no_external_resources_in_the_html() -> None:
    html = render_html(_inputs("sample-early-cilta-emd"))
    parser = _Sections()
    parser.feed(html)
    assert parser.refs and all(r.startswith("data:") for r in parser.refs)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert parser.alts and all(len(a) > 40 for a in parser.alts)
    assert "CAR T infusion" in parser.alts[0]


def test_the_renderer_refuses_network_urls() -> None:
    fetcher = _fetcher()
    for url in ("https://example.org/font.woff", "http://example.org/x.png",
                "ftp://example.org/x"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)


def test_a_network_image_is_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    attempts: list[object] = []

    def record_attempt(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access attempted")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", record_attempt)
    pdf = html_to_pdf('<p>x</p><img src="https://example.org/a.png" alt="a">'
                      '<link rel="stylesheet" href="http://example.org/s.css">')
    assert pdf.startswith(b"%PDF")
    assert attempts == []


def test_without_trials_or_diary_the_sections_say_so(tmp_path: Path) -> None:
    record = PatientRecord(id="bare")
    html = render_html(PacketInputs(record, AS_OF, None, None))
    assert "Trial matching was not run" in html
    assert 'id="diary"' not in html
    assert "No CAR T infusion is in the record." in html
    assert "SAMPLE" not in html


def test_diary_entries_appear_in_the_packet() -> None:
    entry = DiaryEntry(date=dt.date(2026, 11, 20), recorded_at=dt.datetime(2026, 11, 20, 8),
                       report=SymptomReport(temperature_c=38.6, chills=True),
                       urgency="call_team_now", note="felt shivery")
    inputs = _inputs("sample-early-cilta-emd")
    html = render_html(PacketInputs(inputs.record, inputs.as_of, inputs.trials,
                                    Diary(entries=[entry])))
    section = re.search(r'<section id="diary">(.*?)</section>', html, re.S)
    assert section and "2026-11-20" in section.group(1) and "felt shivery" in section.group(1)
    assert "I had a fever or signs of infection" in html


def test_disclaimer_is_in_the_html_too() -> None:
    html = render_html(PacketInputs(PatientRecord(id="bare"), AS_OF))
    assert html.count(DISCLAIMER) >= 2


def test_a_failed_render_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import myelonav.visit.packet as packet

    def fail(html: str) -> bytes:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(packet, "html_to_pdf", fail)
    with pytest.raises(RuntimeError):
        packet.write_packet(PacketInputs(PatientRecord(id="bare"), AS_OF),
                            tmp_path / "p.pdf", tmp_path / "p.html")
    assert list(tmp_path.iterdir()) == []
