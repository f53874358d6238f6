"""Saved-profile store throughput: SQLite vs PostgreSQL, plain vs AES-GCM per record.

For each backend and cipher setting: profiles saved per second (one transaction each, the
way the web app writes), profiles read per second (``get`` by id, decrypt and validate),
and the bytes one stored record takes. PostgreSQL is a throwaway local server
(``myelonav.store.pgtest``) with fsync off, like the tests: it measures the code path, not
the disk; SQLite runs with its normal durability. ``--quick`` is a smoke run.

    python benchmarks/bench_store.py [--quick] [--profiles N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from myelonav.samples import sample_ids, sample_profile
from myelonav.store import pgtest
from myelonav.store.crypto import RecordCipher, new_key, parse_key
from myelonav.store.profiles import ProfileStore


def run(url: str, cipher: RecordCipher | None, n: int) -> tuple[float, float, int]:
    store = ProfileStore(url, cipher=cipher)
    records = [sample_profile(i) for i in sample_ids()]
    start = time.perf_counter()
    ids = [store.create(records[i % len(records)], "sample").id for i in range(n)]
    saved_rate = n / (time.perf_counter() - start)
    order = random.Random(7).sample(ids, len(ids))
    start = time.perf_counter()
    for pid in order:
        assert store.get(pid) is not None
    read_rate = n / (time.perf_counter() - start)
    with store.engine.connect() as conn:
        size = conn.exec_driver_sql(
            "SELECT record_json FROM saved_profiles LIMIT 1").scalar_one()
    store.close()
    return saved_rate, read_rate, len(size.encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profiles", type=int, default=500)
    args = parser.parse_args()
    n = 40 if args.quick else args.profiles
    cipher = RecordCipher(parse_key(new_key()))
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    pg = pgtest.start() if pgtest.available() is None else None
    try:
        print(f"{'backend':<11} {'cipher':<8} {'saved/s':>9} {'read/s':>9} {'bytes/record':>13}")
        for backend in ("sqlite", "postgresql"):
            for label, c in (("plain", None), ("aes-gcm", cipher)):
                if backend == "sqlite":
                    url = f"sqlite:///{folder / f'{label}.sqlite3'}"
                elif pg is not None:
                    url = pg.create_database(f"bench_{label.replace('-', '_')}")
                else:
                    print(f"{backend:<11} {label:<8} skipped: {pgtest.available()}")
                    continue
                saved, read, size = run(url, c, n)
                print(f"{backend:<11} {label:<8} {saved:>9.0f} {read:>9.0f} {size:>13}")
    finally:
        if pg is not None:
            pg.stop()
    print(f"({n} profiles each; sample records of about 2-3 KB of JSON)")


if __name__ == "__main__":
    main()
