"""`myelonav response|stage|renal|grade` end to end through the Typer app."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    Demographics,
    Diagnosis,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    Sex,
)
from myelonav.patient.profile_io import save_profile

runner = CliRunner()
MPROTEIN = {"2025-08-25": 1.9, "2025-10-01": 0.6, "2025-12-01": 0.2, "2026-02-01": 0.1,
            "2026-04-01": 0.1, "2026-06-01": 0.7, "2026-07-01": 1.0}


def profile(tmp_path: Path) -> str:
    labs = [
        LabResult(analyte=Analyte.serum_m_protein, date=dt.date.fromisoformat(d), value=v)
        for d, v in MPROTEIN.items()
    ]
    labs += [
        LabResult(analyte=Analyte.serum_immunofixation, date=dt.date(2026, 2, 1),
                  qualitative=Qualitative.positive),
        LabResult(analyte=Analyte.creatinine, date=dt.date(2026, 10, 22), value=0.8),
        LabResult(analyte=Analyte.body_weight, date=dt.date(2026, 10, 22), value=68),
        LabResult(analyte=Analyte.beta2_microglobulin, date=dt.date(2018, 10, 15), value=3.4),
        LabResult(analyte=Analyte.albumin, date=dt.date(2018, 10, 15), value=3.8),
    ]
    record = PatientRecord(
        id="cli-1",
        demographics=Demographics(birth_date=dt.date(1961, 8, 19), sex=Sex.female),
        diagnosis=Diagnosis(date=dt.date(2018, 10, 15),
                            isotype=Isotype(heavy_chain=HeavyChain.IgG,
                                            light_chain=LightChain.kappa)),
        car_t=[CarTEpisode(product="idecabtagene vicleucel", infusion_date=dt.date(2025, 9, 2))],
        labs=labs,
    )
    path = tmp_path / "p.json"
    save_profile(record, path)
    return str(path)


def test_response_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["response", profile(tmp_path), "--format", "json",
                                 "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    facts = data["car_t"]
    assert facts["best_response"]["computed"] == "VGPR"
    assert facts["progression_date"]["used"] == "2026-06-01"
    assert facts["relapse_class"] == "late_relapse"
    rows = facts["imwg"]["assessments"]
    assert rows[0] == rows[0] | {"date": "2025-10-01", "category": "PR", "rule": "pr"}
    assert "disclaimer" in data


def test_response_as_of_cuts_the_series(tmp_path: Path) -> None:
    result = runner.invoke(app, ["response", profile(tmp_path), "-f", "json",
                                 "--as-of", "2026-06-15"])
    data = json.loads(result.stdout)
    assert data["car_t"]["progression_date"]["used"] is None
    assert data["car_t"]["imwg"]["pending_progression_date"] == "2026-06-01"


def test_response_text_and_bad_episode(tmp_path: Path) -> None:
    path = profile(tmp_path)
    result = runner.invoke(app, ["response", path, "--as-of", "2026-11-25"])
    assert result.exit_code == 0 and "Best response after CAR T: VGPR" in result.stdout
    bad = runner.invoke(app, ["response", path, "--episode", "3"])
    assert bad.exit_code == 1 and "--episode" in bad.stderr and "Traceback" not in bad.output


def test_stage_reports_missing_inputs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stage", profile(tmp_path), "-f", "json"])
    data = json.loads(result.stdout)
    assert data["staging"]["iss"]["stage"] == "ISS I"
    assert data["staging"]["r_iss"]["stage"] is None
    assert "LDH" in data["staging"]["r_iss"]["cannot_stage"]


def test_renal_from_profile_and_from_options(tmp_path: Path) -> None:
    result = runner.invoke(app, ["renal", profile(tmp_path), "-f", "json",
                                 "--as-of", "2026-11-01"])
    data = json.loads(result.stdout)
    # 65-year-old woman, 68 kg, creatinine 0.8: (140-65) x 68 / (72 x 0.8) x 0.85 = 75.3
    assert data["cockcroft_gault"]["value"] == 75.3
    result = runner.invoke(app, ["renal", "--age", "74", "--sex", "male", "--weight", "70",
                                 "--creatinine", "203", "--unit", "umol/L", "-f", "json"])
    data = json.loads(result.stdout)
    assert data["cockcroft_gault"]["value"] == round((140 - 74) * 70 / (72 * 203 / 88.42), 1)
    result = runner.invoke(app, ["renal", "--age", "74"])
    assert result.exit_code == 1 and "--sex" in result.stderr


def test_grade_commands() -> None:
    result = runner.invoke(app, ["grade", "crs", "--temp", "38.6", "--hypotension",
                                 "no_vasopressor", "--flow", "8", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["grade"] == 3
    result = runner.invoke(app, ["grade", "icans", "--ice-items", "1,1,1,0,3,1,1,0",
                                 "--seizure", "resolved_rapidly", "-f", "json"])
    data = json.loads(result.stdout)
    assert (data["ice_score"], data["grade"]) == (8, 3)
    result = runner.invoke(app, ["grade", "icans", "--ice", "12"])
    assert result.exit_code == 1 and "ICE" in result.stderr


def test_implausible_inputs_name_the_flag_and_guess_the_unit() -> None:
    res = runner.invoke(app, ["grade", "crs", "--temperature", "101"])
    assert res.exit_code == 1
    assert "--temperature" in res.output and "looks like °F" in res.output
    assert "38.3 °C" in res.output and "Traceback" not in res.output
    res = runner.invoke(
        app, ["renal", "--age", "60", "--sex", "male", "--creatinine", "150", "--weight", "70"]
    )
    assert res.exit_code == 1 and "--creatinine" in res.output and "µmol/L" in res.output
    res = runner.invoke(
        app, ["renal", "--age", "60", "--sex", "male", "--creatinine", "1", "--weight", "0"]
    )
    assert res.exit_code == 1 and "--weight" in res.output
    res = runner.invoke(app, ["grade", "crs", "--temperature", "39", "--flow", "500"])
    assert res.exit_code == 1 and "--flow" in res.output


def test_response_json_reports_not_evaluable(tmp_path: Path) -> None:
    record = PatientRecord(
        id="ne1",
        diagnosis=Diagnosis(isotype=Isotype(heavy_chain=HeavyChain.IgG,
                                            light_chain=LightChain.kappa)),
        car_t=[CarTEpisode(product="idecabtagene vicleucel", infusion_date=dt.date(2025, 9, 2))],
        labs=[
            LabResult(analyte=Analyte.serum_m_protein, date=dt.date(2025, 8, 30), value=0.4),
            LabResult(analyte=Analyte.serum_m_protein, date=dt.date(2025, 10, 1), value=0.9),
            LabResult(analyte=Analyte.serum_m_protein, date=dt.date(2025, 11, 1), value=1.0),
        ],
    )
    path = tmp_path / "ne.yaml"
    save_profile(record, path)
    res = runner.invoke(app, ["response", str(path), "--as-of", "2026-01-01", "--format", "json"])
    assert res.exit_code == 0, res.output
    car_t = json.loads(res.output)["car_t"]
    assert car_t["relapse_class"] == "undetermined"
    assert "no measurable disease" in car_t["not_evaluable"]
