"""`myelonav batch match` and `myelonav batch imwg`: many patients at once, locally or on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from myelonav import DISCLAIMER
from myelonav.commands._common import AsOfOption, emit_json, handle_errors, parse_as_of

batch_app = typer.Typer(
    help="Batch runs for a health system: screen every patient against every stored trial, "
    f"or grade IMWG response for a registry, locally or on a Dask cluster. {DISCLAIMER}",
    no_args_is_help=True,
)

OutOption = Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")]
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Run on a local Dask cluster of N worker processes."),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option("--scheduler", help="Run on an existing Dask scheduler (tcp://host:port)."),
]


@batch_app.command("match")
@handle_errors
def match_cmd(
    input_dir: Annotated[
        Path, typer.Argument(help="A folder of FHIR bundles or a FHIR Bulk Data export.")
    ],
    out: OutOption,
    store: Annotated[
        Path | None, typer.Option("--store", help="Trial store (default: the local one).")
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    as_of: AsOfOption = None,
    bucket_size: Annotated[
        int, typer.Option("--bucket-size", min=1, help="Patients per task (first run only).")
    ] = 50,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore earlier results for trials that changed.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Match every patient against every stored trial into Parquet; resumable, incremental."""
    from myelonav.batch.match import run_batch

    report = run_batch(
        input_dir,
        out,
        store=store,
        as_of=parse_as_of(as_of),
        workers=workers,
        scheduler=scheduler,
        bucket_size=bucket_size,
        incremental=not full,
        progress=None if json_out else typer.echo,
    )
    if json_out:
        emit_json(report.as_json())
        return
    typer.echo(
        f"{report.patients} patients x {report.trials} trials: {report.buckets} buckets "
        f"({report.buckets_run} run, {report.buckets_skipped} already done), {report.rows} rows "
        f"written ({report.reused_rows} kept from the last run) in {report.seconds:.1f} s"
    )
    typer.echo(
        f"{len(report.errors)} patients could not be read, {len(report.input_errors)} input "
        f"lines skipped; details in {out / 'report.json'}"
    )
    if report.failed_buckets:
        typer.echo(f"{len(report.failed_buckets)} buckets failed; run the command again.")
        raise typer.Exit(1)


@batch_app.command("imwg")
@handle_errors
def imwg_cmd(
    labs: Annotated[
        Path, typer.Argument(help="Long lab table (Parquet): patient, date, measure, value.")
    ],
    out: OutOption,
    baselines: Annotated[
        Path | None,
        typer.Option("--baselines", help="Parquet: patient, baseline_date[, involved]."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    partitions: Annotated[
        int | None, typer.Option("--partitions", min=1, help="Patient partitions (default auto).")
    ] = None,
) -> None:
    """IMWG 2016 response for every patient of a long lab table, partitioned by patient."""
    from myelonav.batch.imwg import run_imwg

    report = run_imwg(
        labs,
        out,
        baselines=baselines,
        workers=workers,
        scheduler=scheduler,
        partitions=partitions,
    )
    typer.echo(
        f"{report.patients} patients, {report.assessments} assessments in "
        f"{report.partitions} partitions ({report.skipped} already done) in "
        f"{report.seconds:.1f} s; summary in {out / 'summary.parquet'}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(batch_app, name="batch")
