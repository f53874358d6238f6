"""`myelonav patient …`: import, show, export and schema of the patient record."""

from __future__ import annotations

import json
import sys
import webbrowser
from pathlib import Path

import typer

from myelonav.commands._common import (
    AsOfOption,
    FormatOption,
    OutputFormat,
    handle_errors,
    parse_as_of,
)
from myelonav.errors import ImportError_
from myelonav.patient.ccda import import_ccda, looks_like_xml
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle, load_json
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import (
    dump_profile,
    load_preferences,
    load_profile,
    parse_profile_text,
    record_from_data,
    save_profile,
    write_atomic,
)
from myelonav.patient.smart import DEFAULT_CLIENT_ID, connect
from myelonav.patient.summary import render_text, summarise
from myelonav.settings import read_secret_file, settings

app = typer.Typer(no_args_is_help=True, help="Import, show and export patient records.")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the patient record."""
    typer.echo(json.dumps(PatientRecord.model_json_schema(), indent=2))


def read_any_record(
    path: str, as_of_text: str | None = None, record_id: str | None = None
) -> tuple[PatientRecord, str]:
    """A record from a FHIR bundle or a profile (JSON/YAML), and a one-line import summary."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ImportError_(f"cannot read file: {exc.strerror}", location=str(p)) from None
    stripped = raw.lstrip()
    if p.suffix.lower() == ".xml" or looks_like_xml(raw):
        ccda = import_ccda(raw, source=str(p), as_of=parse_as_of(as_of_text), record_id=record_id)
        return ccda.record, ccda.summary()
    if p.suffix.lower() == ".json" or stripped.startswith(b"{"):
        data = load_json(raw, str(p))
        if isinstance(data, dict) and "resourceType" in data:
            report = import_bundle(
                data, source=str(p), as_of=parse_as_of(as_of_text), record_id=record_id
            )
            return report.record, report.summary()
        record = record_from_data(data, str(p))
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportError_("file is not UTF-8 text", location=str(p)) from None
        record = parse_profile_text(text, str(p))
    if record_id:
        record = record.model_copy(update={"id": record_id})
    return record, "profile read"


@app.command("import")
@handle_errors
def import_(
    file: str = typer.Argument(
        ..., help="FHIR R4 Bundle (JSON), C-CDA document (XML) or a myelonav profile."
    ),
    out: str | None = typer.Option(None, "--out", "-o", help="Write the profile here."),
    preferences: str | None = typer.Option(
        None, "--preferences", help="JSON/YAML with travel and goal preferences."
    ),
    record_id: str | None = typer.Option(None, "--id", help="Profile id to use."),
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Import a record; nothing is written unless the whole import succeeds."""
    record, summary = read_any_record(file, as_of, record_id)
    if preferences:
        record = record.model_copy(update={"preferences": load_preferences(preferences)})
    if out:
        save_profile(record, out)
    if output is OutputFormat.json:
        typer.echo(dump_profile(record))
        return
    print(f"imported {record.id}: {summary}", file=sys.stderr)
    for item in record.unmapped:
        print(
            f"  not mapped: {item.path} ({item.resource_type}): {item.reason}"
            + (f" — {item.text}" if item.text else ""),
            file=sys.stderr,
        )
    if out:
        print(f"profile written to {out}", file=sys.stderr)
    typer.echo(render_text(summarise(record, parse_as_of(as_of))))


@app.command("show")
@handle_errors
def show(profile: str, as_of: AsOfOption = None, output: FormatOption = OutputFormat.text) -> None:
    """Show what myelonav knows from a profile (or a FHIR bundle), as of a date."""
    record, _ = read_any_record(profile, as_of)
    summary = summarise(record, parse_as_of(as_of))
    if output is OutputFormat.json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(render_text(summary))


@app.command("export")
@handle_errors
def export(
    profile: str,
    out: str | None = typer.Option(None, "--out", "-o", help="Write the FHIR Bundle here."),
) -> None:
    """Export a profile as a FHIR R4 Bundle (mCODE profiles)."""
    record = load_profile(profile)
    text = json.dumps(export_bundle(record), indent=2, ensure_ascii=False) + "\n"
    if out:
        write_atomic(out, text)
    else:
        typer.echo(text, nl=False)


@app.command("connect")
@handle_errors
def connect_portal(
    iss: str = typer.Argument(..., help="Your patient portal's FHIR base URL (SMART 'iss')."),
    out: str | None = typer.Option(None, "--out", "-o", help="Write the profile here."),
    client_id: str = typer.Option(
        DEFAULT_CLIENT_ID,
        "--client-id",
        envvar="MYELONAV_SMART_CLIENT_ID",
        help="The client id myelonav is registered under at this portal.",
    ),
    client_secret_file: str | None = typer.Option(
        None,
        "--client-secret-file",
        envvar="MYELONAV_SMART_CLIENT_SECRET_FILE",
        help="A file holding the client secret, when myelonav is registered at this portal "
        "as a confidential client (or set MYELONAV_SMART_CLIENT_SECRET). Never on the "
        "command line.",
    ),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the sign-in address."),
    port: int = typer.Option(0, "--port", help="Loopback port for the redirect (0: any free)."),
    record_id: str | None = typer.Option(None, "--id", help="Profile id to use."),
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Sign in at your patient portal (SMART on FHIR) and import your record."""

    def open_browser(url: str) -> None:
        print(
            f"Sign in at your portal. If no browser opens, open this address:\n  {url}",
            file=sys.stderr,
        )
        if not no_browser:
            webbrowser.open(url)

    if client_secret_file is not None:
        secret = read_secret_file(Path(client_secret_file), "--client-secret-file")
    else:
        secret = settings().smart_secret()
    result = connect(
        iss,
        client_id=client_id,
        client_secret=secret,
        open_browser=open_browser,
        as_of=parse_as_of(as_of),
        record_id=record_id,
        port=port,
    )
    record = result.report.record
    if out:
        save_profile(record, out)
    if output is OutputFormat.json:
        typer.echo(dump_profile(record))
        return
    print(f"imported {record.id}: {result.report.summary()}", file=sys.stderr)
    for missing in result.unsupported:
        print(f"  not offered by this portal: {missing}", file=sys.stderr)
    for item in record.unmapped:
        print(f"  not mapped: {item.path} ({item.resource_type}): {item.reason}", file=sys.stderr)
    if out:
        print(f"profile written to {out}", file=sys.stderr)
    typer.echo(render_text(summarise(record, parse_as_of(as_of))))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="patient")
