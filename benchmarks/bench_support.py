"""Benchmark: symptom triage, dosing calendar + .ics export, diary appends, readability.

    python benchmarks/bench_support.py [--quick]

Prints throughput (operations/s), latency p50/p95 per operation, and peak Python heap
(tracemalloc). Content files are loaded once before timing (as in a running CLI or web app).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from myelonav.readability import fk_grade
from myelonav.support.calendar import available, build_calendar, to_ics
from myelonav.support.content import education
from myelonav.support.diary import append_entry
from myelonav.support.triage import SYMPTOM_FLAGS, SymptomReport, triage

FLAGS = sorted(SYMPTOM_FLAGS)


def _random_report(rng: random.Random) -> SymptomReport:
    return SymptomReport(
        temperature_c=round(rng.uniform(36.0, 40.0), 1) if rng.random() < 0.7 else None,
        systolic_bp=rng.randint(70, 160) if rng.random() < 0.3 else None,
        spo2=rng.randint(85, 100) if rng.random() < 0.3 else None,
        on_bispecific=rng.random() < 0.5,
        **{f: rng.random() < 0.1 for f in FLAGS},
    )


def _time(label: str, n: int, op: Callable[[int], object]) -> None:
    lat: list[float] = []
    t0 = time.perf_counter()
    for i in range(n):
        s = time.perf_counter()
        op(i)
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=20) if len(lat) >= 20 else [max(lat)] * 19
    print(
        f"{label:<34} {n / total:>10.0f} ops/s   p50 {statistics.median(lat) * 1e3:7.3f} ms"
        f"   p95 {q[18] * 1e3:7.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    scale = 1 if args.quick else 10
    rng = random.Random(7)
    reports = [_random_report(rng) for _ in range(2000)]
    schedules = available()
    start = dt.date(2026, 12, 1)
    texts = [p.patient_text() for p in education().pieces]
    triage(reports[0])
    fk_grade(texts[0])

    tracemalloc.start()
    _time("triage", 2000 * scale, lambda i: triage(reports[i % len(reports)]))
    _time(
        "calendar 26 weeks",
        100 * scale,
        lambda i: build_calendar(schedules[i % len(schedules)], start, weeks=26),
    )
    _time(
        "calendar 26 weeks + .ics",
        50 * scale,
        lambda i: to_ics(build_calendar(schedules[i % len(schedules)], start, weeks=26)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "diary.json"
        _time(
            "diary append (atomic, fsync)",
            20 * scale,
            lambda i: append_entry(path, reports[i], date=start + dt.timedelta(days=i)),
        )
    _time(
        "Flesch-Kincaid grade (one piece)", 200 * scale, lambda i: fk_grade(texts[i % len(texts)])
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python heap: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
