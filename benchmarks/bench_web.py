"""Load benchmark for the web app on a large realistic trial store, new code against old.

A store of ``--studies`` (default 5,000) realistic studies (``realistic_studies.py``: criteria
recombined from real registry text, real site and status spread, all plasma-cell studies as
a myeloma sync gives) is built once and kept under the temp folder. Each server under test
(``myelonav serve`` on a free loopback port, private data folder with a copy of the store)
gets one sample profile; then ``--users`` virtual users (default 50) each request one page
after another for ``--seconds`` per page:

    home, options, trials, questions, API options, API trials

and p50/p95/p99 per page is printed, with errors, requests per second, the server's CPU
seconds and its resident memory (all worker processes) after each of three rounds, so a
ratchet shows. ``--old PATH`` (a ``git worktree`` of the previous code) runs the same load
against that code in the same run and prints the p95 ratios.

The load generator is a small asyncio HTTP/1.1 client (keep-alive, one connection per user)
in this process: it shares the cores with the server and says how much CPU it used.
``--think MS`` adds a pause between one user's requests (0: back to back, the harshest).

    python benchmarks/bench_web.py --quick                  # 5 s per page, new code only
    python benchmarks/bench_web.py --old /work/wt/old-web   # and the old code, ratios
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from myelonav.samples import sample_ids
from myelonav.web.live import free_port

USERS = 50
PAGES = ("home", "options", "trials", "questions", "api_options", "api_trials")
TARGET_P95_MS = 100.0


def page_path(name: str, pid: str) -> str:
    return {
        "home": "/",
        "options": f"/p/{pid}/options",
        "trials": f"/p/{pid}/trials",
        "questions": f"/p/{pid}/questions",
        "api_options": f"/api/v1/profiles/{pid}/options",
        "api_trials": f"/api/v1/profiles/{pid}/trials",
    }[name]


# --- the store -------------------------------------------------------------------------------


def store_path(n: int, seed: int) -> Path:
    return Path(tempfile.gettempdir()) / "myelonav-bench-web" / f"store-{n}-{seed}.sqlite3"


def build_store(n: int, seed: int = 7) -> Path:
    """The cached store of ``n`` realistic studies (built on first use; minutes)."""
    from realistic_studies import StudyFactory

    from myelonav.trials.local import criteria_parser
    from myelonav.trials.models import Study
    from myelonav.trials.sqlite_store import SqliteTrialStore
    from myelonav.trials.store import StudyRecord

    path = store_path(n, seed)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    start = time.perf_counter()
    factory = StudyFactory(seed, 1.0)
    store = SqliteTrialStore(partial, parse_criteria=criteria_parser())
    batch: list[StudyRecord] = []
    for raw in factory.records(n):
        batch.append(StudyRecord(Study.from_v2(raw, is_sample=False), raw))
        if len(batch) == 500:
            store.import_studies(batch, source="bench")
            batch = []
    if batch:
        store.import_studies(batch, source="bench")
    store.close()
    partial.rename(path)
    print(f"  built {n} studies in {time.perf_counter() - start:.0f} s: {path}")
    return path


# --- a server ---------------------------------------------------------------------------------


@dataclass
class Server:
    label: str
    url: str
    process: subprocess.Popen[bytes]

    def processes(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_s(self) -> float:
        total = 0.0
        for p in self.processes():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_mib(self) -> float:
        total = 0
        for p in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total / 2**20

    def workers(self) -> int:
        """Worker processes (uvicorn's spawned children), or 1 for a single process."""
        spawned = [p for p in self.processes()[1:] if "spawn_main" in " ".join(p.cmdline())]
        return max(1, len(spawned))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(label: str, code: Path | None, store: Path, root: Path) -> Server:
    """``myelonav serve`` from the installed code, or from ``code/src`` (an old worktree)."""
    home = root / label / "home"
    home.mkdir(parents=True)
    shutil.copyfile(store, home / "trials.sqlite3")
    env = {**os.environ, "MYELONAV_HOME": str(home)}
    env.pop("MYELONAV_DATABASE_URL", None)
    if code is not None:
        env["PYTHONPATH"] = str(code / "src")
    port = free_port()
    log = (root / label / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "myelonav.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(code or Path.cwd()),
    )
    server = Server(label, f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{label} server exited; see {root / label / 'server.log'}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{label} server did not start")


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_cpu_s: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))]


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return -status if close else status


async def _user(
    host: str,
    port: int,
    path: str,
    until: float,
    think_s: float,
    result: Result,
    rng: random.Random,
) -> None:
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n").encode()
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    await asyncio.sleep(rng.random() * 0.2)  # do not all start in the same millisecond
    while time.monotonic() < until:
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.open_connection(host, port)
            status = await asyncio.wait_for(_request(*conn, request), 60)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            if conn is not None:
                conn[1].close()
            conn = None
            result.errors[0] = result.errors.get(0, 0) + 1
            continue
        if status < 0:  # the server closes this connection: open a new one next time
            status = -status
            conn[1].close()  # type: ignore[index]
            conn = None
        result.latencies_ms.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            result.errors[status] = result.errors.get(status, 0) + 1
        if think_s:
            await asyncio.sleep(think_s * (0.5 + rng.random()))
    if conn is not None:
        conn[1].close()


def drive(url: str, path: str, seconds: float, users: int, think_s: float) -> Result:
    host, port = url.removeprefix("http://").split(":")
    result = Result()
    rng = random.Random(1)

    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_user(host, int(port), path, until, think_s, result, rng) for _ in range(users))
        )

    t0 = time.perf_counter()
    asyncio.run(main())
    result.seconds = time.perf_counter() - t0
    return result


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_rounds(server: Server, pid: str, args: argparse.Namespace) -> dict[str, Result]:
    """Three rounds over every page; the last round's figures are reported, RSS after each."""
    last: dict[str, Result] = {}
    for name in PAGES:  # warm up: the first request of each page renders it
        r = httpx.get(server.url + page_path(name, pid), timeout=600)
        r.raise_for_status()
    print(
        f"  [{server.label}] {server.workers()} worker(s), RSS after warm-up "
        f"{server.rss_mib():.0f} MiB"
    )
    for round_no in (1, 2, 3):
        cpu0, gen0, wall0 = server.cpu_s(), _self_cpu(), time.perf_counter()
        for name in PAGES:
            before = server.cpu_s()
            last[name] = drive(
                server.url, page_path(name, pid), args.seconds, args.users, args.think / 1000
            )
            last[name].server_cpu_s = server.cpu_s() - before
        wall = time.perf_counter() - wall0
        print(
            f"  [{server.label}] round {round_no}: RSS {server.rss_mib():.0f} MiB, server CPU "
            f"{server.cpu_s() - cpu0:.1f} s, load generator CPU {_self_cpu() - gen0:.1f} s, "
            f"wall {wall:.1f} s, machine load average {os.getloadavg()[0]:.1f}"
        )
    return last


def report(label: str, results: dict[str, Result]) -> None:
    for name in PAGES:
        r = results[name]
        n = len(r.latencies_ms)
        errs = ", ".join(f"{k or 'conn'}:{v}" for k, v in sorted(r.errors.items())) or "0"
        print(
            f"  {label:4s} {name:12s} {n:6d} req {n / r.seconds:7.1f}/s  "
            f"p50 {r.pct(0.5):8.1f}  p95 {r.pct(0.95):8.1f}  p99 {r.pct(0.99):8.1f} ms  "
            f"server CPU {1000 * r.server_cpu_s / max(n, 1):5.2f} ms/req  errors {errs}"
        )


def new_profile(server: Server) -> str:
    resp = httpx.post(f"{server.url}/api/v1/samples/{sample_ids()[0]}", timeout=60)
    resp.raise_for_status()
    return str(resp.json()["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per page, 1,000 studies")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--studies", type=int, default=None)
    parser.add_argument("--think", type=float, default=0.0, help="ms between requests")
    parser.add_argument("--old", type=Path, default=None, help="worktree of the old code")
    args = parser.parse_args()
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    studies = args.studies or (1000 if args.quick else 5000)
    store = build_store(studies)
    print(
        f"bench_web: {studies} realistic studies, {args.users} concurrent users, "
        f"{args.seconds:g} s per page per round, think time {args.think:g} ms, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    runs: list[tuple[str, Path | None]] = [("new", None)]
    if args.old is not None:
        runs.insert(0, ("old", args.old))
    results: dict[str, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="myelonav-bench-web-") as tmp:
        for label, code in runs:
            server = start(label, code, store, Path(tmp))
            try:
                pid = new_profile(server)
                results[label] = run_rounds(server, pid, args)
            finally:
                server.stop()
    print("results (last of three rounds):")
    for label, res in results.items():
        report(label, res)
    if "old" in results:
        print("p95 old / new (higher is better):")
        for name in PAGES:
            old, new = results["old"][name].pct(0.95), results["new"][name].pct(0.95)
            print(f"  {name:12s} {old:9.1f} -> {new:7.1f} ms  x{old / new:8.1f}")
    worst = max(results["new"][n].pct(0.95) for n in PAGES)
    print(
        f"new code: worst p95 {worst:.1f} ms (target < {TARGET_P95_MS:g} ms): "
        f"{'met' if worst < TARGET_P95_MS else 'NOT met'}; "
        f"median of page p95s {statistics.median(results['new'][n].pct(0.95) for n in PAGES):.1f}"
        " ms"
    )


if __name__ == "__main__":
    main()
