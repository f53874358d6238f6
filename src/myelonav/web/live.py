"""Start ``myelonav serve`` in a subprocess on a free loopback port (browser tests, benchmark)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(home: Path, log_path: Path, *, timeout_s: float = 30.0,
                 env_extra: dict[str, str] | None = None) -> LiveServer:
    """Serve with ``MYELONAV_HOME=home`` (profiles and trials there) and ``env_extra`` (e.g.
    ``MYELONAV_CTGOV_BASE_URL`` of a fake API); wait until it answers."""
    port = free_port()
    env = {**os.environ, "MYELONAV_HOME": str(home), **(env_extra or {})}
    env.pop("MYELONAV_DATABASE_URL", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "myelonav.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log()[-2000:]}")
        try:
            if httpx.get(server.url + "/", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not start in {timeout_s:g} s: {server.log()[-2000:]}")


__all__ = ["LiveServer", "free_port", "start_server"]
