"""The support commands: calendar (.ics), symptoms, distress, learn, resources, support."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from icalendar import Calendar
from typer.testing import CliRunner

from myelonav import DISCLAIMER
from myelonav.cli import app
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    LabResult,
    PatientRecord,
    Preferences,
    TherapyLine,
)
from myelonav.patient.profile_io import save_profile

runner = CliRunner()


def _profile(tmp_path: Path) -> Path:
    record = PatientRecord(
        id="pt-support",
        therapy_lines=[
            TherapyLine(
                agents=["idecabtagene vicleucel"],
                start=dt.date(2025, 3, 1),
                end=dt.date(2025, 3, 1),
            ),
            TherapyLine(agents=["Talvey"], start=dt.date(2026, 10, 1)),
        ],
        car_t=[
            CarTEpisode(
                product="idecabtagene vicleucel",
                infusion_date=dt.date(2025, 3, 1),
                progression_date=dt.date(2026, 9, 1),
            )
        ],
        labs=[LabResult(analyte=Analyte.igg, date=dt.date(2026, 11, 1), value=350)],
    )
    path = tmp_path / "pt.json"
    save_profile(record, path)
    return path


def test_calendar_writes_an_ics_that_parses_back(tmp_path: Path) -> None:
    out = tmp_path / "tec.ics"
    r = runner.invoke(
        app, ["calendar", "Tecvayli", "--start", "2026-12-01", "--weeks", "3", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "TECVAYLI Step-up dose 2" in r.stdout and DISCLAIMER in r.stdout
    events = list(Calendar.from_ical(out.read_bytes()).walk("VEVENT"))
    starts = sorted({e.decoded("dtstart") for e in events})
    assert starts[:3] == [dt.date(2026, 12, 1), dt.date(2026, 12, 4), dt.date(2026, 12, 7)]


def test_calendar_json_and_profile_target(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    r = runner.invoke(
        app,
        [
            "calendar",
            str(profile),
            "--variant",
            "biweekly",
            "--start",
            "2026-10-01",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["agent"] == "talquetamab" and data["variant"] == "biweekly"
    assert [e["date"] for e in data["entries"][:4]] == [
        "2026-10-01",
        "2026-10-04",
        "2026-10-07",
        "2026-10-10",
    ]
    assert data["disclaimer"] == DISCLAIMER


def test_calendar_errors_are_one_line(tmp_path: Path) -> None:
    r = runner.invoke(app, ["calendar", "aspirin", "--start", "2026-12-01"])
    assert r.exit_code == 1
    assert r.stderr.strip().startswith("error: TARGET:") and "Traceback" not in r.output
    r = runner.invoke(app, ["calendar", "teclistamab", "--start", "someday"])
    assert r.exit_code != 0


def test_symptoms_check_json() -> None:
    r = runner.invoke(
        app, ["symptoms", "check", "--temp", "100.9F", "--on-bispecific", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["urgency"] == "call_team_now" and "fever" in d["red_flags"]
    r = runner.invoke(app, ["symptoms", "check", "--speech-change", "--format", "json"])
    assert json.loads(r.stdout)["urgency"] == "emergency"


def test_symptoms_log_then_diary_next_to_profile(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    r = runner.invoke(
        app,
        [
            "symptoms",
            "log",
            str(profile),
            "--date",
            "2026-11-20",
            "--nail-change",
            "--note",
            "ridges",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "symptoms",
            "log",
            str(profile),
            "--date",
            "2026-11-21",
            "--temp",
            "38.3",
            "--on-bispecific",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "pt.diary.json").is_file()
    r = runner.invoke(app, ["symptoms", "diary", str(profile), "--format", "json"])
    d = json.loads(r.stdout)
    assert [e["urgency"] for e in d["entries"]] == ["mention_next_visit", "call_team_now"]
    assert d["entries"][0]["note"] == "ridges"


def test_symptoms_ice_questions_and_score() -> None:
    r = runner.invoke(app, ["symptoms", "ice"])
    assert r.exit_code == 0 and "count down from 100" in r.stdout
    r = runner.invoke(
        app,
        [
            "symptoms",
            "ice",
            "--orientation",
            "2",
            "--naming",
            "3",
            "--commands",
            "1",
            "--writing",
            "0",
            "--attention",
            "0",
            "--format",
            "json",
        ],
    )
    d = json.loads(r.stdout)
    assert d["score"] == 6 and d["triage"]["urgency"] == "emergency"


def test_distress_self_harm_puts_988_first() -> None:
    r = runner.invoke(app, ["distress", "--phq2", "1,1", "--self-harm", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["resources"][0]["id"] == "lifeline_988"
    assert d["messages"][0].startswith("If you are having thoughts of harming yourself")
    r = runner.invoke(app, ["distress", "--phq2", "x,1"])
    assert r.exit_code != 0


def test_distress_without_answers_shows_the_questions() -> None:
    r = runner.invoke(app, ["distress"])
    assert r.exit_code == 0
    assert "Little interest or pleasure in doing things" in r.stdout


def test_learn_and_resources() -> None:
    r = runner.invoke(app, ["learn"])
    assert r.exit_code == 0 and "faq-after-car-t" in r.stdout
    r = runner.invoke(app, ["learn", "infection-prevention", "--clinician", "--format", "json"])
    d = json.loads(r.stdout)
    assert d["clinician_notes"] and d["last_reviewed"] == "2026-11-25"
    r = runner.invoke(app, ["learn", "nope"])
    assert r.exit_code == 1 and "error: TOPIC" in r.stderr
    r = runner.invoke(app, ["resources", "--need", "caregiver", "--format", "json"])
    ids = [x["id"] for x in json.loads(r.stdout)["resources"]]
    assert "cancercare" in ids and "nci_cis" not in ids


def test_symptoms_check_refuses_an_empty_or_implausible_entry() -> None:
    r = runner.invoke(app, ["symptoms", "check"])
    assert r.exit_code == 1 and "No warning signs" not in r.output
    assert r.stderr.strip().startswith("error: symptoms: Nothing was entered")
    for temp in ("25C", "50", "113F"):
        r = runner.invoke(app, ["symptoms", "check", "--temp", temp])
        assert r.exit_code == 1, temp
        assert r.stderr.strip().startswith("error: --temp:") and "Traceback" not in r.output


def test_symptoms_check_35c_is_a_warning_sign() -> None:
    r = runner.invoke(app, ["symptoms", "check", "--temp", "35C", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["urgency"] == "call_team_now" and "low_temperature" in d["red_flags"]


def test_symptoms_check_new_signs() -> None:
    cases = {
        ("--back-pain", "--leg-weakness-or-numbness"): "emergency",
        ("--bladder-bowel-control",): "emergency",
        ("--bleeding-or-bruising",): "call_team_now",
        ("--vomiting",): "call_team_now",
        ("--severe-headache",): "call_team_now",
    }
    for flags, urgency in cases.items():
        r = runner.invoke(app, ["symptoms", "check", *flags, "--format", "json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["urgency"] == urgency, flags


def test_symptoms_check_with_a_profile_knows_the_bispecific_and_the_numbers(
    tmp_path: Path,
) -> None:
    record = PatientRecord(
        id="pt-phones",
        therapy_lines=[TherapyLine(agents=["Talvey"], start=dt.date(2026, 10, 1))],
        preferences=Preferences(care_team_phone="555-123-4567", after_hours_phone="555-000-1111"),
    )
    path = tmp_path / "phones.json"
    save_profile(record, path)
    args = ["symptoms", "check", "--temp", "38.1C", "--profile", str(path), "--as-of", "2026-11-25"]
    r = runner.invoke(app, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["current_bispecifics"] == ["talquetamab"]
    assert d["reasons"][0]["rule"] == "fever_on_t_cell_therapy"
    assert d["phones"][0]["tel"] == "tel:5551234567"
    r = runner.invoke(app, args)
    assert "Your care team: 555-123-4567" in r.stdout
    assert "Your care team after hours: 555-000-1111" in r.stdout
    assert "Your profile says you are on talquetamab." in r.stdout


def test_support_summary_for_a_profile(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    r = runner.invoke(app, ["support", str(profile), "--as-of", "2026-11-25", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["current_bispecifics"] == ["talquetamab"]
    assert d["igg"]["below_400"] is True
    assert {"gprc5d-effects", "infection-prevention", "faq-after-car-t"} <= set(d["reading"])
    assert any("IVIG" in line for line in d["lines"])
    assert any("--variant weekly|biweekly --start 2026-10-01" in line for line in d["lines"])


def test_every_command_carries_the_disclaimer(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    commands = [
        ["calendar", "elranatamab", "--start", "2026-12-01"],
        ["symptoms", "check", "--cough"],
        ["symptoms", "check", "--seizure", "--format", "json"],
        ["symptoms", "diary", str(tmp_path / "empty.json")],
        ["symptoms", "ice"],
        ["distress"],
        ["distress", "--thermometer", "5", "--format", "json"],
        ["learn"],
        ["learn", "bispecifics", "--format", "md"],
        ["learn", "bispecifics", "--format", "json"],
        ["resources"],
        ["support", str(profile)],
    ]
    for args in commands:
        r = runner.invoke(app, args)
        assert r.exit_code == 0, (args, r.output)
        assert DISCLAIMER in r.stdout, args
