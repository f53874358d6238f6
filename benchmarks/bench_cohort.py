"""Benchmark the polars IMWG cohort engine on synthetic registry data (one core).

Prints input generation time, then for ``evaluate_cohort`` alone: assessments per second of
wall time and per CPU-second, and the engine's peak resident memory (the process high-water
mark is reset just before the engine runs, where the kernel allows it). Then the scalar
engine's per-patient latency p50/p95 on a sample of the same patients, and whether the two
engines agree on every sampled assessment. ``--quick`` runs a small smoke test; ``--shuffle``
hands the engine rows in random order (it then sorts them itself).

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
from pathlib import Path

import polars as pl

from myelonav.clinical.cohort import MEASURES, evaluate_cohort
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
        (
            pl.lit(dt.date(2023, 1, 1)) + pl.duration(days=pl.col("visit") * 30 + (pl.col("i") % 5))
        ).alias("date"),
        (1 + 5 * _u(1)).alias("s0"),
        (0.6 * _u(2)).alias("depth"),
        (_u(3) * visits * 1.5).floor().alias("relapse_visit"),
        (_u(4) < 0.3).alias("has_urine"),
        (_u(5, "i") - 0.5).alias("noise"),
    )
    shape = pl.col("depth") + (1 - pl.col("depth")) * (-pl.col("visit") / 1.5).exp()
    regrow = (
        pl.when(pl.col("visit") > pl.col("relapse_visit"))
        .then(0.3 * (pl.col("visit") - pl.col("relapse_visit")))
        .otherwise(0.0)
    )
    frac = (shape + regrow) * (1 + 0.1 * pl.col("noise"))
    serum = (pl.col("s0") * frac).round(1)
    df = df.with_columns(
        serum.alias("serum_m"),
        pl.when(pl.col("has_urine") & (_u(6, "i") < 0.6))
        .then((400 * pl.col("s0") * frac).round(0))
        .alias("urine_m"),
        pl.when(_u(7, "i") < 0.6).then((300 * pl.col("s0") * frac + 8).round(1)).alias("kappa"),
        pl.when(_u(7, "i") < 0.6).then(8 + 4 * _u(8, "i")).alias("lambda"),
        pl.when(serum < 0.5)
        .then(pl.when((serum > 0) | (_u(9, "i") < 0.7)).then(1.0).otherwise(0.0))
        .alias("serum_ife"),
        pl.when((serum < 0.5) & (_u(10, "i") < 0.5))
        .then(pl.when(_u(11, "i") < 0.8).then(1.0).otherwise(0.0))
        .alias("urine_ife"),
        pl.when(_u(12, "i") < 0.05).then((40 * frac).round(0)).alias("marrow_pc"),
    )
    measures = ["serum_m", "urine_m", "kappa", "lambda", "serum_ife", "urine_ife", "marrow_pc"]
    return (
        df.select(pl.col("patient").cast(pl.UInt32), "date", *measures)
        .unpivot(
            index=["patient", "date"], on=measures, variable_name="measure", value_name="value"
        )
        .drop_nulls("value")
        .with_columns(pl.col("measure").cast(pl.Enum(list(MEASURES))))
        .sort("patient", "date", maintain_order=True)
        .collect()
    )


def _peak_mib() -> float:
    """Peak resident memory since start or since the last ``_reset_peak`` (MiB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def scalar_check(long: pl.DataFrame, rows: pl.DataFrame, sample: int) -> tuple[list[float], int]:
    """Scalar-engine latency per patient for the first ``sample`` patients, and how many of
    their assessments the cohort engine classified differently (category, rule or missing)."""
    names = {"lambda": "lambda_"}
    ife = {"serum_ife", "urine_ife", "marrow_clonal", "new_lesion"}
    out: list[float] = []
    mismatches = 0
    subset = long.filter(pl.col("patient") < sample)
    cohort = rows.filter(pl.col("patient") < sample).partition_by("patient", as_dict=True)
    for (patient,), group in subset.group_by("patient", maintain_order=True):
        per_date: dict[dt.date, dict[str, float | bool]] = {}
        for date, measure, value in group.select("date", "measure", "value").iter_rows():
            per_date.setdefault(date, {})[names.get(measure, measure)] = (
                value == 1.0 if measure in ife else value
            )
        items = [Assessment(date=d, **v) for d, v in per_date.items()]  # type: ignore[arg-type]
        start = time.perf_counter()
        result = evaluate(items)
        out.append(time.perf_counter() - start)
        mine = cohort.get((patient,))
        got = (
            []
            if mine is None
            else list(
                mine.select(
                    "date",
                    pl.col("category").cast(pl.String),
                    pl.col("rule").cast(pl.String),
                    pl.col("missing").cast(pl.Int64),
                ).iter_rows()
            )
        )
        want = [(a.date, a.category.value, a.rule, a.missing) for a in result.assessments]
        mismatches += sum(g != w for g, w in zip(got, want, strict=False))
        mismatches += abs(len(got) - len(want))
    return out, mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument(
        "--visits", type=int, default=11, help="assessments per patient incl. the baseline"
    )
    parser.add_argument("--shuffle", action="store_true", help="rows in random order")
    args = parser.parse_args()
    patients = 20_000 if args.quick else args.patients
    print(f"POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']} (polars {pl.__version__})")

    start, cpu_start = time.perf_counter(), time.process_time()
    long = synthetic_long(patients, args.visits)
    if args.shuffle:
        long = long.sample(fraction=1.0, shuffle=True, seed=7)
    gen_s, gen_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        f"input: {long.height:,} measurements (long table: patient, date, measure, value) for "
        f"{patients:,} patients x {args.visits} dates, {'shuffled' if args.shuffle else 'sorted'}"
        f"; {long.estimated_size('mb'):.0f} MB; generated in {gen_s:.1f} s wall "
        f"({gen_cpu:.1f} s CPU), not counted below"
    )

    reset = _reset_peak()
    rss_before = _rss_mib()
    start, cpu_start = time.perf_counter(), time.process_time()
    rows, summary = evaluate_cohort(long)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _peak_mib()
    n = rows.height
    print(
        f"cohort engine: {n:,} assessments (after baseline) in {elapsed:.2f} s wall = "
        f"{n / elapsed:,.0f} assessments/s on one core; CPU time {cpu:.2f} s = "
        f"{n / cpu:,.0f} assessments per CPU-second"
    )
    if reset:
        print(
            f"engine peak RSS {peak:,.0f} MiB (resident before it ran, input included: "
            f"{rss_before:,.0f} MiB; so at most {peak - rss_before:,.0f} MiB extra)"
        )
    else:
        print(f"process peak RSS {peak:,.0f} MiB (input generation included)")
    dist = summary["best_rank"].value_counts().sort("best_rank")
    print(
        "best confirmed response ranks (0=NE..7=sCR):",
        dict(zip(dist["best_rank"].to_list(), dist["count"].to_list(), strict=True)),
    )
    progressed = summary["progression_date"].is_not_null().sum()
    print(f"patients with confirmed progression: {progressed:,}")

    sample = 200 if args.quick else 2000
    lat, mismatches = scalar_check(long, rows, sample)
    lat_ms = sorted(x * 1000 for x in lat)
    p95 = lat_ms[int(0.95 * (len(lat_ms) - 1))]
    print(
        f"scalar engine per patient ({args.visits} dates): p50 "
        f"{statistics.median(lat_ms):.3f} ms, p95 {p95:.3f} ms "
        f"(= {(args.visits - 1) / (statistics.mean(lat_ms) / 1000):,.0f} assessments/s)"
    )
    print(
        f"engines agree on the {len(lat):,} sampled patients: "
        f"{'yes' if mismatches == 0 else f'NO, {mismatches} assessments differ'}"
    )
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
