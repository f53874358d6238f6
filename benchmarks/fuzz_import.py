"""Fuzz the FHIR importer with the mutation grammar of ``myelonav.patient.fuzzing``.

    python benchmarks/fuzz_import.py [--cases 100000] [--seed 0] [--start 0] [--show 5]

Seeds are the bundled sample bundles (and the development bundles in ../shared when present).
Reports how many cases imported, were refused with a clear error, escaped as an uncaught
exception (or reached the importer's last-resort "internal" error), wrote a profile that could
not be read back, and how many took over 1 s; then the time per case. Cases are deterministic
(``--seed``, index), so any failure printed can be replayed with ``--start INDEX --cases 1``.
Exit status 1 when any case was uncaught, internal, unreadable or over 1 s.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from types import FrameType

from myelonav.patient.fuzzing import make_case, run_case
from myelonav.samples import sample_bundle_path, sample_ids

SLOW_S = 1.0
ABORT_S = 30  # a case still running after this long is stopped and counted as a hang


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _Timeout


def _seeds(extra: Path | None) -> list[str]:
    seeds = [sample_bundle_path(i).read_text("utf-8") for i in sample_ids()]
    shared = extra or Path(__file__).resolve().parents[1].parent / "shared/data/mm-trials/bundles"
    for path in sorted(shared.glob("*.json")) if shared.is_dir() else []:
        if not path.name.endswith(".preferences.json"):
            seeds.append(path.read_text("utf-8"))
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--show", type=int, default=5, help="failures to print per kind")
    parser.add_argument(
        "--seeds-dir", type=Path, default=None, help="more seed bundles (*.json) to mutate"
    )
    args = parser.parse_args()
    seeds = _seeds(args.seeds_dir)
    signal.signal(signal.SIGALRM, _alarm)
    counts: Counter[str] = Counter()
    times: list[float] = []
    shown: Counter[str] = Counter()
    slow: list[tuple[float, int]] = []
    began = time.perf_counter()
    for index in range(args.start, args.start + args.cases):
        raw = make_case(seeds, index, args.seed)
        signal.alarm(ABORT_S)
        try:
            outcome = run_case(raw)
        except _Timeout:
            counts["hang"] += 1
            slow.append((float(ABORT_S), index))
            continue
        finally:
            signal.alarm(0)
        counts[outcome.kind] += 1
        times.append(outcome.seconds)
        if outcome.seconds > SLOW_S:
            slow.append((outcome.seconds, index))
        if (
            outcome.kind in {"uncaught", "internal", "unreadable"}
            and shown[outcome.kind] < args.show
        ):
            shown[outcome.kind] += 1
            print(f"  {outcome.kind} case {index}: {outcome.detail}", file=sys.stderr)
        done = index - args.start + 1
        if done % 5_000 == 0:
            spent = time.perf_counter() - began
            print(
                f"  ... {done:,} cases, {dict(counts)}, over {SLOW_S:g} s: {len(slow)},"
                f" {spent:.0f} s",
                file=sys.stderr,
            )
    elapsed = time.perf_counter() - began
    print(f"fuzz_import: {args.cases:,} cases (seed {args.seed}, from {args.start})", end="")
    print(f", {len(seeds)} seed bundles")
    for kind in ("imported", "refused", "uncaught", "internal", "unreadable", "hang"):
        print(f"  {kind:<10} {counts[kind]:>8,}")
    print(f"  over {SLOW_S:g} s  {len(slow):>8,}" + (f"  (slowest: {max(slow)})" if slow else ""))
    if times:
        ordered = sorted(times)
        print(
            f"  time: {elapsed:.1f} s total;"
            f" per case median {statistics.median(times) * 1000:.2f} ms,"
            f" p99 {ordered[int(0.99 * (len(ordered) - 1))] * 1000:.1f} ms,"
            f" max {ordered[-1] * 1000:.1f} ms"
        )
    bad = (
        counts["uncaught"] + counts["internal"] + counts["unreadable"] + counts["hang"] + len(slow)
    )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
