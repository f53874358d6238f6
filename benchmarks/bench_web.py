"""Load benchmark for the web app: the options and trials pages at 50 concurrent users.

Starts ``myelonav serve`` on a free loopback port with a private data folder, saves one sample
profile, then drives ``/p/{id}/options`` and ``/p/{id}/trials`` with a real load generator:
``wrk`` (Debian package ``wrk``) when it is on PATH, else locust (headless, in-process).
Prints p50/p95 latency and throughput per page.

    python benchmarks/bench_web.py            # 30 s per page
    python benchmarks/bench_web.py --quick    # 5 s per page (make bench)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx

from myelonav.samples import sample_ids
from myelonav.web.live import LiveServer, start_server

USERS = 50
# wrk's Lua ``done`` hook prints exact percentiles (microseconds) and the error counts
_WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def run_wrk(url: str, seconds: int, users: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_WRK_LUA)
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, users)),
                "-c",
                str(users),
                "-d",
                f"{seconds}s",
                "--timeout",
                "30s",
                "-s",
                script,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    m = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    if m is None:
        raise RuntimeError(f"wrk gave no result line:\n{out}")
    requests, duration_us, p50, p95, p99, errors = (int(g) for g in m.groups())
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1e3,
        "p95_ms": p95 / 1e3,
        "p99_ms": p99 / 1e3,
        "errors": errors,
    }


def run_locust(base: str, path: str, seconds: int, users: int) -> dict[str, float]:
    import gevent  # type: ignore[import-untyped]
    from locust import HttpUser, constant, task
    from locust.env import Environment

    class Visitor(HttpUser):
        host = base
        wait_time = constant(0)

        @task
        def visit(self) -> None:
            self.client.get(path, name=path)

    env = Environment(user_classes=[Visitor])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(seconds)
    runner.quit()
    stats = env.stats.total
    return {
        "requests": stats.num_requests,
        "rps": stats.total_rps,
        "p50_ms": stats.get_response_time_percentile(0.5),
        "p95_ms": stats.get_response_time_percentile(0.95),
        "p99_ms": stats.get_response_time_percentile(0.99),
        "errors": stats.num_failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per page")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--tool", choices=("auto", "wrk", "locust"), default="auto")
    args = parser.parse_args()
    seconds = args.seconds or (5 if args.quick else 30)
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "locust"
    with tempfile.TemporaryDirectory(prefix="myelonav-bench-") as tmp:
        server: LiveServer = start_server(Path(tmp) / "home", Path(tmp) / "server.log")
        try:
            pid = httpx.post(f"{server.url}/api/v1/samples/{sample_ids()[0]}", timeout=30).json()[
                "id"
            ]
            print(
                f"bench_web: {tool}, {args.users} concurrent users, {seconds} s per page, "
                f"loopback {server.url}, SAMPLE profile"
            )
            for name in ("options", "trials"):
                path = f"/p/{pid}/{name}"
                httpx.get(server.url + path, timeout=60).raise_for_status()  # warm up
                if tool == "wrk":
                    r = run_wrk(server.url + path, seconds, args.users)
                else:
                    r = run_locust(server.url, path, seconds, args.users)
                print(
                    f"  {name:8s} {r['requests']:7.0f} requests  {r['rps']:8.1f} req/s  "
                    f"p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
                    f"p99 {r['p99_ms']:7.1f} ms  errors {r['errors']:.0f}"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
