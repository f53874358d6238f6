"""`trials match` (CLI, JSON) and the web trials page give the same trials, verdicts and
reasons for the same profile: both read the one match service."""

from __future__ import annotations

import html
import json
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from file_modules import load_module
from myelonav.cli import app as cli_app
from myelonav.patient.models import PatientRecord
from myelonav.settings import Settings
from myelonav.trials import match_service
from myelonav.trials.local import criteria_parser, open_store
from myelonav.trials.models import Study
from myelonav.trials.samples import sample_records
from myelonav.trials.sqlite_store import SAMPLE_SOURCE
from myelonav.trials.store import StudyRecord
from myelonav.web.app import create_app
from myelonav.web.services import default_as_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROFILES = Path(__file__).resolve().parents[1] / "data" / "matching" / "profiles"
GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "realistic_studies.py"


def realistic_records(n: int, seed: int, myeloma_share: float) -> list[StudyRecord]:
    """Studies whose criteria are recombined from committed real registry texts."""
    module = load_module("realistic_studies", GENERATOR)
    factory = module.StudyFactory(seed, myeloma_share)
    return [StudyRecord(study=Study.from_v2(raw), raw=raw) for raw in factory.records(n)]


class _Trials(HTMLParser):
    """Each trial article of the page: id, verdict class, and (result, text) of every rule."""

    def __init__(self) -> None:
        super().__init__()
        self.trials: list[dict[str, Any]] = []
        self._li: list[str] | None = None
        self._result = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "article" and "trial" in classes:
            verdict = next(c.removeprefix("verdict-") for c in classes if c.startswith("verdict-"))
            nct = (a.get("aria-labelledby") or "").removeprefix("tr-")
            self.trials.append({"nct_id": nct, "verdict": verdict, "rules": []})
        elif tag == "li" and self.trials and any(c.startswith("result-") for c in classes):
            self._result = next(c.removeprefix("result-") for c in classes)
            self._li = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._li is not None:
            self.trials[-1]["rules"].append((self._result, " ".join("".join(self._li).split())))
            self._li = None

    def handle_data(self, data: str) -> None:
        if self._li is not None:
            self._li.append(data)


@pytest.mark.parametrize("profile", ["P1-cilta-early-relapse.json", "P3-idecel-emd.json"])
def test_cli_json_and_web_page_agree(tmp_path: Path, profile: str) -> None:
    settings = Settings(home=tmp_path / "home", web_allowed_hosts=["testserver"])
    settings.ensure_home()
    store = open_store(settings.trials_db, parse_criteria=criteria_parser())
    store.import_studies(realistic_records(60, seed=11, myeloma_share=0.8), source="test")
    store.import_studies(sample_records(), source=SAMPLE_SOURCE)  # kept beside real ones
    store.close()
    body = json.loads((PROFILES / profile).read_text())
    record = PatientRecord.model_validate(body)
    as_of = default_as_of(record)
    miles = str(record.preferences.max_travel_miles or 500.0)
    # the default lists (likely and possibly eligible), then the likely-not-eligible ones
    compared = 0
    for cli_extra, web_params in [
        ([], {"within_miles": miles}),
        (["--include-ineligible"], {"within_miles": miles, "verdict": "likely_ineligible"}),
    ]:
        cli, web = _both(settings, profile, body, as_of.isoformat(), miles, cli_extra, web_params)
        if web_params.get("verdict"):
            cli = [t for t in cli if t["verdict"] == web_params["verdict"]]
        _same(cli, web)
        compared += len(cli)
    assert compared, "the store holds open myeloma trials: the lists must show some"


def _both(
    settings: Settings,
    profile: str,
    body: dict[str, Any],
    as_of: str,
    miles: str,
    cli_extra: list[str],
    web_params: dict[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    match_service.clear_caches()
    result = CliRunner().invoke(
        cli_app,
        [
            "trials", "match", str(PROFILES / profile), "--db", str(settings.trials_db),
            "--as-of", as_of, "--within-miles", miles, "--format", "json", *cli_extra,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cli: list[dict[str, Any]] = json.loads(result.stdout)["trials"]
    match_service.clear_caches()  # the page must find the same answer on its own
    application = create_app(settings)
    try:
        with TestClient(application, raise_server_exceptions=False) as client:
            r = client.post("/api/v1/profiles", json=body)
            assert r.status_code == 201, r.text
            page = client.get(f"/p/{r.json()['id']}/trials", params=web_params)
            assert page.status_code == 200, page.text
    finally:
        application.state.profiles.close()
    parser = _Trials()
    parser.feed(page.text)
    return cli, parser.trials


def _same(cli: list[dict[str, Any]], web: list[dict[str, Any]]) -> None:
    assert [(t["nct_id"], t["verdict"]) for t in web] == [(t["nct_id"], t["verdict"]) for t in cli]
    for w, c in zip(web, cli, strict=True):
        assert len(w["rules"]) == len(c["criteria"]), c["nct_id"]
        for (result, text), crit in zip(w["rules"], c["criteria"], strict=True):
            assert result == crit["result"], (c["nct_id"], crit["id"])
            assert " ".join(html.unescape(crit["text"]).split()) in text
            assert " ".join(crit["patient_fact"].split()) in text
