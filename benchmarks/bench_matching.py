"""Benchmark: criteria parsing at store time, and one patient matched against many studies.

    python benchmarks/bench_matching.py [--quick]

Studies are built from the bundled sample studies with their numeric thresholds (ANC,
platelets, CrCl, time windows, line counts) varied at random, so that criteria texts are
distinct and the matcher's per-atom cache sees realistic variety. Prints:

* criteria parsing: studies/s and criteria/s on distinct texts, caches cold (store time);
* matching one sample patient against N stored studies (1,000, 5,000 and 100,000 with 5%
  myeloma studies, plus a 100,000 all-myeloma worst case; 1,000 and 5,000 with --quick):
  p50 / p95 latency over repeated runs, each with a fresh matcher; the 5,000 case is run
  a second time with the patient's location, so the distance to every recruiting site counts;
* peak Python heap (tracemalloc) of one matching run and the process peak RSS.

Parsed criteria are reused for studies beyond the distinct pool (the store parses each study
once and keeps the result, so matching never parses).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import resource
import statistics
import time
import tracemalloc

from myelonav.samples import sample_profiles
from myelonav.trials.criteria import ParsedCriteria, parse_criteria
from myelonav.trials.criteria import parser as criteria_parser
from myelonav.trials.geo import Point
from myelonav.trials.models import Study
from myelonav.trials.patient_match import match_patient
from myelonav.trials.samples import sample_studies

AS_OF = dt.date(2026, 11, 25)
NEW_YORK = Point(40.7128, -74.0060, "New York, NY")
_VARY = [
    (re.compile(r"(ANC|neutrophil count) >= \d+(?:\.\d+)?", re.I), ["1.0", "0.75", "1.5", "0.5"]),
    (re.compile(r"(platelets|platelet count) >= \d+", re.I), ["50", "75", "30", "100"]),
    (re.compile(r"(Creatinine clearance|CrCl) >= \d+", re.I), ["30", "40", "45", "60", "20"]),
    (re.compile(r"(within|at least) \d+ (days|weeks)", re.I), ["7", "14", "21", "28", "90"]),
    (re.compile(r"(at least) \d+ (prior lines?)", re.I), ["1", "2", "3", "4"]),
]


_OTHER = ["Breast Cancer", "Type 2 Diabetes", "Lymphoma", "Asthma", "Heart Failure"]


def _vary(text: str, rng: random.Random) -> str:
    for pattern, values in _VARY:

        def swap(m: re.Match[str], choices: list[str] = values) -> str:
            return re.sub(r"\d+(?:\.\d+)?", rng.choice(choices), m.group(0), count=1)

        text = pattern.sub(swap, text)
    return text


def build(
    n: int, distinct: int, seed: int = 7, myeloma_share: float = 1.0
) -> tuple[list[Study], dict[str, ParsedCriteria], float, int]:
    """N studies, their parses, and parse seconds / criteria count for the distinct pool."""
    rng = random.Random(seed)
    templates = sample_studies()
    texts = [
        _vary(templates[i % len(templates)].eligibility.criteria_text, rng) for i in range(distinct)
    ]
    criteria_parser._parse_segment_cached.cache_clear()
    criteria_parser.drug_spans.cache_clear()
    start = time.perf_counter()
    pool = [parse_criteria(t) for t in texts]
    parse_seconds = time.perf_counter() - start
    n_criteria = sum(len(p.criteria) for p in pool)
    studies: list[Study] = []
    parsed: dict[str, ParsedCriteria] = {}
    for i in range(n):
        t = templates[i % len(templates)]
        nct = f"NCT{10_000_000 + i:08d}"
        k = i % distinct
        elig = t.eligibility.model_copy(update={"criteria_text": texts[k]})
        update: dict[str, object] = {"nct_id": nct, "eligibility": elig}
        if rng.random() >= myeloma_share:  # another disease: the pre-filter drops it
            update |= {"conditions": [rng.choice(_OTHER)], "brief_title": "Other disease study"}
        studies.append(t.model_copy(update=update))
        parsed[nct] = pool[k]
    return studies, parsed, parse_seconds, n_criteria


def bench(
    n: int, distinct: int, reps: int, myeloma_share: float = 1.0, origin: Point | None = None
) -> None:
    studies, parsed, parse_s, n_criteria = build(n, distinct, myeloma_share=myeloma_share)
    share = "all myeloma" if myeloma_share >= 1 else f"{myeloma_share:.0%} myeloma"
    near = f", distance from {origin.label}" if origin is not None else ""
    print(
        f"-- {n:,} studies, {share} ({distinct:,} distinct criteria texts, {n_criteria:,} "
        f"criteria){near}"
    )
    print(
        f"   parsing (store time, cold caches): {distinct / parse_s:,.0f} studies/s, "
        f"{n_criteria / parse_s:,.0f} criteria/s"
    )
    patient = sample_profiles()[0]
    timings = []
    for _ in range(reps):
        start = time.perf_counter()
        ranked = match_patient(
            patient,
            studies,
            lambda s: parsed[s.nct_id],
            as_of=AS_OF,
            origin=origin,
            include_closed=True,
        )
        timings.append(time.perf_counter() - start)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    verdicts: dict[str, int] = {}
    for r in ranked:
        verdicts[r.match.verdict.value] = verdicts.get(r.match.verdict.value, 0) + 1
    print(
        f"   match one patient: p50 {statistics.median(timings) * 1000:,.1f} ms, "
        f"p95 {p95 * 1000:,.1f} ms over {reps} runs "
        f"({n / statistics.median(timings):,.0f} studies/s); "
        f"verdicts {verdicts}"
    )
    tracemalloc.start()
    match_patient(
        patient,
        studies,
        lambda s: parsed[s.nct_id],
        as_of=AS_OF,
        origin=origin,
        include_closed=True,
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"   peak Python heap during one match run: {peak / 2**20:,.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    # warm one-time loads (vocabulary, curated evidence) so they do not count as matching
    match_patient(
        sample_profiles()[0],
        sample_studies(),
        lambda s: parse_criteria(s.eligibility.criteria_text),
        as_of=AS_OF,
        include_closed=True,
    )
    if args.quick:
        bench(1_000, 300, reps=5)
        bench(5_000, 500, reps=3)
        bench(5_000, 500, reps=3, origin=NEW_YORK)
    else:
        bench(1_000, 1_000, reps=15)
        bench(5_000, 2_000, reps=9)
        bench(5_000, 2_000, reps=9, origin=NEW_YORK)
        bench(100_000, 2_000, reps=5, myeloma_share=0.05)
        bench(100_000, 2_000, reps=3)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
