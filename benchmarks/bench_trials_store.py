"""Benchmark the trial store: import/index throughput, index size, search latency, memory.

Generates synthetic studies in the ClinicalTrials.gov v2 shape (seeded, so runs compare),
imports them through the real path (``Study.from_v2`` → ``SqliteTrialStore.import_studies``,
in batches, each one transaction), then times a fixed mix of searches: free text, text plus
filters, filters only, and distance from a ZIP code.

    .venv/bin/python benchmarks/bench_trials_store.py            # 100,000 studies
    .venv/bin/python benchmarks/bench_trials_store.py --quick    # 3,000 studies, smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from myelonav.trials.geo import Point
from myelonav.trials.models import Study
from myelonav.trials.sqlite_store import SqliteTrialStore
from myelonav.trials.store import SearchQuery, StudyRecord

AGENTS = [
    "Teclistamab",
    "Elranatamab",
    "Talquetamab",
    "Cevostamab",
    "Linvoseltamab",
    "Iberdomide",
    "Mezigdomide",
    "Daratumumab",
    "Isatuximab",
    "Carfilzomib",
    "Pomalidomide",
    "Selinexor",
    "Venetoclax",
    "Belantamab mafodotin",
    "Ciltacabtagene autoleucel",
    "Idecabtagene vicleucel",
    "Arlocabtagene autoleucel",
    "ALLO-715",
    "Cyclophosphamide",
    "Dexamethasone",
    "Pembrolizumab",
    "Nivolumab",
    "Osimertinib",
    "Trastuzumab",
    "Rituximab",
    "Ibrutinib",
    "Placebo",
]
CONDITIONS = [
    "Multiple Myeloma",
    "Relapsed/Refractory Multiple Myeloma",
    "Smoldering Multiple Myeloma",
    "Plasma Cell Leukemia",
    "AL Amyloidosis",
    "Non-Hodgkin Lymphoma",
    "Breast Cancer",
    "Non-Small Cell Lung Cancer",
    "Acute Myeloid Leukemia",
    "Type 2 Diabetes",
    "Heart Failure",
]
WORDS = [
    "patients",
    "with",
    "measurable",
    "disease",
    "prior",
    "therapy",
    "progression",
    "documented",
    "within",
    "days",
    "before",
    "enrollment",
    "adequate",
    "organ",
    "function",
    "absolute",
    "neutrophil",
    "count",
    "platelets",
    "hemoglobin",
    "creatinine",
    "clearance",
    "bilirubin",
    "upper",
    "limit",
    "of",
    "normal",
    "ECOG",
    "performance",
    "status",
    "informed",
    "consent",
    "active",
    "infection",
    "hepatitis",
    "HIV",
    "cardiovascular",
    "disease",
    "pregnancy",
    "contraception",
    "washout",
    "monoclonal",
    "antibody",
    "CAR",
    "T-cell",
    "therapy",
    "bispecific",
    "antibody",
    "autologous",
    "stem",
    "cell",
    "transplant",
    "allogeneic",
    "graft-versus-host",
    "disease",
    "central",
    "nervous",
    "system",
    "involvement",
    "neuropathy",
    "steroid",
]
STATUSES = ["RECRUITING"] * 3 + [
    "COMPLETED",
    "ACTIVE_NOT_RECRUITING",
    "NOT_YET_RECRUITING",
    "TERMINATED",
    "WITHDRAWN",
]
PHASES = [["PHASE1"], ["PHASE2"], ["PHASE1", "PHASE2"], ["PHASE3"], ["NA"], []]
US_CITIES = [
    ("New York", 40.71427, -74.00597),
    ("Houston", 29.76328, -95.36327),
    ("Boston", 42.35843, -71.05977),
    ("Seattle", 47.60621, -122.33207),
    ("Chicago", 41.85003, -87.65005),
    ("Los Angeles", 34.05223, -118.24368),
    ("Atlanta", 33.749, -84.38798),
    ("Denver", 39.73915, -104.9847),
    ("Miami", 25.77427, -80.19366),
    ("Rochester", 44.02163, -92.4699),
    ("Nashville", 36.16589, -86.78444),
    ("Philadelphia", 39.95233, -75.16379),
]


def _pseudo_vocabulary(size: int = 6000) -> list[str]:
    rng = random.Random(99)
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(size)]


FILLER = _pseudo_vocabulary()
# Zipf-like weights: real registry text has a long tail, so a query word is in a minority of
# records; 6% of words come from the domain list above.
_FILLER_WEIGHTS = [1.0 / (rank + 1) for rank in range(len(FILLER))]
_FILLER_CUM = list(__import__("itertools").accumulate(_FILLER_WEIGHTS))


def sentence(rng: random.Random, n: int) -> str:
    words = []
    for _ in range(n):
        if rng.random() < 0.06:
            words.append(rng.choice(WORDS))
        else:
            words.append(rng.choices(FILLER, cum_weights=_FILLER_CUM)[0])
    return " ".join(words)


def generate(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``n`` synthetic v2 records: ~3 KB of criteria each, 1-15 sites, a few interventions."""
    rng = random.Random(seed)
    for i in range(n):
        agents = rng.sample(AGENTS, rng.randint(1, 3))
        status = rng.choice(STATUSES)
        criteria = (
            "Inclusion Criteria:\n\n"
            + "\n".join(
                f"* {sentence(rng, rng.randint(12, 30))}." for _ in range(rng.randint(5, 10))
            )
            + "\n\nExclusion Criteria:\n\n"
            + "\n".join(
                f"* {sentence(rng, rng.randint(12, 30))}." for _ in range(rng.randint(5, 12))
            )
        )
        sites = []
        for _ in range(rng.randint(1, 15)):
            city, lat, lon = rng.choice(US_CITIES)
            sites.append(
                {
                    "facility": f"Center {rng.randint(1, 999)}",
                    "city": city,
                    "country": "United States",
                    "status": "RECRUITING"
                    if status == "RECRUITING" and rng.random() < 0.8
                    else "COMPLETED",
                    "geoPoint": {
                        "lat": lat + rng.uniform(-0.5, 0.5),
                        "lon": lon + rng.uniform(-0.5, 0.5),
                    },
                }
            )
        yield {
            "protocolSection": {
                "identificationModule": {
                    "nctId": f"NCT{10_000_000 + i:08d}",
                    "briefTitle": f"{' and '.join(agents)} in {rng.choice(CONDITIONS)}",
                    "officialTitle": f"A Study of {', '.join(agents)}: {sentence(rng, 10)}",
                },
                "statusModule": {
                    "overallStatus": status,
                    "lastUpdatePostDateStruct": {
                        "date": dt.date(
                            rng.randint(2015, 2026), rng.randint(1, 12), rng.randint(1, 28)
                        ).isoformat(),
                        "type": "ACTUAL",
                    },
                },
                "conditionsModule": {"conditions": rng.sample(CONDITIONS, rng.randint(1, 2))},
                "designModule": {"studyType": "INTERVENTIONAL", "phases": rng.choice(PHASES)},
                "descriptionModule": {"briefSummary": sentence(rng, 60)},
                "armsInterventionsModule": {
                    "interventions": [{"type": "DRUG", "name": a} for a in agents]
                },
                "eligibilityModule": {
                    "eligibilityCriteria": criteria,
                    "sex": "ALL",
                    "minimumAge": "18 Years",
                },
                "contactsLocationsModule": {"locations": sites},
            },
            "hasResults": False,
        }


def queries(rng: random.Random, count: int) -> list[SearchQuery]:
    texts = [
        "teclistamab",
        "GPRC5D CAR T",
        "after CAR T-cell therapy",
        "belantamab",
        "relapsed refractory multiple myeloma",
        "bispecific antibody",
        "smoldering",
        "talquetamab pomalidomide",
        "plasma cell leukemia",
        "cevostamab FcRH5",
    ]
    out = []
    for i in range(count):
        kind = i % 4
        text = rng.choice(texts)
        if kind == 0:
            out.append(SearchQuery(text=text))
        elif kind == 1:
            out.append(SearchQuery(text=text, statuses=["RECRUITING"], phases=["PHASE2"]))
        elif kind == 2:
            out.append(SearchQuery(statuses=["RECRUITING"], drug_classes=["bispecific"]))
        else:
            out.append(
                SearchQuery(
                    text=text,
                    statuses=["RECRUITING"],
                    near=Point(40.7651, -73.9638),
                    within_miles=100,
                )
            )
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(n: int, n_queries: int, batch: int, db_dir: Path) -> dict[str, float]:
    store = SqliteTrialStore(db_dir / "bench.sqlite3")
    parse_s = write_s = 0.0
    pending: list[StudyRecord] = []
    raw_bytes = 0
    t_all = time.perf_counter()
    for raw in generate(n):
        t0 = time.perf_counter()
        pending.append(StudyRecord(study=Study.from_v2(raw), raw=raw))
        parse_s += time.perf_counter() - t0
        if len(pending) >= batch:
            t0 = time.perf_counter()
            store.import_studies(pending, source="bench")
            write_s += time.perf_counter() - t0
            pending = []
    if pending:
        t0 = time.perf_counter()
        store.import_studies(pending, source="bench")
        write_s += time.perf_counter() - t0
    total_s = time.perf_counter() - t_all
    for raw in generate(min(n, 2000)):
        import json

        raw_bytes += len(json.dumps(raw))
    size = store.size_bytes()
    fts_bytes = 0
    try:
        row = store._conn.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'studies_fts%'"
        ).fetchone()
        fts_bytes = int(row[0] or 0)
    except Exception:  # dbstat is optional in SQLite builds
        fts_bytes = 0

    rng = random.Random(11)
    qs = queries(rng, n_queries)
    store.search(qs[0])  # warm the page cache
    latencies = []
    hits = 0
    for q in qs:
        t0 = time.perf_counter()
        hits += len(store.search(q))
        latencies.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    for i in range(0, min(n, 1000)):
        store.get(f"NCT{10_000_000 + (i * 97) % n:08d}")
    get_ms = (time.perf_counter() - t0) * 1000 / min(n, 1000)
    store.close()
    return {
        "studies": n,
        "generate_parse_import_s": total_s,
        "parse_per_s": n / parse_s,
        "write_index_per_s": n / write_s,
        "end_to_end_per_s": n / (parse_s + write_s),
        "db_mb": size / 1e6,
        "fts_mb": fts_bytes / 1e6,
        "raw_json_kb_per_study": raw_bytes / min(n, 2000) / 1e3,
        "search_p50_ms": statistics.median(latencies),
        "search_p95_ms": percentile(latencies, 95),
        "search_max_ms": max(latencies),
        "mean_hits": hits / len(qs),
        "get_ms": get_ms,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 studies, 40 queries")
    parser.add_argument("--studies", type=int, default=None)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--batch", type=int, default=2000, help="studies per transaction")
    args = parser.parse_args(argv)
    n = args.studies or (3_000 if args.quick else 100_000)
    n_queries = args.queries or (40 if args.quick else 400)
    with tempfile.TemporaryDirectory(prefix="myelonav-bench-") as tmp:
        result = run(n, n_queries, args.batch, Path(tmp))
    print(f"trial store benchmark: {n:,} generated studies, {n_queries} searches")
    print(
        f"  import+index (parse + write, batches of {args.batch}): "
        f"{result['end_to_end_per_s']:,.0f} studies/s "
        f"(parse {result['parse_per_s']:,.0f}/s, write+index {result['write_index_per_s']:,.0f}/s)"
    )
    print(
        f"  database size: {result['db_mb']:.1f} MB (FTS5 index {result['fts_mb']:.1f} MB); "
        f"raw JSON {result['raw_json_kb_per_study']:.1f} kB/study"
    )
    print(
        f"  search latency: p50 {result['search_p50_ms']:.2f} ms, "
        f"p95 {result['search_p95_ms']:.2f} ms, "
        f"max {result['search_max_ms']:.2f} ms ({result['mean_hits']:.1f} hits/query)"
    )
    print(f"  point lookup (get, raw → Study): {result['get_ms']:.2f} ms")
    print(f"  peak memory (max RSS): {result['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
