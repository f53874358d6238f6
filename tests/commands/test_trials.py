"""`myelonav trials …` end to end, offline (samples) and with a mock ClinicalTrials.gov."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.trials import client as client_module

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MYELONAV_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def real_study(n: int, title: str) -> dict[str, Any]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": f"NCT{n:08d}", "briefTitle": title},
            "statusModule": {"overallStatus": "RECRUITING"},
            "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": "Talquetamab"}]},
            "contactsLocationsModule": {
                "locations": [
                    {
                        "facility": "Center",
                        "status": "RECRUITING",
                        "city": "Houston",
                        "state": "Texas",
                        "geoPoint": {"lat": 29.76328, "lon": -95.36327},
                    }
                ]
            },
        }
    }


def test_search_offline_uses_labelled_samples(home: Path) -> None:
    result = runner.invoke(app, ["trials", "search", "GPRC5D CAR T", "--near", "10065"])
    assert result.exit_code == 0, result.output
    assert "SAMPLE" in result.output and "not real trials" in result.output
    assert "NCT99000102" in result.output and "miles" in result.output
    assert "clinicaltrials.gov/study/NCT99" not in result.output
    assert (home / "trials.sqlite3").exists()


def test_search_json_marks_every_sample() -> None:
    result = runner.invoke(
        app,
        [
            "trials",
            "search",
            "--status",
            "recruiting",
            "--near",
            "77030",
            "--within-miles",
            "250",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["sample_notice"] and payload["disclaimer"]
    assert payload["results"] and all(
        r["is_sample"] and r["url"] is None for r in payload["results"]
    )
    assert all(r["nearest_recruiting_site"]["miles"] <= 250 for r in payload["results"])


def test_show_sample_says_it_is_a_sample() -> None:
    result = runner.invoke(app, ["trials", "show", "NCT99000104"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[SAMPLE")
    assert "Exclusion Criteria" in result.output
    as_json = json.loads(runner.invoke(app, ["trials", "show", "NCT99000104", "-f", "json"]).output)
    assert as_json["is_sample"] is True and as_json["sample_notice"]


def test_show_unknown_is_one_line_error() -> None:
    result = runner.invoke(app, ["trials", "show", "NCT01234567"])
    assert result.exit_code == 1
    assert "NCT01234567" in result.output and "Traceback" not in result.output


def test_bad_filters_are_rejected() -> None:
    assert runner.invoke(app, ["trials", "search", "--status", "OPEN"]).exit_code != 0
    assert runner.invoke(app, ["trials", "search", "--near", "ABCDE"]).exit_code == 1
    assert runner.invoke(app, ["trials", "search", "--within-miles", "5"]).exit_code != 0


def test_import_replaces_samples_and_search_finds_real(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": [real_study(1, "Talquetamab after CAR T")]}))
    result = runner.invoke(app, ["trials", "import", str(page), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["studies_written"] == 1
    found = runner.invoke(app, ["trials", "search", "Talvey", "--format", "json"])
    payload = json.loads(found.output)
    assert [r["nct_id"] for r in payload["results"]] == ["NCT00000001"]
    assert "sample_notice" not in payload
    info = json.loads(runner.invoke(app, ["trials", "info", "--format", "json"]).output)
    assert info["sample_studies"] == 0 and info["studies"] == 1


def test_failed_import_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(real_study(1, "ok")) + "\n{broken\n")
    result = runner.invoke(app, ["trials", "import", str(bad)])
    assert result.exit_code == 1 and f"{bad}:2" in result.output
    info = json.loads(runner.invoke(app, ["trials", "info", "--format", "json"]).output)
    assert info["studies"] == info["sample_studies"] > 0


def test_sync_with_mock_api(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {
        None: {"studies": [real_study(1, "A")], "nextPageToken": "p2", "totalCount": 2},
        "p2": {"studies": [real_study(2, "B")]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/version"):
            return httpx.Response(
                200, json={"apiVersion": "2", "dataTimestamp": "2026-11-24T00:00:00"}
            )
        return httpx.Response(200, json=pages[request.url.params.get("pageToken")])

    real = client_module.CtgovClient

    def fake(**kwargs: Any) -> client_module.CtgovClient:
        return real(transport=httpx.MockTransport(handler), min_interval_s=0.0, **kwargs)

    monkeypatch.setattr("myelonav.commands.trials.CtgovClient", fake)
    result = runner.invoke(app, ["trials", "sync", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["mode"] == "full" and payload["studies_written"] == 2
    assert payload["data_timestamp"] == "2026-11-24T00:00:00"
    again = json.loads(runner.invoke(app, ["trials", "sync", "--format", "json"]).output)
    assert again["mode"] == "incremental"


def test_fetch_single_studies(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=real_study(int(request.url.path[-8:]), "Fetched"))

    real = client_module.CtgovClient

    def fake(**kwargs: Any) -> client_module.CtgovClient:
        return real(transport=httpx.MockTransport(handler), min_interval_s=0.0, **kwargs)

    monkeypatch.setattr("myelonav.commands.trials.CtgovClient", fake)
    result = runner.invoke(app, ["trials", "fetch", "NCT00000042", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["fetched"] == ["NCT00000042"]
    again = runner.invoke(app, ["trials", "fetch", "NCT00000042"])
    assert again.exit_code == 0
    assert calls == ["/api/v2/studies/NCT00000042"], "the second fetch is served by the disk cache"
    shown = runner.invoke(app, ["trials", "show", "NCT00000042"])
    assert "Fetched" in shown.output and "[SAMPLE" not in shown.output
    assert runner.invoke(app, ["trials", "fetch", "12345"]).exit_code == 1


def test_reparse_refreshes_every_stored_study(tmp_path: Path) -> None:
    db = tmp_path / "trials.sqlite3"
    first = CliRunner().invoke(app, ["trials", "info", "--db", str(db), "--format", "json"])
    assert first.exit_code == 0, first.output
    studies = json.loads(first.stdout)["studies"]
    result = CliRunner().invoke(app, ["trials", "reparse", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["reparsed"] == studies > 0
    assert payload["criteria_parse_failures"] == 0
