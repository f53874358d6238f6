"""`myelonav patient …`: import, show, export and schema of the patient record."""

from __future__ import annotations

import json

import typer

from myelonav.commands._common import FormatOption, OutputFormat, emit_json, handle_errors
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import dump_profile, load_profile

app = typer.Typer(no_args_is_help=True, help="Import, show and export patient records.")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the patient record."""
    typer.echo(json.dumps(PatientRecord.model_json_schema(), indent=2))


@app.command("show")
@handle_errors
def show(profile: str, output: FormatOption = OutputFormat.text) -> None:
    """Show a saved profile."""
    record = load_profile(profile)
    if output is OutputFormat.json:
        typer.echo(dump_profile(record))
        return
    typer.echo(record.id)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="patient")
