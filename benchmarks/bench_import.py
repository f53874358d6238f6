"""Benchmark: FHIR bundle import throughput and peak memory for a large (~10 MB) bundle.

    python benchmarks/bench_import.py [--quick]

Prints bundles/s for the bundled sample bundles (parse + import + validation), resources/s,
and the wall time and peak Python heap (tracemalloc) to import one ~10 MB bundle built from a
sample patient with years of monthly labs.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import resource
import statistics
import time
import tracemalloc
from typing import Any

from myelonav.patient.fhir_import import import_bundle, load_json
from myelonav.samples import sample_bundle_path, sample_ids

AS_OF = dt.date(2026, 11, 25)


def _big_bundle(target_bytes: int) -> bytes:
    base: dict[str, Any] = json.loads(sample_bundle_path("sample-late-idecel-t1114").read_text())
    labs = [
        e
        for e in base["entry"]
        if e["resource"]["resourceType"] == "Observation" and "valueQuantity" in e["resource"]
    ]
    entries = list(base["entry"])
    day = dt.date(1990, 1, 1)
    n = 0
    size = len(json.dumps(base))
    while size < target_bytes:
        template = labs[n % len(labs)]
        entry = copy.deepcopy(template)
        entry["resource"]["id"] = f"gen-{n}"
        entry["fullUrl"] = f"urn:uuid:gen-{n}"
        entry["resource"]["effectiveDateTime"] = (
            day + dt.timedelta(days=n // len(labs))
        ).isoformat()
        entries.append(entry)
        size += len(json.dumps(entry)) + 2
        n += 1
    base["entry"] = entries
    return json.dumps(base).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 1 MB bundle")
    args = parser.parse_args()
    rounds = 20 if args.quick else 200
    raws = [sample_bundle_path(i).read_bytes() for i in sample_ids()]
    resources = sum(len(json.loads(r)["entry"]) for r in raws)

    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in raws:
            import_bundle(load_json(raw, "bench"), as_of=AS_OF)
        times.append(time.perf_counter() - start)
    per_round = statistics.median(times)
    print(f"sample bundles: {len(raws)} bundles, {resources} resources per round, {rounds} rounds")
    print(
        f"  throughput: {len(raws) / per_round:,.0f} bundles/s, "
        f"{resources / per_round:,.0f} resources/s (median round {per_round * 1000:.1f} ms)"
    )
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    print(
        f"  per-bundle latency: p50 {per_round / len(raws) * 1000:.2f} ms, "
        f"p95 {p95 / len(raws) * 1000:.2f} ms"
    )

    target = 1_000_000 if args.quick else 10_000_000
    big = _big_bundle(target)
    start = time.perf_counter()
    report = import_bundle(load_json(big, "big"), as_of=AS_OF)
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a second, traced run: tracemalloc slows allocation, so not timed
    import_bundle(load_json(big, "big"), as_of=AS_OF)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    big_resources = sum(report.resource_counts.values())
    print(
        f"large bundle: {len(big) / 1e6:.1f} MB, {big_resources:,} resources,"
        f" {len(report.record.labs):,} labs"
    )
    rate = big_resources / elapsed
    print(
        f"  import time {elapsed:.2f} s ({rate:,.0f} resources/s); "
        f"peak Python heap {peak / 2**20:.0f} MiB (tracemalloc), "
        f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
