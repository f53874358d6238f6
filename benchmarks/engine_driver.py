"""One engine version, measured in its own process (run by ``bench_matching.py``).

    PYTHONPATH=<engine src> python benchmarks/engine_driver.py STUDIES.jsonl DB REPS [--origin]

Imports the studies through the store (parsing criteria as a sync does), then matches sample
patients the way ``myelonav trials match`` does in that version: a fresh store handle per
query, one cold query, then REPS warm ones (a different sample patient each time, so no
result is reused between patients), then the same patient again. Prints one JSON object.
Runs against the current tree (match service) or an old one (``iter_studies`` +
``match_patient``), whichever the import path provides.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

AS_OF = dt.date(2026, 11, 25)


def _records(path: Path, kind: Any) -> list[Any]:
    from myelonav.trials.models import Study

    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            out.append(kind(study=Study.from_v2(raw), raw=raw))
    return out


def _criteria_bytes(store: Any) -> dict[str, int] | None:
    """Parsed criteria sizes: as JSON once per study, once per distinct criterion, stored."""
    import sqlite3
    import zlib

    conn = store._conn
    try:
        bodies = {
            i: len(zlib.decompress(b))
            for i, b in conn.execute("SELECT id, body FROM criterion_bodies")
        }
    except sqlite3.OperationalError:  # the old store keeps one JSON text per study
        return None
    uses = conn.execute("SELECT body_id FROM study_criteria").fetchall()
    stored = conn.execute("SELECT coalesce(sum(length(body)), 0) FROM criterion_bodies")
    return {
        "per_study_json": sum(bodies[u[0]] for u in uses),
        "distinct_json": sum(bodies.values()),
        "distinct": len(bodies),
        "stored": int(stored.fetchone()[0]),
    }


def main() -> None:
    jsonl, db, reps = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    with_origin = "--origin" in sys.argv
    from myelonav.samples import sample_profiles
    from myelonav.trials.geo import Point
    from myelonav.trials.local import criteria_parser, open_store
    from myelonav.trials.store import StudyRecord

    origin = Point(40.7128, -74.0060, "New York, NY") if with_origin else None
    records = _records(jsonl, StudyRecord)
    store = open_store(db, parse_criteria=criteria_parser(), seed_samples=False)
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(records), 500):
        store.import_studies(records[i : i + 500], source="bench")
    index_s = time.perf_counter() - start
    index_cpu_s = time.process_time() - cpu_start
    size = store.size_bytes()
    criteria = _criteria_bytes(store)
    store.close()
    del records

    try:
        from myelonav.trials import match_service
    except ImportError:
        match_service = None  # type: ignore[assignment]

    def query(patient: Any) -> int:
        if match_service is not None:
            run = match_service.match_store(patient, AS_OF, db, origin=origin)
            return len(run.ranked)
        from myelonav.trials.patient_match import match_patient, stored_parse

        s = open_store(db, parse_criteria=criteria_parser(), seed_samples=False)
        try:
            studies = {x.nct_id: x for x in s.iter_studies()}
            ranked = match_patient(
                patient,
                studies.values(),
                lambda x: stored_parse(s.parsed_criteria(x.nct_id), x),
                as_of=AS_OF,
                origin=origin,
            )
        finally:
            s.close()
        return len(ranked)

    patients = sample_profiles()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    judged = query(patients[0])
    cold = time.perf_counter() - t0
    cold_cpu = time.process_time() - cpu0
    warm, warm_cpu = [], []
    for i in range(reps):
        if match_service is not None:
            match_service.clear_result_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        query(patients[1 + i % (len(patients) - 1)])
        warm.append(time.perf_counter() - t0)
        warm_cpu.append(time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    query(patients[1 + (reps - 1) % (len(patients) - 1)])
    repeat, repeat_cpu = time.perf_counter() - t0, time.process_time() - c0
    warm.sort()
    warm_cpu.sort()

    def p95(xs: list[float]) -> float:
        return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]

    print(
        json.dumps(
            {
                "engine": "new" if match_service is not None else "old",
                "studies": sum(1 for _ in jsonl.open()),
                "index_s": index_s,
                "index_cpu_s": index_cpu_s,
                "db_bytes": size,
                "judged": judged,
                "cold_s": cold,
                "cold_cpu_s": cold_cpu,
                "warm_p50_s": warm[len(warm) // 2],
                "warm_p95_s": p95(warm),
                "warm_cpu_p50_s": warm_cpu[len(warm_cpu) // 2],
                "warm_cpu_p95_s": p95(warm_cpu),
                "repeat_s": repeat,
                "repeat_cpu_s": repeat_cpu,
                **({"criteria_bytes": criteria} if criteria is not None else {}),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
