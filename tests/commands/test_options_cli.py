from __future__ import annotations

import json

from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.samples import sample_bundle_path

runner = CliRunner()


def test_options_json_carries_every_field() -> None:
    bundle = str(sample_bundle_path("sample-refractory-cart-tec"))
    result = runner.invoke(
        app,
        ["options", bundle, "--as-of", "2026-11-25", "--format", "json", "--audience", "clinician"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["audience"] == "clinician" and report["sample"] is True
    statuses = {o["id"]: o["status"] for o in report["options"]}
    assert statuses["teclistamab"] == "unlikely to fit"
    for option in report["options"]:
        for entry in option["evidence"]:
            if entry["figures"]:
                assert entry["citation"], (option["id"], entry["study"])


def test_options_markdown_and_text() -> None:
    bundle = str(sample_bundle_path("sample-late-idecel-t1114"))
    md = runner.invoke(app, ["options", bundle, "--as-of", "2026-11-25", "--format", "md"])
    assert md.exit_code == 0
    assert md.stdout.startswith("# Options after CAR T") and "## References" in md.stdout
    text = runner.invoke(app, ["options", bundle, "--as-of", "2026-11-25"])
    assert "Venetoclax" in text.stdout and "May fit you" in text.stdout


def test_options_on_a_missing_file_is_one_line() -> None:
    result = runner.invoke(app, ["options", "/nonexistent/profile.json"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "cannot read" in result.stderr
