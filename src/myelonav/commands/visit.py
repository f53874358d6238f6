"""The visit: `myelonav questions | checklist | plot | packet | centres`.

PROFILE may be a myelonav profile (JSON/YAML) or a FHIR R4 bundle. Everything is made on this
computer; nothing is sent anywhere.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from myelonav import DISCLAIMER
from myelonav.commands._common import (
    AsOfOption,
    FormatOption,
    OutputFormat,
    emit_json,
    handle_errors,
    parse_as_of,
)
from myelonav.commands.patient import read_any_record
from myelonav.errors import InputError
from myelonav.patient.models import PatientRecord
from myelonav.support.diary import Diary, diary_path, load_diary
from myelonav.visit import checklist as checklist_mod
from myelonav.visit import questions as questions_mod
from myelonav.visit.content import centre_content
from myelonav.visit.trials import TrialRow, match_stored_trials, stored_trials_view

ProfileArg = Annotated[str, typer.Argument(help="Patient profile (JSON/YAML) or FHIR bundle.")]
DiaryOption = Annotated[
    Path | None,
    typer.Option("--diary", help="Symptom diary file (default: the one next to the profile)."),
]
DbOption = Annotated[Path | None, typer.Option("--db", help="Trial database file.")]
NoTrialsOption = Annotated[
    bool, typer.Option("--no-trials", help="Do not match trials from the local store.")
]
_SAMPLE_MARK = "[SAMPLE - a fictional patient written for myelonav]"


def _diary(profile: str, explicit: Path | None) -> Diary | None:
    if explicit is not None:
        if not explicit.is_file():
            raise InputError("no such diary file", location=str(explicit))
        return load_diary(explicit)
    path = diary_path(profile)
    return load_diary(path) if path.is_file() and path != Path(profile) else None


def _trials(
    record: PatientRecord, as_of: dt.date, db: Path | None, skip: bool
) -> list[TrialRow] | None:
    if skip:
        return None
    return match_stored_trials(record, as_of, db)


@handle_errors
def questions_cmd(
    profile: ProfileArg,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
    diary: DiaryOption = None,
    db: DbOption = None,
    no_trials: NoTrialsOption = False,
) -> None:
    """Personalised questions for the next visit, each with the fact that put it on the list."""
    record, _ = read_any_record(profile, as_of)
    when = parse_as_of(as_of)
    trials = _trials(record, when, db, no_trials)
    qs = questions_mod.build_questions(record, when, trials=trials or (),
                                       diary=_diary(profile, diary))
    if output is OutputFormat.json:
        emit_json({"patient": record.id, "sample": record.sample, "as_of": when.isoformat(),
                   "questions": [q.as_json() for q in qs]})
    elif output is OutputFormat.md:
        typer.echo(questions_mod.render_markdown(qs, sample=record.sample) + f"\n_{DISCLAIMER}_")
    else:
        typer.echo(questions_mod.render_text(qs, sample=record.sample) + f"\n{DISCLAIMER}")


@handle_errors
def checklist_cmd(
    profile: ProfileArg, as_of: AsOfOption = None, output: FormatOption = OutputFormat.text
) -> None:
    """Records to gather for a second opinion: what myelonav holds, what is missing."""
    record, _ = read_any_record(profile, as_of)
    when = parse_as_of(as_of)
    items = checklist_mod.build_checklist(record, when)
    if output is OutputFormat.json:
        emit_json({"patient": record.id, "sample": record.sample, "as_of": when.isoformat(),
                   "items": [i.as_json() for i in items]})
        return
    if output is OutputFormat.md:
        typer.echo(checklist_mod.render_markdown(items, sample=record.sample)
                   + f"\n_{DISCLAIMER}_")
        return
    head = f"{_SAMPLE_MARK}\n" if record.sample else ""
    typer.echo(head + checklist_mod.render_text(items) + f"\n{DISCLAIMER}")


@handle_errors
def plot_cmd(
    profile: ProfileArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG or SVG file to write.")],
    as_of: AsOfOption = None,
) -> None:
    """M-protein and free light chains over time, treatments shaded, CAR T marked."""
    from myelonav.visit.plot import save_plot

    record, _ = read_any_record(profile, as_of)
    save_plot(record, parse_as_of(as_of), out)
    print(f"plot written to {out}", file=sys.stderr)


@handle_errors
def packet_cmd(
    profile: ProfileArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="PDF file to write.")],
    html: Annotated[Path | None, typer.Option("--html", help="Also write the HTML here.")] = None,
    as_of: AsOfOption = None,
    diary: DiaryOption = None,
    db: DbOption = None,
    no_trials: NoTrialsOption = False,
) -> None:
    """The second-opinion packet (PDF, optionally HTML), made on this computer."""
    from myelonav.visit.packet import PacketInputs, write_packet

    if out.suffix.lower() != ".pdf":
        raise InputError("the packet file must end in .pdf", location=str(out))
    record, _ = read_any_record(profile, as_of)
    when = parse_as_of(as_of)
    rows, note, updated = None, None, None
    if not no_trials:
        rows, view = stored_trials_view(record, when, db)
        note, updated = view.headline(), view.last_update
    inputs = PacketInputs(record, when, rows, _diary(profile, diary), trials_note=note,
                          trials_updated=updated)
    write_packet(inputs, out, html)
    print(f"packet written to {out}" + (f" and {html}" if html else ""), file=sys.stderr)


@handle_errors
def centres_cmd(output: FormatOption = OutputFormat.text) -> None:
    """Ways to find a myeloma specialist for a second opinion (sourced; not a ranking)."""
    content = centre_content()
    if output is OutputFormat.json:
        payload: dict[str, Any] = content.model_dump(mode="json")
        emit_json(payload)
        return
    lines = [content.note, ""]
    for r in content.resources:
        lines.append(f"- {r.name} ({r.organization})")
        lines.append(f"  {r.helps_with}")
        lines.append(f"  {r.url}" + (f"  {r.phone}" if r.phone else ""))
    typer.echo("\n".join(lines) + f"\n\n{DISCLAIMER}")


def register(app: typer.Typer) -> None:
    app.command("questions")(questions_cmd)
    app.command("checklist")(checklist_cmd)
    app.command("plot")(plot_cmd)
    app.command("packet")(packet_cmd)
    app.command("centres")(centres_cmd)


__all__ = ["register"]
