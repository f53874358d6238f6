"""A bad value makes one fact unknown and leaves a note; it never takes a report down."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.patient.models import Analyte, Demographics, LabResult, Sex
from myelonav.patient.profile_io import save_profile
from myelonav.samples import sample_profile

runner = CliRunner()


@pytest.fixture
def bad_profile(tmp_path: Path) -> Path:
    record = sample_profile("sample-late-idecel-t1114")
    labs = [
        *record.labs,
        LabResult(analyte=Analyte.creatinine, date=dt.date(2026, 11, 24), value=0),
        LabResult(analyte=Analyte.body_weight, date=dt.date(2026, 11, 24), value=0),
    ]
    bad = record.model_copy(
        update={
            "labs": labs,
            "demographics": Demographics(birth_date=dt.date(2009, 3, 1), sex=Sex.unknown),
        }
    )
    path = tmp_path / "bad.yaml"
    save_profile(bad, path)
    return path


def test_options_report_is_whole_with_unknowns_and_notes(bad_profile: Path) -> None:
    result = runner.invoke(
        app, ["options", str(bad_profile), "--as-of", "2026-11-25", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["facts"]["crcl_ml_min"]["known"] is False
    assert report["facts"]["age"]["value"] == 17
    assert len(report["options"]) >= 10
    fields = {n["field"] for n in report["data_quality"]}
    assert {"labs.creatinine", "labs.body_weight", "demographics.sex"} <= fields


def test_questions_and_packet_are_whole(bad_profile: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["questions", str(bad_profile), "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "Which treatments fit" in result.output
    out = tmp_path / "packet.pdf"
    result = runner.invoke(
        app, ["packet", str(bad_profile), "--as-of", "2026-11-25", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_clinician_text_names_the_bad_values(bad_profile: Path) -> None:
    result = runner.invoke(
        app, ["options", str(bad_profile), "--as-of", "2026-11-25", "--audience", "clinician"]
    )
    assert result.exit_code == 0, result.output
    assert "creatinine 0 mg/dL on 2026-11-24 is not plausible" in result.output
