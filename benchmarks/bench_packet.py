"""Benchmark: the second-opinion packet for a patient with 10 years of monthly labs.

    python benchmarks/bench_packet.py [--quick] [--runs N]

Generates a record (diagnosis 2016, six regimens, a transplant, a BCMA CAR T and 120 months
of blood counts, chemistry, M-protein and free light chains), then times, per run:
the plot (SVG), the HTML (context + template, which includes the plot, options, questions
and checklist), and the PDF (WeasyPrint) from that HTML. Prints p50/p95 per stage, the
end-to-end time, peak Python heap (tracemalloc, on a separate run) and the process's peak
resident memory (includes WeasyPrint's C libraries). The first run also pays import costs
and is reported on its own line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import time
import tracemalloc
from typing import Any

from myelonav.patient.models import PatientRecord
from myelonav.visit.packet import PacketInputs, html_to_pdf, render_html
from myelonav.visit.plot import render_plot

AS_OF = dt.date(2026, 11, 25)


def _month(start: dt.date, k: int) -> dt.date:
    m = start.month - 1 + k
    return dt.date(start.year + m // 12, m % 12 + 1, min(start.day, 28))


def ten_year_record(seed: int = 7) -> PatientRecord:
    rng = random.Random(seed)
    start = dt.date(2016, 12, 5)
    labs: list[dict[str, Any]] = []
    m_protein = 3.2
    for k in range(120):
        day = _month(start, k)
        # Responses and relapses: falls during therapy, rises between.
        m_protein = max(0.0, m_protein * rng.uniform(0.75, 1.25) + rng.uniform(-0.1, 0.1))
        kappa = max(1.0, 15 + 120 * m_protein * rng.uniform(0.8, 1.2))
        for analyte, value in (
            ("serum_m_protein", round(m_protein, 2)),
            ("kappa_flc", round(kappa, 1)),
            ("lambda_flc", round(rng.uniform(6, 14), 1)),
            ("hemoglobin", round(rng.uniform(9, 13), 1)),
            ("anc", round(rng.uniform(1, 4), 2)),
            ("platelets", rng.randint(80, 250)),
            ("creatinine", round(rng.uniform(0.7, 1.3), 2)),
            ("bilirubin", round(rng.uniform(0.3, 1.0), 2)),
            ("ast", rng.randint(12, 40)),
            ("alt", rng.randint(10, 40)),
            ("igg", rng.randint(300, 2500)),
            ("calcium", round(rng.uniform(8.8, 10.2), 1)),
            ("body_weight", 78.0),
        ):
            labs.append({"analyte": analyte, "date": day.isoformat(), "value": value})
    regimens = [
        (["bortezomib", "lenalidomide", "dexamethasone"], "2017-01-02", "2017-06-01", "VRd"),
        (["lenalidomide"], "2017-10-01", "2019-05-01", "lenalidomide maintenance"),
        (["daratumumab", "pomalidomide", "dexamethasone"], "2019-05-15", "2021-02-01", "DPd"),
        (["carfilzomib", "cyclophosphamide", "dexamethasone"], "2021-02-15", "2022-09-01", "KCd"),
        (["selinexor", "bortezomib", "dexamethasone"], "2022-09-15", "2024-01-10", "SVd"),
        (["teclistamab"], "2025-06-01", None, None),
    ]
    lines = [
        {
            "agents": a,
            "start": s,
            "end": e,
            "regimen": r,
            "stop_reason": "progression" if e else "ongoing",
            "refractory": bool(e),
            "best_response": "PR",
        }
        for a, s, e, r in regimens
    ]
    return PatientRecord.model_validate(
        {
            "id": "bench-ten-years",
            "demographics": {
                "birth_date": "1958-04-02",
                "sex": "male",
                "postal_code": "10016",
                "country": "US",
            },
            "diagnosis": {
                "date": "2016-12-01",
                "isotype": {"heavy_chain": "IgG", "light_chain": "kappa"},
            },
            "cytogenetics": [
                {"abnormality": "t(4;14)", "detected": True, "date": "2016-12-10"},
                {"abnormality": "del(17p)", "detected": False, "date": "2016-12-10"},
            ],
            "therapy_lines": lines,
            "transplants": [{"kind": "autologous", "date": "2017-07-20"}],
            "car_t": [
                {
                    "product": "idecabtagene vicleucel",
                    "target_antigen": "BCMA",
                    "infusion_date": "2024-03-01",
                    "crs_max_grade": 1,
                    "icans_max_grade": 0,
                }
            ],
            "labs": labs,
            "disease_sites": [
                {"kind": "bone_lesion", "location": "T8", "date": "2026-09-01", "painful": True}
            ],
        }
    )


def _pct(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=20) if len(values) >= 2 else [values[0]] * 19
    return statistics.median(values), q[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 timed runs (smoke test)")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 7)

    record = ten_year_record()
    inputs = PacketInputs(record, AS_OF, trials=[])
    print(
        f"record: {len(record.labs)} lab results over 10 years, "
        f"{len(record.therapy_lines)} regimens, 1 CAR T; {runs} timed runs"
    )

    t0 = time.perf_counter()
    html = render_html(inputs)
    html_to_pdf(html)
    print(f"first run (imports, caches):  {time.perf_counter() - t0:6.2f} s")

    stages: dict[str, list[float]] = {
        "plot (SVG)": [],
        "HTML (incl. plot)": [],
        "PDF": [],
        "end to end": [],
    }
    size = 0
    for _ in range(runs):
        s = time.perf_counter()
        render_plot(record, AS_OF, "svg")
        stages["plot (SVG)"].append(time.perf_counter() - s)
        s = time.perf_counter()
        html = render_html(inputs)
        t_html = time.perf_counter() - s
        s = time.perf_counter()
        pdf = html_to_pdf(html)
        t_pdf = time.perf_counter() - s
        size = len(pdf)
        stages["HTML (incl. plot)"].append(t_html)
        stages["PDF"].append(t_pdf)
        stages["end to end"].append(t_html + t_pdf)
    for name, values in stages.items():
        p50, p95 = _pct(values)
        print(f"{name:<28} p50 {p50:6.2f} s   p95 {p95:6.2f} s")
    print(f"PDF size: {size / 1024:.0f} KiB, HTML size: {len(html) / 1024:.0f} KiB")

    tracemalloc.start()
    html_to_pdf(render_html(inputs))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"peak Python heap (one packet): {peak / 2**20:.1f} MiB; "
        f"peak RSS of the process: {rss_kib / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
