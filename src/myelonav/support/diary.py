"""The symptom diary: dated entries appended to a local JSON file, atomically.

The file never leaves the machine and its contents are never logged. Each entry keeps
what was reported, the triage answer given at the time and an optional note, so the
visit packet can show the course of symptoms.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from myelonav.errors import InputError, RecordValidationError, StoreError
from myelonav.patient.profile_io import load_profile, write_atomic
from myelonav.support.triage import SymptomReport, triage

DIARY_SCHEMA: Final = "myelonav.symptom_diary/1"


class DiaryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    recorded_at: dt.datetime
    report: SymptomReport
    urgency: Literal["emergency", "call_team_now", "mention_next_visit"]
    red_flags: list[str] = Field(default_factory=list)
    note: str | None = Field(None, max_length=2000)


class Diary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_: Literal["myelonav.symptom_diary/1"] = Field(DIARY_SCHEMA, alias="schema")
    entries: list[DiaryEntry] = Field(default_factory=list)

    def dump(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2) + "\n"


def diary_path(target: str | Path) -> Path:
    """A diary file, or the diary that sits next to a patient profile.

    ``profile.json`` (a valid profile) -> ``profile.diary.json`` in the same folder;
    anything else is taken as the diary file itself.
    """
    p = Path(target)
    if p.is_file() and not p.name.endswith(".diary.json"):
        try:
            load_profile(p)
        except RecordValidationError:
            return p
        return p.with_name(f"{p.stem}.diary.json")
    return p


def load_diary(path: str | Path) -> Diary:
    """Read a diary; a missing file is an empty diary."""
    p = Path(path)
    if not p.exists():
        return Diary()
    try:
        data: Any = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot read: {exc.strerror}", location=str(p)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", location=f"{p}:{exc.lineno}") from None
    try:
        return Diary.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(root)"
        raise InputError(f"not a symptom diary: {err['msg']}", location=f"{p}: {where}") from None


def append_entry(
    path: str | Path,
    report: SymptomReport,
    *,
    date: dt.date,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> DiaryEntry:
    """Triage the report and append it; the file is replaced atomically or not at all."""
    p = Path(path)
    diary = load_diary(p)
    result = triage(report)
    entry = DiaryEntry(
        date=date,
        recorded_at=now or dt.datetime.now(dt.UTC),
        report=report,
        urgency=result.urgency.name,
        red_flags=result.red_flags,
        note=note,
    )
    diary.entries.append(entry)
    diary.entries.sort(key=lambda e: (e.date, e.recorded_at))
    write_atomic(p, diary.dump())
    return entry


def reported_symptoms(report: SymptomReport) -> list[str]:
    """Human-readable list of what was reported (for the diary view and the packet)."""
    out: list[str] = []
    data = report.model_dump(exclude_defaults=True)
    for key, value in data.items():
        if key in ("on_bispecific", "recent_car_t"):
            continue
        label = key.replace("_", " ")
        if value is True:
            out.append(label)
        elif key == "temperature_c":
            out.append(f"temperature {value} C ({value * 9 / 5 + 32:.1f} F)")
        elif key == "systolic_bp":
            out.append(f"systolic blood pressure {value} mmHg")
        elif key == "spo2":
            out.append(f"oxygen saturation {value}%")
        elif key == "ice_score":
            out.append(f"ICE self-check {value}/10")
    return out


__all__ = [
    "DIARY_SCHEMA",
    "Diary",
    "DiaryEntry",
    "append_entry",
    "diary_path",
    "load_diary",
    "reported_symptoms",
]
