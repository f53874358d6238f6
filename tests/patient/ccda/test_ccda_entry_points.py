"""`myelonav patient import record.xml` and the web upload read C-CDA documents."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.patient.profile_io import load_profile
from myelonav.web.services import record_from_upload

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_cli_imports_a_ccda_and_lists_unmapped(tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    result = runner.invoke(
        app,
        [
            "patient",
            "import",
            str(DATA / "epic_ccd.xml"),
            "--out",
            str(out),
            "--as-of",
            "2026-11-25",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "not mapped: /ClinicalDocument/" in result.output
    record = load_profile(out)
    assert record.car_t[0].product == "ciltacabtagene autoleucel"


def test_cli_json_output_for_a_ccda_without_xml_suffix(tmp_path: Path) -> None:
    copy = tmp_path / "download.txt"
    copy.write_bytes((DATA / "progress_note.xml").read_bytes())
    result = runner.invoke(
        app, ["patient", "import", str(copy), "--as-of", "2026-11-25", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["car_t"][0]["antigen_status_at_relapse"] == "negative"


def test_cli_refuses_an_xml_bomb_with_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3">&b;</ClinicalDocument>'
    )
    result = runner.invoke(app, ["patient", "import", str(bomb)])
    assert result.exit_code != 0
    assert "DTDs, entities and external references are not allowed" in result.output


def test_web_upload_reads_a_ccda() -> None:
    raw = (DATA / "discharge_summary.xml").read_bytes()
    record, summary, kind = record_from_upload(
        raw, as_of=dt.date(2026, 11, 25), filename="record.xml"
    )
    assert kind == "ccda" and "mapped" in summary
    assert record.car_t[0].crs_max_grade == 2
