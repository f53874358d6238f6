"""The symptom diary appends dated entries atomically to a local JSON file."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from myelonav.errors import InputError, StoreError
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import save_profile
from myelonav.support.diary import (
    DIARY_SCHEMA,
    append_entry,
    diary_path,
    load_diary,
    reported_symptoms,
)
from myelonav.support.triage import SymptomReport

NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


def test_append_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "me.diary.json"
    append_entry(
        path,
        SymptomReport(taste_change=True),
        date=dt.date(2026, 11, 22),
        note="metal taste",
        now=NOW,
    )
    append_entry(
        path,
        SymptomReport(temperature_c=38.4, on_bispecific=True),
        date=dt.date(2026, 11, 20),
        now=NOW,
    )
    raw = json.loads(path.read_text())
    assert raw["schema"] == DIARY_SCHEMA
    d = load_diary(path)
    assert [e.date for e in d.entries] == [dt.date(2026, 11, 20), dt.date(2026, 11, 22)]
    assert d.entries[0].urgency == "call_team_now"
    assert d.entries[0].red_flags == ["fever"]
    assert d.entries[1].urgency == "mention_next_visit"
    assert d.entries[1].note == "metal taste"


def test_missing_diary_is_empty(tmp_path: Path) -> None:
    assert load_diary(tmp_path / "none.json").entries == []


def test_profile_gets_a_sibling_diary(tmp_path: Path) -> None:
    profile = tmp_path / "pat.json"
    save_profile(PatientRecord(id="pat-1"), profile)
    assert diary_path(profile) == tmp_path / "pat.diary.json"
    other = tmp_path / "notes.json"
    other.write_text("{}")
    assert diary_path(other) == other
    assert diary_path(tmp_path / "new.json") == tmp_path / "new.json"


def test_a_profile_passed_as_diary_is_rejected_clearly(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"entries": [{"date": "yesterday"}]}')
    with pytest.raises(InputError, match=r"bad\.json"):
        load_diary(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"bad.json:1"):
        load_diary(path)


def test_failed_write_leaves_the_old_diary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.json"
    append_entry(path, SymptomReport(cough=True), date=dt.date(2026, 11, 1), now=NOW)
    before = path.read_bytes()

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(StoreError, match=r"d\.json"):
        append_entry(path, SymptomReport(seizure=True), date=dt.date(2026, 11, 2), now=NOW)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]  # no temp file left


def test_reported_symptoms_reads_well() -> None:
    text = reported_symptoms(
        SymptomReport(temperature_c=38.0, spo2=93, cough=True, on_bispecific=True)
    )
    assert text == ["temperature 38.0 C (100.4 F)", "oxygen saturation 93%", "cough"]
