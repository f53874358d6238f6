"""Benchmark: one patient against a realistic trial store, new engine against the old, one run.

    python benchmarks/bench_matching.py [--quick] [--old-src DIR] [--base-src DIR]

Studies come from ``realistic_studies.py`` (criteria recombined from real registry text: ~3.6
distinct criterion texts per study, real spread of sites per study, real status mix). Each
engine runs in its own process (``engine_driver.py``) on the same studies: it imports them
through its store (criteria parsed as a sync does), then answers ``trials match`` queries as
that version does (a fresh store handle per query): the first query of the process (cold),
warm queries for other patients (results cache cleared: every criterion judged afresh), and
the same patient again (cached). CPU seconds are reported beside wall time because the
benchmark machine is shared.

The old engine is the tree at commit e1c772d (before issue 14), extracted with
``git archive`` into a temporary directory (or given with ``--old-src``). ``--base-src`` adds a
third engine run on every store size (e.g. the main branch before a change: ``git worktree add
--detach DIR COMMIT`` and pass ``DIR/src``), reported with ratios base/new.

Sizes: full - 5,000 myeloma studies (old and new) and 50,000 mixed studies (new only: the old
engine parses every study, so its indexing is extrapolated from its per-study cost); --quick -
300 myeloma studies (old and new) and 3,000 mixed (new only), under a minute. Mixed stores have
10% plasma-cell studies (the registry has ~1%: this is the harder case). Indexing is
extrapolated to 560,000 registry studies with 1% plasma-cell studies from the measured
per-study costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from realistic_studies import write_jsonl  # noqa: E402

OLD_COMMIT = "e1c772d"
REGISTRY = 560_000
REGISTRY_PLASMA_SHARE = 0.01
MIXED_SHARE = 0.10


def old_source(tmp: Path, given: str | None) -> Path | None:
    if given:
        return Path(given)
    dest = tmp / "old-engine"
    dest.mkdir()
    try:
        archive = subprocess.run(
            ["git", "-C", str(HERE.parent), "archive", OLD_COMMIT, "src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"(old engine not available: {exc}; new engine only)")
        return None
    return dest / "src"


def run_engine(src: Path | None, jsonl: Path, db: Path, reps: int) -> dict[str, Any]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out = subprocess.run(
        [sys.executable, str(HERE / "engine_driver.py"), str(jsonl), str(db), str(reps)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def ratio(old: float | None, new: float) -> str:
    return f"{old / new:,.1f}x" if old is not None and new > 0 else "-"


def report(label: str, runs: dict[str, dict[str, Any] | None]) -> None:
    """One column per engine run (old, base, new) and ratios of each against new."""
    new = runs["new"]
    assert new is not None
    others = [k for k, v in runs.items() if k != "new" and v is not None]
    print(f"-- {label}: {new['studies']:,} studies, {new['judged']:,} candidates judged")
    head = "".join(f"{k:>10}" for k in [*others, "new"])
    head += "".join(f"{k + '/new':>10}" for k in others)
    print(f"  {'(ms unless noted)':<34}{head}")

    def line(name: str, values: dict[str, float | None], fmt: Any, inverse: bool = False) -> None:
        n = values["new"]
        cells = "".join(f"{fmt(values[k]) if values[k] is not None else '-':>10}" for k in others)
        cells += f"{fmt(n) if n is not None else '-':>10}"
        for k in others:
            o = values[k]
            if o is None or n is None:
                cells += f"{'-':>10}"
            else:
                cells += f"{ratio(n, o) if inverse else ratio(o, n):>10}"
        print(f"  {name:<34}{cells}")

    for name, key in [
        ("cold query, wall", "cold_s"),
        ("cold query, CPU", "cold_cpu_s"),
        ("warm query p50, wall", "warm_p50_s"),
        ("warm query p95, wall", "warm_p95_s"),
        ("warm query p50, CPU", "warm_cpu_p50_s"),
        ("warm query p95, CPU", "warm_cpu_p95_s"),
        ("same patient again, CPU", "repeat_cpu_s"),
    ]:
        line(name, {k: (v or {}).get(key) for k, v in runs.items() if k == "new" or v}, ms)
    line(
        "indexing, studies per CPU second",
        {k: v["studies"] / v["index_cpu_s"] for k, v in runs.items() if v},
        lambda x: f"{x:,.0f}",
        inverse=True,
    )
    line(
        "store on disk, MiB",
        {k: v["db_bytes"] / 2**20 for k, v in runs.items() if v},
        lambda x: f"{x:,.1f}",
    )
    line(
        "process peak RSS, MiB",
        {k: v["peak_rss_mib"] for k, v in runs.items() if v},
        lambda x: f"{x:,.0f}",
    )
    if "criteria_bytes" in new:
        c = new["criteria_bytes"]
        print(
            f"  parsed criteria: {c['per_study_json'] / 2**20:,.1f} MiB as JSON per study, "
            f"{c['distinct_json'] / 2**20:,.1f} MiB once per distinct criterion "
            f"({c['distinct']:,}), {c['stored'] / 2**20:,.1f} MiB stored (zlib)"
        )


def extrapolate(engine: str, mm: dict[str, Any], mixed: dict[str, Any], mixed_share: float) -> None:
    """Per-study CPU and bytes for plasma-cell and other studies, from a myeloma-only and a
    mixed store, scaled to the registry."""
    t_mm = mm["index_cpu_s"] / mm["studies"]
    b_mm = mm["db_bytes"] / mm["studies"]
    t_mix = mixed["index_cpu_s"] / mixed["studies"]
    b_mix = mixed["db_bytes"] / mixed["studies"]
    t_other = max(0.0, (t_mix - mixed_share * t_mm) / (1 - mixed_share))
    b_other = max(0.0, (b_mix - mixed_share * b_mm) / (1 - mixed_share))
    n_mm = REGISTRY * REGISTRY_PLASMA_SHARE
    n_other = REGISTRY - n_mm
    seconds = n_mm * t_mm + n_other * t_other
    size = n_mm * b_mm + n_other * b_other
    print(
        f"  {engine}: {t_mm * 1000:,.1f} ms CPU per plasma-cell study, "
        f"{t_other * 1000:,.2f} ms per other study -> {REGISTRY:,} studies "
        f"({REGISTRY_PLASMA_SHARE:.0%} plasma-cell): {seconds / 60:,.1f} min CPU, "
        f"{size / 2**30:,.2f} GiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--old-src", help="src directory of the old engine (default: git)")
    parser.add_argument("--base-src", help="src directory of a third engine, run on every size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as name:
        tmp = Path(name)
        old_src = old_source(tmp, args.old_src)
        base_src = Path(args.base_src) if args.base_src else None
        new_src = HERE.parent / "src"
        if args.quick:
            plan = [("myeloma", 300, 1.0, True, 5), ("mixed", 3_000, MIXED_SHARE, False, 5)]
        else:
            plan = [
                ("myeloma", 5_000, 1.0, True, 10),
                ("mixed", 50_000, MIXED_SHARE, False, 10),
            ]
        results: dict[tuple[str, int], dict[str, dict[str, Any] | None]] = {}
        for kind, n, share, with_old, reps in plan:
            jsonl = tmp / f"{kind}-{n}.jsonl"
            distinct = write_jsonl(jsonl, n, myeloma_share=share)
            runs: dict[str, dict[str, Any] | None] = {
                "old": (
                    run_engine(old_src, jsonl, tmp / f"old-{kind}-{n}.db", reps)
                    if with_old and old_src is not None
                    else None
                ),
                "base": (
                    run_engine(base_src, jsonl, tmp / f"base-{kind}-{n}.db", reps)
                    if base_src is not None
                    else None
                ),
                "new": run_engine(new_src, jsonl, tmp / f"new-{kind}-{n}.db", reps),
            }
            for db in tmp.glob(f"*-{kind}-{n}.db*"):
                db.unlink()
            label = f"{kind} ({share:.0%} plasma-cell), {distinct:,} distinct criterion texts"
            report(label, runs)
            results[(kind, n)] = runs
            jsonl.unlink()
        print(f"-- indexing extrapolated to the registry ({REGISTRY:,} studies)")
        mm = next(v for k, v in results.items() if k[0] == "myeloma")
        mixed = [v for k, v in results.items() if k[0] == "mixed"][-1]
        for engine in ("new", "base"):
            a, b = mm[engine], mixed[engine]
            if a is not None and b is not None:
                extrapolate(engine, a, b, MIXED_SHARE)
        if mm["old"] is not None:
            extrapolate("old", mm["old"], mm["old"], 0.0)


if __name__ == "__main__":
    main()
