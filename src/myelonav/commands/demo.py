"""`myelonav demo`: the navigator's whole journey for the bundled sample patients.

Record → clinical calculators → why CAR T may have failed and the options → matched trials
(the bundled SAMPLE studies) → questions for the visit → the second-opinion packet (PDF,
written under ``--out``). Everything is local; nothing touches the network.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from myelonav import DISCLAIMER
from myelonav.clinical import staging
from myelonav.clinical.car_t import car_t_facts
from myelonav.commands._common import AsOfOption, handle_errors
from myelonav.errors import CalculationError
from myelonav.options.render import render
from myelonav.options.report import options_report
from myelonav.patient.fhir_import import import_bundle_file
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import load_preferences
from myelonav.patient.summary import render_text, summarise
from myelonav.samples import SAMPLE_AS_OF, sample_bundle_path, sample_ids, sample_preferences_path
from myelonav.trials.samples import SAMPLE_NOTICE, sample_studies
from myelonav.visit.packet import PacketInputs, write_packet
from myelonav.visit.questions import build_questions
from myelonav.visit.questions import render_text as render_questions
from myelonav.visit.trials import TrialRow, match_trials


def _clinical(record: PatientRecord, as_of: dt.date) -> str:
    lines = []
    for episode in record.car_t:
        facts = car_t_facts(record, episode, as_of=as_of)
        best = facts.best_response.value if facts.best_response else "not determined"
        ttp = (
            f", {facts.time_to_progression_months:.1f} months after infusion"
            if facts.time_to_progression_months is not None
            else ""
        )
        lines.append(
            f"  CAR T {episode.product} ({episode.infusion_date}): best response {best}; "
            f"progression {facts.progression_date or 'not documented'}{ttp}; "
            f"relapse class: {facts.relapse_class.value.replace('_', ' ')}"
        )
    inputs = staging.inputs_from_record(record, as_of=as_of)
    for system in (staging.iss, staging.r_iss, staging.r2_iss):
        try:
            stage = system(inputs)
            lines.append(f"  {stage.label} at diagnosis ({'; '.join(stage.reasons)})")
        except CalculationError as exc:
            lines.append(f"  {exc.message}")
    return "\n".join(lines)


def _trials(rows: list[TrialRow]) -> str:
    lines = [f"  {SAMPLE_NOTICE}"]
    for i, row in enumerate(rows, start=1):
        where = (
            f"nearest open site {row.nearest_site}, {row.miles:.0f} miles"
            if row.nearest_site and row.miles is not None
            else "no open site found"
        )
        lines.append(
            f"  {i}. {row.nct_id} — {row.verdict_text} (score {row.score:.0f}; "
            f"{row.not_met} criteria not met, {row.to_check} to check with the study "
            f"team): {row.title}"
        )
        lines.append(f"     {where}")
    if not rows:
        lines.append("  No sample study is a possible match.")
    return "\n".join(lines)


def _sections(record_id: str, as_of: dt.date, out_dir: Path) -> list[str]:
    bundle = sample_bundle_path(record_id)
    report = import_bundle_file(str(bundle), as_of=as_of, record_id=record_id)
    preferences = sample_preferences_path(record_id)
    record = report.record.model_copy(update={"preferences": load_preferences(str(preferences))})
    options = options_report(record, as_of, "patient")
    trials = match_trials(record, sample_studies(), as_of=as_of, limit=5, include_ineligible=True)
    questions = build_questions(record, as_of, report=options, trials=trials)
    pdf = out_dir / f"{record_id}-packet.pdf"
    write_packet(PacketInputs(record=record, as_of=as_of, trials=trials), pdf_path=pdf)
    return [
        f"== 1. The record: imported the sample FHIR bundle {bundle.name}: {report.summary()};"
        f" preferences from {preferences.name}",
        render_text(summarise(record, as_of)),
        "== 2. Clinical calculators (IMWG 2016 response; ISS, R-ISS, R2-ISS)",
        _clinical(record, as_of),
        "== 3. Why CAR T may not have held, and the options (patient voice)",
        render(options, "patient", max_evidence=2),
        "== 4. Clinical trials, matched criterion by criterion (run `myelonav trials match` "
        "for the criteria)",
        _trials(trials),
        "== 5. Questions for the next visit",
        render_questions(questions, sample=record.sample),
        f"== 6. Second-opinion packet written to {pdf} (PDF with the lab timeline plot)",
    ]


@handle_errors
def demo(
    patient: str = typer.Option(None, "--patient", "-p", help="One sample id (default: all)."),
    as_of: AsOfOption = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the sample packets (PDF).")] = Path(
        "out"
    ),
) -> None:
    """Walk the bundled sample patients through myelonav (no network; packets go to --out)."""
    when = dt.date.fromisoformat(as_of) if as_of else SAMPLE_AS_OF
    ids = [patient] if patient else sample_ids()
    unknown = [i for i in ids if i not in sample_ids()]
    if unknown:
        raise typer.BadParameter(f"unknown sample {unknown[0]!r}; choose from {sample_ids()}")
    typer.echo(f"myelonav demo — sample patients, as of {when}. {DISCLAIMER}\n")
    for record_id in ids:
        typer.echo("\n\n".join(_sections(record_id, when, out)))
        typer.echo("\n" + "-" * 78 + "\n")
    typer.echo(DISCLAIMER)


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)
