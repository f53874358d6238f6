"""``batch imwg``: the cohort IMWG engine over a long lab table, partitioned by patient.

Each partition (patients whose key hashes to it) is read from the Parquet file with a
predicate, graded by ``evaluate_cohort`` and written as ``assessments/part-<i>.parquet`` and
``patients/part-<i>.parquet`` atomically; a re-run skips partitions already written for the
same input. Every patient's rows land in one partition and the engine is per patient, so the
result equals the single-process engine's (tests hold them to it). ``summary.parquet`` then
has one row per patient: best confirmed response, progression date, relapse from CR and the
relapse class.

Relapse class is ``car_t.RelapseClass`` computed from the labs alone, with the baseline date
standing for the infusion date (for a post-CAR T registry, pass each patient's infusion date as
``baseline_date``): primary_refractory (progression without a confirmed PR), early_relapse /
late_relapse (confirmed >= PR, then progression before / from ``EARLY_RELAPSE_MONTHS`` after
the baseline), no_progression, no_response_yet, undetermined (a PR seen once but not confirmed
before progression, or an unconfirmed PD at the end).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from myelonav.atomic import write_bytes_atomic, write_text_atomic
from myelonav.clinical import thresholds as t
from myelonav.clinical.car_t import RelapseClass
from myelonav.clinical.cohort import CATEGORY_BY_RANK, evaluate_cohort
from myelonav.errors import InputError
from myelonav.patient.models import RESPONSE_ORDER, ResponseCategory

ROWS_PER_PARTITION = 2_000_000
_SEED = 18


@dataclass(slots=True)
class ImwgReport:
    patients: int
    assessments: int
    partitions: int
    skipped: int
    seconds: float


def relapse_class(months: int = t.EARLY_RELAPSE_MONTHS) -> pl.Expr:
    """``car_t.RelapseClass`` per patient from the cohort summary columns (labs only)."""
    pr = RESPONSE_ORDER[ResponseCategory.PR]
    c = pl.col
    responded = c("best_rank").fill_null(-1) >= pr
    glimpsed = c("best_unconfirmed_rank").fill_null(-1) >= pr
    cutoff = c("baseline_date").dt.offset_by(f"{months}mo")
    r = RelapseClass
    return (
        pl.when(c("progression_date").is_not_null())
        .then(
            pl.when(~responded & glimpsed)
            .then(pl.lit(r.undetermined.value))
            .when(~responded)
            .then(pl.lit(r.primary_refractory.value))
            .when(c("progression_date") < cutoff)
            .then(pl.lit(r.early_relapse.value))
            .otherwise(pl.lit(r.late_relapse.value))
        )
        .when(responded)
        .then(pl.lit(r.no_progression.value))
        .when(c("pending_progression_date").is_not_null())
        .then(pl.lit(r.undetermined.value))
        .otherwise(pl.lit(r.no_response_yet.value))
        .alias("relapse_class")
    )


def _in_partition(index: int, count: int) -> pl.Expr:
    return pl.col("patient").hash(_SEED) % count == index


def _write(path: Path, frame: pl.DataFrame) -> None:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    write_bytes_atomic(path, buf.getvalue())


def run_partition(
    labs: str, baselines: str | None, out: str, index: int, count: int, tag: str
) -> tuple[int, int]:
    """Grade one partition and write its files; (patients, assessments)."""
    where = _in_partition(index, count)
    long = pl.scan_parquet(labs).filter(where).collect()
    base = pl.scan_parquet(baselines).filter(where).collect() if baselines else None
    rows, summary = evaluate_cohort(long, base)
    summary = summary.with_columns(relapse_class())
    name = f"part-{index:05d}-{tag}.parquet"
    _write(Path(out) / "assessments" / name, rows)
    _write(Path(out) / "patients" / name, summary)
    return summary.height, rows.height


def _tag(labs: Path, baselines: Path | None, count: int) -> str:
    h = hashlib.sha256()
    for p in (labs, baselines):
        if p is not None:
            st = p.stat()
            h.update(f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns};".encode())
    h.update(f"{count}:{pl.__version__}".encode())
    return h.hexdigest()[:16]


def run_imwg(
    labs: Path,
    out: Path,
    *,
    baselines: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    partitions: int | None = None,
) -> ImwgReport:
    """Grade every patient of ``labs`` (see the module docs); returns counts and time."""
    from myelonav.batch.cluster import dask_client

    started = time.perf_counter()
    for path in (labs, baselines):
        if path is not None and not path.is_file():
            raise InputError("no such Parquet file", location=str(path))
    try:
        n_rows = pl.scan_parquet(labs).select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"cannot read the lab table: {exc}", location=str(labs)) from None
    count = partitions or max(2 * (workers or 1), -(-n_rows // ROWS_PER_PARTITION))
    tag = _tag(labs, baselines, count)
    out.mkdir(parents=True, exist_ok=True)
    done = {p.name for p in (out / "patients").glob(f"part-*-{tag}.parquet")} & {
        p.name for p in (out / "assessments").glob(f"part-*-{tag}.parquet")
    }
    todo = [i for i in range(count) if f"part-{i:05d}-{tag}.parquet" not in done]
    args = (str(labs), str(baselines) if baselines else None, str(out))
    if workers is None and scheduler is None:
        for i in todo:
            run_partition(*args, i, count, tag)
    else:
        with dask_client(workers=workers, scheduler=scheduler) as client:
            futures = [
                client.submit(run_partition, *args, i, count, tag, key=f"imwg-{tag}-{i}")
                for i in todo
            ]
            dist: Any = importlib.import_module("distributed")
            dist.wait(futures)
            for f in futures:
                f.result()  # raise the first failure
    names = [f"part-{i:05d}-{tag}.parquet" for i in range(count)]
    for sub in ("assessments", "patients"):
        for stale in (out / sub).glob("part-*.parquet"):
            if stale.name not in names:
                stale.unlink()
    summary = read_summary(out, names)
    categories = [CATEGORY_BY_RANK[r].value for r in range(len(CATEGORY_BY_RANK))]
    table = summary.select(
        "patient",
        "baseline_date",
        "path",
        pl.col("best_rank")
        .replace_strict(list(range(len(categories))), categories, default=None)
        .alias("best_response"),
        "best_response_date",
        "progression_date",
        "pending_progression_date",
        "relapse_from_cr_date",
        "relapse_class",
    )
    _write(out / "summary.parquet", table)
    assessments = sum(
        pl.scan_parquet(out / "assessments" / n).select(pl.len()).collect().item() for n in names
    )
    write_text_atomic(
        out / "manifest.json",
        json.dumps({"labs": str(labs), "partitions": count, "tag": tag, "files": names}),
    )
    return ImwgReport(
        summary.height, assessments, count, count - len(todo), time.perf_counter() - started
    )


def read_summary(out: Path, names: list[str] | None = None) -> pl.DataFrame:
    """Per-patient cohort summaries of every partition, sorted by patient."""
    if names is None:
        names = json.loads((out / "manifest.json").read_text())["files"]
    frames = [pl.read_parquet(out / "patients" / n) for n in names]
    return pl.concat(frames).sort("patient", maintain_order=True)


def read_assessments(out: Path) -> pl.DataFrame:
    names = json.loads((out / "manifest.json").read_text())["files"]
    frames = [pl.read_parquet(out / "assessments" / n) for n in names]
    return pl.concat(frames).sort("patient", "date", maintain_order=True)
