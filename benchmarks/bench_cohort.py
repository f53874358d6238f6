"""Benchmark the polars IMWG cohort engine on synthetic registry data (one core).

Prints assessments per second for ``evaluate_cohort``, per-patient latency p50/p95 of the
scalar engine for comparison, and peak memory. ``--quick`` runs a small smoke test.

    POLARS_MAX_THREADS=1 python benchmarks/bench_cohort.py [--quick] [--patients N --visits V]
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # must be set before polars is imported

import argparse
import datetime as dt
import resource
import statistics
import time

import polars as pl

from myelonav.clinical.cohort import evaluate_cohort
from myelonav.clinical.imwg import Assessment, evaluate

_MAX = 1_000_000


def _u(seed: int, col: str = "patient") -> pl.Expr:
    """A deterministic uniform [0, 1) from a hash of ``col``."""
    return (pl.col(col).hash(seed) % _MAX).cast(pl.Float64) / _MAX


def synthetic_long(patients: int, visits: int) -> pl.DataFrame:
    """Monthly assessments with response, nadir and regrowth; about 3.5 measures per visit."""
    n = patients * visits
    base = pl.LazyFrame({"i": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    df = base.with_columns(
        (pl.col("i") // visits).alias("patient"), (pl.col("i") % visits).alias("visit")
    ).with_columns(
        (pl.lit(dt.date(2023, 1, 1)) + pl.duration(days=pl.col("visit") * 30 + (pl.col("i") % 5)))
        .alias("date"),
        (1 + 5 * _u(1)).alias("s0"),
        (0.6 * _u(2)).alias("depth"),
        (_u(3) * visits * 1.5).floor().alias("relapse_visit"),
        (_u(4) < 0.3).alias("has_urine"),
        (_u(5, "i") - 0.5).alias("noise"),
    )
    shape = pl.col("depth") + (1 - pl.col("depth")) * (-pl.col("visit") / 1.5).exp()
    regrow = pl.when(pl.col("visit") > pl.col("relapse_visit")).then(
        0.3 * (pl.col("visit") - pl.col("relapse_visit"))
    ).otherwise(0.0)
    frac = (shape + regrow) * (1 + 0.1 * pl.col("noise"))
    serum = (pl.col("s0") * frac).round(1)
    df = df.with_columns(
        serum.alias("serum_m"),
        pl.when(pl.col("has_urine") & (_u(6, "i") < 0.6)).then(
            (400 * pl.col("s0") * frac).round(0)).alias("urine_m"),
        pl.when(_u(7, "i") < 0.6).then((300 * pl.col("s0") * frac + 8).round(1)).alias("kappa"),
        pl.when(_u(7, "i") < 0.6).then(8 + 4 * _u(8, "i")).alias("lambda"),
        pl.when(serum < 0.5).then(pl.when((serum > 0) | (_u(9, "i") < 0.7)).then(1.0)
                                  .otherwise(0.0)).alias("serum_ife"),
        pl.when((serum < 0.5) & (_u(10, "i") < 0.5)).then(
            pl.when(_u(11, "i") < 0.8).then(1.0).otherwise(0.0)).alias("urine_ife"),
        pl.when(_u(12, "i") < 0.05).then((40 * frac).round(0)).alias("marrow_pc"),
    )
    measures = ["serum_m", "urine_m", "kappa", "lambda", "serum_ife", "urine_ife", "marrow_pc"]
    return (
        df.select("patient", "date", *measures)
        .unpivot(index=["patient", "date"], on=measures, variable_name="measure",
                 value_name="value")
        .drop_nulls("value")
        .sort("patient", "date")
        .collect()
    )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scalar_latencies(long: pl.DataFrame, sample: int) -> list[float]:
    names = {"lambda": "lambda_", "serum_ife": "serum_ife", "urine_ife": "urine_ife"}
    ife = {"serum_ife", "urine_ife"}
    out: list[float] = []
    subset = long.filter(pl.col("patient") < sample)
    for _, group in subset.group_by("patient", maintain_order=True):
        per_date: dict[dt.date, dict[str, float | bool]] = {}
        for date, measure, value in group.select("date", "measure", "value").iter_rows():
            per_date.setdefault(date, {})[names.get(measure, measure)] = (
                value == 1.0 if measure in ife else value
            )
        items = [Assessment(date=d, **v) for d, v in per_date.items()]  # type: ignore[arg-type]
        start = time.perf_counter()
        evaluate(items)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=11, help="assessments per patient incl. "
                        "the baseline")
    args = parser.parse_args()
    patients = 20_000 if args.quick else args.patients
    print(f"POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']} (polars {pl.__version__})")

    start = time.perf_counter()
    long = synthetic_long(patients, args.visits)
    gen_s = time.perf_counter() - start
    print(f"generated {long.height:,} measurements for {patients:,} patients in {gen_s:.1f} s; "
          f"table {long.estimated_size('mb'):.0f} MB; peak RSS so far {_peak_mib():.0f} MiB")

    rss_before = _peak_mib()
    start, cpu_start = time.perf_counter(), time.process_time()
    rows, summary = evaluate_cohort(long)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    n = rows.height
    print(f"cohort engine: {n:,} assessments (after baseline) in {elapsed:.2f} s wall = "
          f"{n / elapsed:,.0f} assessments/s on one core; CPU time {cpu:.2f} s = "
          f"{n / cpu:,.0f} assessments per CPU-second")
    print(f"peak RSS {_peak_mib():.0f} MiB (before the engine {rss_before:.0f} MiB)")
    dist = summary["best_rank"].value_counts().sort("best_rank")
    print("best confirmed response ranks (0=NE..7=sCR):",
          dict(zip(dist["best_rank"].to_list(), dist["count"].to_list(), strict=True)))
    progressed = summary["progression_date"].is_not_null().sum()
    print(f"patients with confirmed progression: {progressed:,}")

    lat = scalar_latencies(long, 200 if args.quick else 2000)
    lat_ms = sorted(x * 1000 for x in lat)
    p95 = lat_ms[int(0.95 * (len(lat_ms) - 1))]
    print(f"scalar engine per patient ({args.visits} assessments): p50 "
          f"{statistics.median(lat_ms):.3f} ms, p95 {p95:.3f} ms "
          f"(= {(args.visits - 1) / (statistics.mean(lat_ms) / 1000):,.0f} assessments/s)")


if __name__ == "__main__":
    main()
