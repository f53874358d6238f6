"""`myelonav options PROFILE`: every treatment option after CAR T, with status and evidence."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from myelonav.commands._common import (
    AsOfOption,
    FormatOption,
    OutputFormat,
    handle_errors,
    parse_as_of,
)
from myelonav.commands.patient import read_any_record
from myelonav.options.engine import Audience
from myelonav.options.render import render
from myelonav.options.report import options_report


class AudienceChoice(StrEnum):
    patient = "patient"
    clinician = "clinician"


@handle_errors
def options(
    profile: Annotated[str, typer.Argument(help="A profile (JSON/YAML) or a FHIR bundle.")],
    audience: Annotated[
        AudienceChoice,
        typer.Option("--audience", "-a", help="patient (plain words) or clinician."),
    ] = AudienceChoice.patient,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """The options after CAR T for this patient: status, reasons, evidence, missing facts."""
    record, _ = read_any_record(profile, as_of)
    voice: Audience = "clinician" if audience is AudienceChoice.clinician else "patient"
    report = options_report(record, parse_as_of(as_of), voice)
    if output is OutputFormat.json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(render(report, voice, markdown=output is OutputFormat.md))


def register(root: typer.Typer) -> None:
    root.command("options")(options)
