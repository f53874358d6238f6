"""The calendar and support commands say first when the record makes a drug unlikely to fit."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.samples import SAMPLE_AS_OF, sample_profile
from myelonav.support.fit import NEUTRAL_NOTE, agent_fit

runner = CliRunner()
PROFILE = "src/myelonav/samples/profiles/sample-refractory-cart-tec.yaml"


def test_agent_unlikely_to_fit_is_flagged() -> None:
    fit = agent_fit(sample_profile("sample-refractory-cart-tec"), "teclistamab", SAMPLE_AS_OF)
    assert fit.unlikely and fit.reasons
    assert fit.warning().startswith("WARNING")
    other = agent_fit(sample_profile("sample-refractory-cart-tec"), "talquetamab", SAMPLE_AS_OF)
    assert not other.unlikely and other.warning() == ""


def test_calendar_warns_before_the_schedule() -> None:
    result = runner.invoke(
        app, ["calendar", PROFILE, "--agent", "teclistamab", "--start", "2026-12-10"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("WARNING: from your record, Teclistamab")
    plain = runner.invoke(app, ["calendar", "teclistamab", "--start", "2026-12-10"])
    assert plain.output.startswith(NEUTRAL_NOTE)
    as_json = runner.invoke(
        app,
        ["calendar", PROFILE, "--agent", "teclistamab", "--start", "2026-12-10",
         "--format", "json"],
    )
    payload = json.loads(as_json.output)
    assert payload["fit"]["status"] == "unlikely to fit"
