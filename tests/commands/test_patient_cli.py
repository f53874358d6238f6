from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.samples import sample_bundle_path, sample_ids

runner = CliRunner()


def _schema() -> dict[str, object]:
    result = runner.invoke(app, ["patient", "schema"])
    assert result.exit_code == 0
    schema: dict[str, object] = json.loads(result.stdout)
    return schema


@pytest.mark.parametrize("sample_id", sample_ids())
def test_import_json_validates_against_the_schema(sample_id: str, tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    result = runner.invoke(
        app,
        [
            "patient",
            "import",
            str(sample_bundle_path(sample_id)),
            "--out",
            str(out),
            "--as-of",
            "2026-11-25",
            "--format",
            "json",
            "--id",
            sample_id,
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    jsonschema.validate(printed, _schema())
    assert printed["car_t"] and printed["therapy_lines"] and printed["labs"]
    assert json.loads(out.read_text()) == printed


def test_show_reports_as_of_and_sample_label(tmp_path: Path) -> None:
    bundle = str(sample_bundle_path("sample-late-idecel-t1114"))
    result = runner.invoke(app, ["patient", "show", bundle, "--as-of", "2026-11-25"])
    assert result.exit_code == 0
    assert "SAMPLE" in result.stdout and "idecabtagene vicleucel" in result.stdout
    assert "lines of therapy (IMWG grouping): 4" in result.stdout
    as_json = runner.invoke(
        app, ["patient", "show", bundle, "--as-of", "2026-11-25", "--format", "json"]
    )
    summary = json.loads(as_json.stdout)
    assert summary["car_t"][0]["days_since_infusion"] == 894
    assert summary["age"] == 71


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    runner.invoke(
        app,
        [
            "patient",
            "import",
            str(sample_bundle_path("sample-early-cilta-emd")),
            "--out",
            str(profile),
            "--as-of",
            "2026-11-25",
        ],
    )
    bundle = tmp_path / "b.json"
    result = runner.invoke(app, ["patient", "export", str(profile), "--out", str(bundle)])
    assert result.exit_code == 0
    again = tmp_path / "again.json"
    result = runner.invoke(
        app,
        [
            "patient",
            "import",
            str(bundle),
            "--out",
            str(again),
            "--as-of",
            "2026-11-25",
            "--id",
            "sample-early-cilta-emd",
        ],
    )
    assert result.exit_code == 0
    assert json.loads(again.read_text()) == json.loads(profile.read_text())


def test_preferences_are_merged(tmp_path: Path) -> None:
    prefs = tmp_path / "prefs.yaml"
    prefs.write_text("max_travel_miles: 120\ntrial_interest: 'yes'\ngoals: [quality_of_life]\n")
    result = runner.invoke(
        app,
        [
            "patient",
            "import",
            str(sample_bundle_path(sample_ids()[0])),
            "--preferences",
            str(prefs),
            "--format",
            "json",
            "--as-of",
            "2026-11-25",
        ],
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["preferences"]["max_travel_miles"] == 120


FOREIGN = [
    (
        "another-cancer",
        {
            "resourceType": "Bundle",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "x", "birthDate": "1970-01-01"}},
                {"resource": {"resourceType": "Condition", "code": {"text": "Breast cancer"}}},
            ],
        },
        "no multiple myeloma",
    ),
    (
        "no-birth-date",
        {
            "resourceType": "Bundle",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "x"}},
                {"resource": {"resourceType": "Condition", "code": {"text": "Multiple myeloma"}}},
            ],
        },
        "birthDate",
    ),
    ("empty", {"resourceType": "Bundle", "entry": []}, "no entries"),
    ("not-a-bundle", {"resourceType": "Observation"}, "expected 'Bundle'"),
]


@pytest.mark.parametrize(("name", "bundle", "message"), FOREIGN, ids=[f[0] for f in FOREIGN])
def test_foreign_bundles_fail_with_one_line_and_write_nothing(
    name: str, bundle: dict[str, object], message: str, tmp_path: Path
) -> None:
    source = tmp_path / f"{name}.json"
    source.write_text(json.dumps(bundle))
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "myelonav.cli", "patient", "import", str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "broken.json"
    source.write_text('{"resourceType": "Bundle",\n "entry": [,]}')
    result = runner.invoke(app, ["patient", "import", str(source)])
    assert result.exit_code == 1
    assert "broken.json" in result.stderr and "line 2" in result.stderr


def test_failed_import_leaves_an_existing_profile_untouched(tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    out.write_text('{"id": "keep-me"}')
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(FOREIGN[0][1]))
    result = runner.invoke(app, ["patient", "import", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert out.read_text() == '{"id": "keep-me"}'


def test_bad_profile_names_the_field(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("id: p1\ncar_t:\n  - {product: ide-cel, infusion_date: 2025-13-40}\n")
    result = runner.invoke(app, ["patient", "show", str(profile)])
    assert result.exit_code == 1
    assert "car_t.0.infusion_date" in result.stderr


def test_demo_walks_the_whole_journey_offline(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--patient", "sample-refractory-cart-tec",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "SAMPLE" in out and "not medical advice" in out
    for section in ("== 1. The record", "== 2. Clinical calculators", "== 3. Why CAR T",
                    "== 4. Clinical trials", "== 5. Questions", "== 6. Second-opinion packet"):
        assert section in out
    assert "relapse class: primary refractory" in out
    packet = tmp_path / "sample-refractory-cart-tec-packet.pdf"
    assert packet.read_bytes().startswith(b"%PDF")
