"""Fuzz the C-CDA importer: uncaught exceptions, hangs, slow cases, unreadable profiles.

    python benchmarks/fuzz_ccda.py [--cases 20000] [--seed 17] [--quick]

Mutates the test documents in tests/patient/ccda/data with the grammar in
``myelonav.patient.ccda._fuzz`` (XML attacks, values, structure, bytes) and imports each case.
Every case must end in a record or a ``MyelonavError`` with a location, within 1 s of CPU; a
record must save and read back unchanged. Also times the refusal of the XML bombs. Exits 1 on
any uncaught exception, hang or unreadable profile.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType

from myelonav.errors import MyelonavError
from myelonav.patient.ccda import import_ccda
from myelonav.patient.ccda._fuzz import MUTATIONS, cases
from myelonav.patient.profile_io import dump_profile, parse_profile_text

AS_OF = dt.date(2026, 11, 25)
DATA = Path(__file__).resolve().parents[1] / "tests" / "patient" / "ccda" / "data"
HANG_SECONDS = 10
SLOW_SECONDS = 1.0


class Hang(Exception):
    pass


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--quick", action="store_true", help="1,000 cases")
    args = parser.parse_args()
    count = 1_000 if args.quick else args.cases
    seeds = [p.read_bytes() for p in sorted(DATA.glob("*.xml"))]
    if not seeds:
        print(f"no seed documents in {DATA}", file=sys.stderr)
        return 2

    bombs = {}
    for attack in ("entities", "quadratic", "external", "deep"):
        raw = MUTATIONS[attack](random.Random(0), seeds[0])
        start = time.perf_counter()
        try:
            import_ccda(raw, source="bomb.xml", as_of=AS_OF)
            outcome = "IMPORTED (bad)"
        except MyelonavError:
            outcome = "refused"
        bombs[attack] = (outcome, time.perf_counter() - start)

    signal.signal(signal.SIGALRM, _alarm)
    outcomes: collections.Counter[str] = collections.Counter()
    uncaught: list[str] = []
    slow: list[tuple[float, str]] = []
    unreadable: list[str] = []
    no_location = 0
    total_start = time.perf_counter()
    cpu_max = 0.0
    for index, (name, raw) in enumerate(cases(seeds, count, seed=args.seed)):
        signal.alarm(HANG_SECONDS)
        cpu = time.process_time()
        try:
            report = import_ccda(raw, source="fuzz.xml", as_of=AS_OF)
            text = dump_profile(report.record)
            try:
                again = parse_profile_text(text, "again")
                if again.model_dump() != report.record.model_dump():
                    unreadable.append(f"#{index} {name}: reads back different")
            except MyelonavError as exc:
                unreadable.append(f"#{index} {name}: {exc}")
            outcomes["imported"] += 1
        except MyelonavError as exc:
            outcomes["refused"] += 1
            no_location += exc.location is None
        except Hang:
            outcomes["hang"] += 1
            slow.append((float(HANG_SECONDS), f"#{index} {name} HANG"))
        except Exception:
            outcomes["uncaught"] += 1
            uncaught.append(f"#{index} {name}: {traceback.format_exc(limit=3)}")
        finally:
            signal.alarm(0)
        used = time.process_time() - cpu
        cpu_max = max(cpu_max, used)
        if used > SLOW_SECONDS:
            slow.append((used, f"#{index} {name}"))
    wall = time.perf_counter() - total_start

    print(f"C-CDA fuzz: {count} cases, seed {args.seed}, {len(seeds)} seed documents")
    for attack, (outcome, seconds) in bombs.items():
        print(f"  XML attack {attack:10s}: {outcome} in {seconds * 1000:.1f} ms")
    print(
        f"  imported {outcomes['imported']}, refused with an error {outcomes['refused']} "
        f"({no_location} without a location), uncaught {outcomes['uncaught']}, "
        f"hangs (> {HANG_SECONDS} s) {outcomes['hang']}"
    )
    print(
        f"  cases over {SLOW_SECONDS} s CPU: {len(slow)}; slowest case {cpu_max * 1000:.0f} ms CPU"
    )
    print(f"  profiles that cannot be read back: {len(unreadable)}")
    print(f"  wall time {wall:.1f} s ({count / wall:.0f} cases/s)")
    for line in (uncaught + [s for _, s in sorted(slow, reverse=True)] + unreadable)[:10]:
        print("   ", line.strip().replace("\n", "\n    "))
    bad = outcomes["uncaught"] + outcomes["hang"] + len(unreadable) + no_location
    bad += sum(1 for outcome, _ in bombs.values() if outcome != "refused")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
