"""`myelonav demo`: the navigator's whole journey for the bundled sample patients.

It grows with the product: each section runs when its domain exists. Everything is local;
nothing touches the network.
"""

from __future__ import annotations

import datetime as dt

import typer

from myelonav import DISCLAIMER
from myelonav.commands._common import AsOfOption, handle_errors
from myelonav.clinical import staging
from myelonav.clinical.car_t import car_t_facts
from myelonav.errors import CalculationError
from myelonav.options.render import render
from myelonav.patient.models import PatientRecord
from myelonav.options.report import options_report
from myelonav.patient.fhir_import import import_bundle_file
from myelonav.patient.profile_io import load_preferences
from myelonav.patient.summary import render_text, summarise
from myelonav.samples import SAMPLE_AS_OF, sample_bundle_path, sample_ids, sample_preferences_path


def _clinical(record: PatientRecord, as_of: dt.date) -> str:
    lines = []
    for episode in record.car_t:
        facts = car_t_facts(record, episode, as_of=as_of)
        best = facts.best_response.value if facts.best_response else "not determined"
        ttp = (f", {facts.time_to_progression_months:.1f} months after infusion"
               if facts.time_to_progression_months is not None else "")
        lines.append(
            f"  CAR T {episode.product} ({episode.infusion_date}): best response {best}; "
            f"progression {facts.progression_date or 'not documented'}{ttp}; "
            f"relapse class: {facts.relapse_class.value.replace('_', ' ')}")
    inputs = staging.inputs_from_record(record, as_of=as_of)
    for system in (staging.iss, staging.r_iss, staging.r2_iss):
        try:
            stage = system(inputs)
            lines.append(f"  {stage.label} at diagnosis ({'; '.join(stage.reasons)})")
        except CalculationError as exc:
            lines.append(f"  {exc.message}")
    return "\n".join(lines)


def _sections(record_id: str, as_of: dt.date) -> list[str]:
    bundle = sample_bundle_path(record_id)
    report = import_bundle_file(str(bundle), as_of=as_of, record_id=record_id)
    preferences = sample_preferences_path(record_id)
    record = report.record.model_copy(update={"preferences": load_preferences(str(preferences))})
    options = options_report(record, as_of, "patient")
    return [
        f"== 1. The record: imported the sample FHIR bundle {bundle.name}: {report.summary()};"
        f" preferences from {preferences.name}",
        render_text(summarise(record, as_of)),
        "== 2. Clinical calculators (IMWG 2016 response; ISS, R-ISS, R2-ISS)",
        _clinical(record, as_of),
        "== 3. Why CAR T may not have held, and the options (patient voice)",
        render(options, "patient", max_evidence=2),
    ]


@handle_errors
def demo(
    patient: str = typer.Option(None, "--patient", "-p", help="One sample id (default: all)."),
    as_of: AsOfOption = None,
) -> None:
    """Walk the bundled sample patients through myelonav (no network, nothing saved)."""
    when = dt.date.fromisoformat(as_of) if as_of else SAMPLE_AS_OF
    ids = [patient] if patient else sample_ids()
    unknown = [i for i in ids if i not in sample_ids()]
    if unknown:
        raise typer.BadParameter(f"unknown sample {unknown[0]!r}; choose from {sample_ids()}")
    typer.echo(f"myelonav demo — sample patients, as of {when}. {DISCLAIMER}\n")
    for record_id in ids:
        typer.echo("\n\n".join(_sections(record_id, when)))
        typer.echo("\n" + "-" * 78 + "\n")
    typer.echo(DISCLAIMER)


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)
