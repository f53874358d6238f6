"""How the trial store's backend was chosen: SQLite + FTS5 against DuckDB and bm25s.

Not part of ``make bench`` (it needs ``duckdb`` and ``bm25s``, which myelonav does not depend
on). Run it in an environment that has them, e.g.::

    python -m venv /tmp/cmp && /tmp/cmp/bin/pip install duckdb bm25s
    PYTHONPATH=src:.venv/lib/python3.11/site-packages /tmp/cmp/bin/python \
        benchmarks/compare_trials_backends.py [--quick]

Same generated studies for every engine (see ``bench_trials_store.generate``). Measures bulk
load throughput, disk size, point lookup, a filter query and full-text latency.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trials_store import generate, percentile

from myelonav.trials.models import Study
from myelonav.trials.sqlite_store import FIELD_WEIGHTS, SqliteTrialStore
from myelonav.trials.store import SearchQuery, StudyRecord

TEXTS = [
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


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def latencies(fn: Any, queries: list[Any]) -> tuple[float, float]:
    fn(queries[0])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), percentile(times, 95)


def sqlite_side(studies: list[StudyRecord], tmp: Path, queries: list[str]) -> dict[str, Any]:
    store = SqliteTrialStore(tmp / "s.sqlite3")
    t0 = time.perf_counter()
    for i in range(0, len(studies), 2000):
        store.import_studies(studies[i : i + 2000], source="cmp")
    load = time.perf_counter() - t0
    ids = [s.study.nct_id for s in studies]
    rng = random.Random(3)
    t0 = time.perf_counter()
    for _ in range(1000):
        store.get_raw(rng.choice(ids))
    get_ms = time.perf_counter() - t0
    fts = latencies(lambda q: store.search(SearchQuery(text=q)), queries)
    filt = latencies(
        lambda q: store.search(SearchQuery(statuses=["RECRUITING"], drug_classes=["bispecific"])),
        queries,
    )
    size = store.size_bytes()
    store.close()
    return {
        "load_per_s": len(studies) / load,
        "mb": size / 1e6,
        "get_ms": get_ms,
        "fts_p50": fts[0],
        "fts_p95": fts[1],
        "filter_p50": filt[0],
        "filter_p95": filt[1],
    }


def duckdb_side(studies: list[StudyRecord], tmp: Path) -> dict[str, Any]:
    import duckdb
    import polars as pl

    path = tmp / "d.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE studies (nct_id VARCHAR PRIMARY KEY, title VARCHAR, status VARCHAR, "
        "classes VARCHAR, raw BLOB, criteria VARCHAR)"
    )
    t0 = time.perf_counter()
    for i in range(0, len(studies), 2000):
        chunk = studies[i : i + 2000]
        frame = pl.DataFrame(
            {
                "nct_id": [r.study.nct_id for r in chunk],
                "title": [r.study.brief_title for r in chunk],
                "status": [r.study.overall_status for r in chunk],
                "classes": ["|" + "|".join(r.study.drug_classes) + "|" for r in chunk],
                "raw": [zlib.compress(json.dumps(r.raw).encode(), 3) for r in chunk],
                "criteria": [r.study.eligibility.criteria_text for r in chunk],
            }
        )
        con.register("chunk", frame)
        con.execute("INSERT INTO studies SELECT * FROM chunk")
        con.unregister("chunk")
    load = time.perf_counter() - t0
    ids = [s.study.nct_id for s in studies]
    rng = random.Random(3)
    t0 = time.perf_counter()
    for _ in range(1000):
        con.execute("SELECT raw FROM studies WHERE nct_id = ?", [rng.choice(ids)]).fetchone()
    get_ms = time.perf_counter() - t0
    filt = latencies(
        lambda q: con.execute(
            "SELECT nct_id FROM studies WHERE status = 'RECRUITING' "
            "AND classes LIKE '%|bispecific|%' "
            "LIMIT 20"
        ).fetchall(),
        TEXTS,
    )
    fts = "available"
    try:
        con.execute("LOAD fts")
    except Exception as exc:
        fts = f"unavailable offline ({type(exc).__name__})"
    con.execute("CHECKPOINT")
    con.close()
    return {
        "load_per_s": len(studies) / load,
        "mb": dir_size(path) / 1e6,
        "get_ms": get_ms,
        "filter_p50": filt[0],
        "filter_p95": filt[1],
        "fts": fts,
    }


def bm25s_side(studies: list[StudyRecord], tmp: Path, queries: list[str]) -> dict[str, Any]:
    import bm25s

    # bm25s has one field: emulate the field weights by repeating each field's text
    weights = [max(1, round(w)) for w in FIELD_WEIGHTS]
    corpus = []
    for r in studies:
        text = r.study.search_text()
        parts = [
            text["title"],
            text["conditions"],
            text["interventions"],
            text["summary"],
            text["criteria"],
        ]
        corpus.append(" ".join(" ".join([p] * w) for p, w in zip(parts, weights, strict=True)))
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(corpus, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - t0
    retriever.save(str(tmp / "bm25s"))
    t0 = time.perf_counter()
    bm25s.BM25.load(str(tmp / "bm25s"))  # what every CLI search would pay first
    load_s = time.perf_counter() - t0

    def query(q: str) -> Any:
        return retriever.retrieve(
            bm25s.tokenize([q], show_progress=False), k=20, show_progress=False
        )

    p50, p95 = latencies(query, queries)
    return {
        "index_per_s": len(studies) / index_s,
        "mb": dir_size(tmp / "bm25s") / 1e6,
        "fts_p50": p50,
        "fts_p95": p95,
        "load_ms": load_s * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--studies", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.studies or (2_000 if args.quick else 20_000)
    studies = [StudyRecord(study=Study.from_v2(r), raw=r) for r in generate(n)]
    queries = [TEXTS[i % len(TEXTS)] for i in range(100)]
    with tempfile.TemporaryDirectory(prefix="myelonav-cmp-") as tmp_name:
        tmp = Path(tmp_name)
        sq = sqlite_side(studies, tmp, queries)
        print(f"{n:,} studies")
        print(
            f"SQLite+FTS5: load {sq['load_per_s']:,.0f}/s (incl. FTS index), {sq['mb']:.1f} MB, "
            f"1000 gets {sq['get_ms'] * 1000:.0f} ms, FTS p50 {sq['fts_p50']:.2f} / p95 "
            f"{sq['fts_p95']:.2f} ms, filter p50 {sq['filter_p50']:.2f} / "
            f"p95 {sq['filter_p95']:.2f} ms"
        )
        try:
            dd = duckdb_side(studies, tmp)
            print(
                f"DuckDB: bulk load {dd['load_per_s']:,.0f}/s (no text index), {dd['mb']:.1f} MB, "
                f"1000 gets {dd['get_ms'] * 1000:.0f} ms, filter p50 {dd['filter_p50']:.2f} / "
                f"p95 {dd['filter_p95']:.2f} ms; FTS extension: {dd['fts']}"
            )
        except ImportError:
            print("DuckDB: not installed, skipped")
        try:
            bm = bm25s_side(studies, tmp, queries)
            print(
                f"bm25s: index {bm['index_per_s']:,.0f}/s (full rebuild, in memory), "
                f"{bm['mb']:.1f} MB saved, query p50 {bm['fts_p50']:.2f} / "
                f"p95 {bm['fts_p95']:.2f} ms "
                "(no filters, no incremental update; "
                f"loading the index takes {bm['load_ms']:.0f} ms)"
            )
        except ImportError:
            print("bm25s: not installed, skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
