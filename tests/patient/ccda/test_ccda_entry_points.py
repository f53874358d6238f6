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


def test_web_upload_page_saves_a_ccda_profile(tmp_path: Path) -> None:
    """Through the page, not only the service: the store must accept the "ccda" source."""
    import warnings

    from myelonav.settings import Settings
    from myelonav.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    web = create_app(Settings(home=tmp_path / "home", web_allowed_hosts=["testserver"]))
    try:
        with TestClient(web, raise_server_exceptions=False) as client:
            raw = (DATA / "epic_ccd.xml").read_bytes()
            files = {"file": ("record.xml", raw, "application/xml")}
            response = client.post("/upload", files=files, follow_redirects=False)
            assert response.status_code == 303, response.text[-500:]
            (saved,) = web.state.profiles.list_profiles()
            assert saved.source == "ccda" and saved.record.labs
            assert client.get(response.headers["location"]).status_code == 200
    finally:
        web.state.profiles.close()
