"""Benchmark batch runs: ``batch match`` throughput per worker and scaling, and IMWG engines.

    python benchmarks/bench_batch.py [--quick] [--patients N] [--studies N] [--workers 1,2]
        [--imwg-patients N] [--myeloma-share F]

Data (all synthetic, fictional):

* patients: ``myelonav.batch.synthetic`` — the bundled fictional profiles varied per patient
  (birth year, ZIP code, M-protein/FLC values scaled, about one lab in seven dropped, line
  history cut short), written as a FHIR Bulk Data export (NDJSON per resource type);
* trial store: ``--studies`` studies built from the bundled sample studies the way
  ``bench_matching.py`` builds them (numeric thresholds varied, a share of other-disease
  studies), imported through ``SqliteTrialStore.import_studies`` with criteria parsed at
  store time, as a real sync does;
* IMWG: ``bench_cohort.synthetic_long`` (monthly assessments with response and regrowth).

Prints, for ``batch match``: patients/s overall and per worker for each worker count (on a
Dask ``LocalCluster`` started before the clock runs; 1 -> 2 speed-up), the in-process run
for reference, and peak RSS of the driver and of the largest worker. For IMWG: assessments
per CPU-second of the numba kernel,
the staged polars engine and a straightforward pandas version (pivot per assessment, then the
scalar engine per patient; needs pandas, skipped when it is not installed), and ``batch imwg``
wall time at each worker count. A machine with more cores runs the script unchanged with
``--workers 1,2,4,8``.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import argparse
import contextlib
import datetime as dt
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cohort import synthetic_long
from realistic_studies import StudyFactory

from myelonav.batch.imwg import run_imwg
from myelonav.batch.match import run_batch
from myelonav.batch.synthetic import write_bulk_export
from myelonav.clinical.cohort import evaluate_cohort
from myelonav.clinical.imwg import Assessment, evaluate
from myelonav.trials.local import criteria_parser
from myelonav.trials.models import Study
from myelonav.trials.sqlite_store import SqliteTrialStore
from myelonav.trials.store import StudyRecord

AS_OF = dt.date(2026, 11, 25)


def build_store(path: Path, n: int, myeloma_share: float, seed: int = 7) -> float:
    """``n`` realistic studies (criteria recombined from real registry text, real site and
    status spread: ``realistic_studies.py``); seconds to import and parse them."""
    factory = StudyFactory(seed, myeloma_share)
    records = [
        StudyRecord(Study.from_v2(raw, is_sample=False), raw) for raw in factory.records(n)
    ]
    start = time.perf_counter()
    store = SqliteTrialStore(path, parse_criteria=criteria_parser())
    for k in range(0, n, 500):
        store.import_studies(records[k : k + 500], source="bench")
    store.close()
    return time.perf_counter() - start


@contextlib.contextmanager
def _cluster(workers: int) -> Iterator[str]:
    """A LocalCluster started before the clock runs; yields its scheduler address."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", host="127.0.0.1") as cluster:
        yield cluster.scheduler_address


def _child_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def bench_match(args: argparse.Namespace, root: Path) -> None:
    bulk = root / "bulk"
    start = time.perf_counter()
    write_bulk_export(bulk, args.patients, seed=11)
    store = args.store or root / "trials.sqlite3"
    gen = time.perf_counter() - start
    import_s = 0.0 if store.exists() else build_store(store, args.studies, args.myeloma_share)
    print(f"data: {args.patients:,} synthetic patients as a Bulk Data export "
          f"({sum(f.stat().st_size for f in bulk.iterdir()) / 1e6:.1f} MB, {gen:.1f} s); "
          f"{args.studies:,} studies ({args.myeloma_share:.0%} myeloma) imported and parsed in "
          f"{import_s:.1f} s")
    base: float | None = None
    local_n = min(args.patients, args.local_patients)
    if local_n:
        sub = root / "bulk-local"
        write_bulk_export(sub, local_n, seed=11)
        start, cpu = time.perf_counter(), time.process_time()
        report = run_batch(sub, root / "out-local", store=store, as_of=AS_OF)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"in process (no Dask): {local_n:,} patients in {wall:.1f} s = "
              f"{local_n / wall:.1f} patients/s ({local_n / cpu:.1f} per CPU-second; "
              f"{report.rows:,} rows)")
    for w in args.workers:
        with _cluster(w) as address:
            from distributed import Client

            with Client(address) as client:
                cpu0 = sum(client.run(time.process_time).values())
                start = time.perf_counter()
                report = run_batch(bulk, root / f"out-{w}", store=store, as_of=AS_OF,
                                   scheduler=address)
                wall = time.perf_counter() - start
                cpu = sum(client.run(time.process_time).values()) - cpu0
        rate = args.patients / wall
        base = base or rate
        print(f"Dask LocalCluster, {w} worker(s): {args.patients:,} patients x "
              f"{report.trials:,} trials in {wall:.1f} s (store load per worker included) = "
              f"{rate:.2f} patients/s, {rate / w:.2f} per worker; workers' CPU {cpu:.1f} s = "
              f"{args.patients / cpu:.2f} patients per worker CPU-second; speed-up vs 1 worker "
              f"{rate / base:.2f}x (wall); {report.rows:,} rows, "
              f"{len(report.errors)} patient errors")
    print(f"peak RSS: driver {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} "
          f"MiB, largest worker {_child_peak_mib():,.0f} MiB")


def pandas_engine(long: pl.DataFrame) -> int:
    """A straightforward pandas version: pivot to one row per assessment, then the scalar
    engine per patient. Returns the number of assessments graded."""
    import pandas as pd

    df = long.with_columns(pl.col("measure").cast(pl.String)).to_pandas()
    wide = df.pivot_table(index=["patient", "date"], columns="measure", values="value",
                          aggfunc="last")
    flags = {"serum_ife", "urine_ife", "marrow_clonal", "new_lesion"}
    names = {"lambda": "lambda_"}
    graded = 0
    for _, group in wide.groupby(level=0, sort=False):
        items = []
        for (_, day), row in group.iterrows():
            values = {names.get(k, k): (bool(v) if k in flags else float(v))
                      for k, v in row.items() if not pd.isna(v)}
            items.append(Assessment(date=pd.Timestamp(day).date(), **values))
        graded += len(evaluate(items).assessments)
    return graded


def bench_imwg(args: argparse.Namespace, root: Path) -> None:
    long = synthetic_long(args.imwg_patients, 11)
    evaluate_cohort(long.head(2000))  # numba compile or cache load
    rates = {}
    for engine in ("kernel", "polars"):
        cpu = time.process_time()
        rows, _ = evaluate_cohort(long, engine=engine)  # type: ignore[arg-type]
        cpu = time.process_time() - cpu
        rates[engine] = rows.height / cpu
        print(f"IMWG {engine}: {rows.height:,} assessments, {rates[engine]:,.0f} per CPU-second")
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("IMWG pandas: skipped (pandas is not installed)")
    else:
        sample = long.filter(pl.col("patient") < args.pandas_patients)
        cpu = time.process_time()
        graded = pandas_engine(sample)
        cpu = time.process_time() - cpu
        rates["pandas"] = graded / cpu
        print(f"IMWG pandas (first {args.pandas_patients:,} patients): {graded:,} assessments, "
              f"{rates['pandas']:,.0f} per CPU-second")
    ratios = ", ".join(f"{rates['kernel'] / v:.1f}x {k}" for k, v in rates.items() if k != "kernel")
    print(f"kernel vs: {ratios}")
    labs = root / "labs.parquet"
    long.write_parquet(labs)
    base = None
    for w in args.workers:
        with _cluster(w) as address:
            start = time.perf_counter()
            report = run_imwg(labs, root / f"imwg-{w}", scheduler=address,
                              partitions=max(args.workers) * 2)
            wall = time.perf_counter() - start
        base = base or wall
        print(f"batch imwg, {w} worker(s): {report.assessments:,} assessments in "
              f"{report.partitions} partitions, {wall:.1f} s (Parquet I/O included) = "
              f"{report.assessments / wall:,.0f} assessments/s; speed-up vs 1 worker "
              f"{base / wall:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--local-patients", type=int, default=100)
    parser.add_argument("--studies", type=int, default=5000)
    parser.add_argument("--myeloma-share", type=float, default=1.0)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--imwg-patients", type=int, default=200_000)
    parser.add_argument("--pandas-patients", type=int, default=2000)
    parser.add_argument("--skip-match", action="store_true")
    parser.add_argument("--store", type=Path, help="reuse (or create and keep) this store")
    parser.add_argument("--skip-imwg", action="store_true")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    if args.quick:
        args.patients, args.studies, args.local_patients = 40, 200, 10
        args.imwg_patients, args.pandas_patients = 5000, 200
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_match:
            bench_match(args, Path(tmp))
        if not args.skip_imwg:
            bench_imwg(args, Path(tmp))


if __name__ == "__main__":
    main()
