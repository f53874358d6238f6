"""At most one heavy request per core at a time; a polite 503 when too many are waiting.

Heavy requests are the ones that match trials, draw the lab plot or write the packet PDF:
each costs tens of milliseconds to seconds of CPU. Left alone, fifty of them at once share
two cores fifty ways and every page (the light ones too) waits behind them. Here they take
a slot first (``slots``, default the number of cores); up to ``queue`` more wait for one, for
at most ``wait_s`` seconds; beyond that the answer is 503 with ``Retry-After``, which a
browser shows as "busy, try again" instead of a page that never comes.

A cached page (``web.cache``) never reaches this gate: it sits inside the page cache.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from myelonav.web.security import API_PREFIX

# path endings (after /p/{id} or /api/v1/profiles/{id}) whose handlers are heavy
HEAVY_ENDINGS = ("/trials", "/questions", "/plot.svg", "/plot", "/packet.pdf")
BUSY_MESSAGE = (
    "myelonav is busy with other requests right now. Please try again in a few "
    "seconds; nothing was lost."
)


def default_slots() -> int:
    return max(1, os.cpu_count() or 1)


def is_heavy(path: str) -> bool:
    """A trials match, the questions (they match trials too), a plot or a packet."""
    if not (path.startswith("/p/") or path.startswith(API_PREFIX + "/profiles/")):
        return False
    return path.endswith(HEAVY_ENDINGS)


@dataclass
class GateStats:
    running: int = 0
    waiting: int = 0
    admitted: int = 0
    refused: int = 0
    peak_running: int = 0


class HeavyRequestGate:
    """Pure ASGI middleware: a semaphore with a bounded queue for heavy requests."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        slots: int | None = None,
        queue: int | None = None,
        wait_s: float = 10.0,
        retry_after_s: int = 2,
        stats: GateStats | None = None,
    ) -> None:
        self.app = app
        self.slots = slots if slots and slots > 0 else default_slots()
        self.queue = queue if queue is not None and queue >= 0 else 4 * self.slots
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self.stats = stats if stats is not None else GateStats()
        self._sem: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # created on first use, inside the server's event loop
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.slots)
        return self._sem

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or not is_heavy(str(scope.get("path", "")))
        ):
            await self.app(scope, receive, send)
            return
        sem = self._semaphore()
        stats = self.stats
        if sem.locked():
            if stats.waiting >= self.queue:
                stats.refused += 1
                await self._busy(scope, send)
                return
            stats.waiting += 1
            try:
                await asyncio.wait_for(sem.acquire(), self.wait_s)
            except TimeoutError:
                stats.refused += 1
                await self._busy(scope, send)
                return
            finally:
                stats.waiting -= 1
        else:
            await sem.acquire()
        stats.admitted += 1
        stats.running += 1
        stats.peak_running = max(stats.peak_running, stats.running)
        try:
            await self.app(scope, receive, send)
        finally:
            stats.running -= 1
            sem.release()

    async def _busy(self, scope: Scope, send: Send) -> None:
        path = str(scope.get("path", ""))
        if path.startswith(API_PREFIX + "/"):
            body = json.dumps({"detail": BUSY_MESSAGE, "field": None, "errors": []}).encode()
            media = b"application/json"
        else:
            body = _busy_page().encode("utf-8")
            media = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after_s).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _busy_page() -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Busy - myelonav</title></head><body><main>"
        f"<h1>Busy for a moment</h1><p>{BUSY_MESSAGE}</p>"
        '<p><a href="">Try again</a></p></main></body></html>'
    )


__all__ = [
    "BUSY_MESSAGE",
    "HEAVY_ENDINGS",
    "GateStats",
    "HeavyRequestGate",
    "default_slots",
    "is_heavy",
]
