from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from myelonav.cli import app

runner = CliRunner()
PROFILES = Path(__file__).resolve().parent.parent / "data" / "matching" / "profiles"
P1 = PROFILES / "P1-cilta-early-relapse.json"


def _match(tmp_path: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(
        app,
        [
            "trials",
            "match",
            str(P1),
            "--db",
            str(tmp_path / "t.sqlite3"),
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_match_json_shape_on_the_bundled_samples(tmp_path: Path) -> None:
    payload = _match(tmp_path, "--include-ineligible")
    assert payload["sample_notice"] and payload["disclaimer"]
    trials = payload["trials"]
    assert isinstance(trials, list) and trials
    for t in trials:
        assert {"nct_id", "verdict", "score", "criteria", "nearest_site"} <= set(t)
        assert t["is_sample"] is True
        for c in t["criteria"]:
            assert {"text", "kind", "result", "patient_fact"} <= set(c)
    verdicts = [t["verdict"] for t in trials]
    order = {"likely_eligible": 0, "possibly_eligible": 1, "likely_ineligible": 2}
    assert [order[v] for v in verdicts] == sorted(order[v] for v in verdicts)


def test_trials_excluding_prior_car_t_are_not_offered_to_a_post_car_t_patient(
    tmp_path: Path,
) -> None:
    payload = _match(tmp_path, "--include-ineligible")
    for t in payload["trials"]:  # type: ignore[attr-defined]
        excl = [
            c
            for c in t["criteria"]
            if c["section"] == "exclusion"
            and c["kind"] in {"prior_car_t", "prior_bcma"}
            and c["result"] == "not_met"
        ]
        if excl:
            assert t["verdict"] == "likely_ineligible"


def test_within_miles_filters_far_sites(tmp_path: Path) -> None:
    near = _match(tmp_path, "--include-ineligible", "--near", "30322", "--within-miles", "50")
    for t in near["trials"]:  # type: ignore[attr-defined]
        if t["nearest_site"] is not None:
            assert t["nearest_site"]["miles"] <= 50


def test_text_output_and_errors(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        ["trials", "match", str(P1), "--db", str(tmp_path / "t.sqlite3"), "--as-of", "2026-11-01"],
    )
    assert ok.exit_code == 0
    assert "SAMPLE" in ok.stdout and "care team" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "therapy_lines": [{"agents": []}]}', encoding="utf-8")
    err = runner.invoke(app, ["trials", "match", str(bad), "--db", str(tmp_path / "t.sqlite3")])
    assert err.exit_code == 1
    assert "therapy_lines" in err.output and "Traceback" not in err.output
