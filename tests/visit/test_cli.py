from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.samples import sample_bundle_path

runner = CliRunner()
PROFILES = Path(__file__).resolve().parents[2] / "src" / "myelonav" / "samples" / "profiles"
LATE = str(PROFILES / "sample-late-idecel-t1114.yaml")
EARLY = str(PROFILES / "sample-early-cilta-emd.yaml")


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYELONAV_HOME", str(tmp_path / "home"))


def test_questions_json_with_trials_from_the_local_store() -> None:
    result = runner.invoke(app, ["questions", EARLY, "--as-of", "2026-11-25", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sample"] is True and payload["disclaimer"]
    ids = [q["id"] for q in payload["questions"]]
    assert "core_options_fit" in ids and any(i.startswith("matched_trial:") for i in ids)


def test_questions_markdown_from_a_fhir_bundle() -> None:
    bundle = str(sample_bundle_path("sample-late-idecel-t1114"))
    result = runner.invoke(app, ["questions", bundle, "--as-of", "2026-11-25", "--format", "md",
                                 "--no-trials"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Questions for my next visit")
    assert "venetoclax" in result.stdout


def test_checklist_json() -> None:
    result = runner.invoke(app, ["checklist", LATE, "--as-of", "2026-11-25", "--format", "json"])
    assert result.exit_code == 0, result.output
    items = {i["id"]: i for i in json.loads(result.stdout)["items"]}
    assert items["antigen_testing"]["status"] == "held"
    assert items["medicines"]["status"] in ("partial", "missing")


def test_plot_png_and_bad_suffix(tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    result = runner.invoke(app, ["plot", LATE, "--out", str(out), "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    bad = runner.invoke(app, ["plot", LATE, "--out", str(tmp_path / "p.jpg")])
    assert bad.exit_code == 1 and "p.jpg" in bad.output and "Traceback" not in bad.output


def test_packet_pdf_and_html(tmp_path: Path) -> None:
    pdf, html = tmp_path / "packet.pdf", tmp_path / "packet.html"
    result = runner.invoke(app, ["packet", LATE, "--out", str(pdf), "--html", str(html),
                                 "--as-of", "2026-11-25", "--no-trials"])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Trial matching was not run" in html.read_text("utf-8")


def test_packet_refuses_a_non_pdf_name_and_a_missing_profile(tmp_path: Path) -> None:
    result = runner.invoke(app, ["packet", LATE, "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 1 and ".pdf" in result.output
    missing = runner.invoke(app, ["questions", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "nope.json" in missing.output
    assert list(tmp_path.glob("x.*")) == []


def test_centres_lists_sourced_resources() -> None:
    result = runner.invoke(app, ["centres", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["resources"]) >= 4 and payload["disclaimer"]
