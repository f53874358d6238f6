"""Rendered pages and API answers kept per profile revision and trial-store version.

The options, trials and questions pages (and their API twins) are pure functions of the
saved profile, the trial store, the day, the query string and who asks. So the finished
response is kept, keyed on all of these:

* the profile's revision: a digest of its stored row (the sealed record, label, update
  time), read without decrypting. Any edit writes a new row (AES-GCM seals with a fresh
  nonce), so an edited profile is a new key: the next request renders afresh;
* the trial store's version (every write to the store changes it);
* today's date (pages reason "as of today"), the path and query string, the principal and
  a digest of the Cookie header (the session, and so its CSRF token in forms).

Access is still checked and audited on every hit, exactly as a read of the profile would
be (``ScopedStore.check_read``), so a cached page is never shown to someone who may no
longer read it. Any POST/PUT/PATCH/DELETE naming a profile drops that profile's pages.
Only 200 responses without ``Set-Cookie`` are kept; the cache is an LRU bounded in bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myelonav.store.profiles import ProfileRow
from myelonav.web.security import API_PREFIX

PAGE_PREFIX = "/p/"
API_PROFILES = API_PREFIX + "/profiles/"
# what may be kept: GET pages and API answers that only read the profile and the store
CACHED_PAGES = frozenset({"options", "trials", "questions"})
CACHED_API = frozenset({"options", "trials", "questions"})
ID_LEN = 32
_HEX = frozenset("0123456789abcdef")


def cached_route(path: str) -> tuple[str, str] | None:
    """(profile id, route template) when ``path`` is a page or API answer kept here."""
    if path.startswith(PAGE_PREFIX):
        prefix, names, template = PAGE_PREFIX, CACHED_PAGES, "/p/{profile_id}/"
    elif path.startswith(API_PROFILES):
        prefix, names, template = API_PROFILES, CACHED_API, API_PROFILES + "{profile_id}/"
    else:
        return None
    rest = path[len(prefix) :]
    pid, slash, name = rest[:ID_LEN], rest[ID_LEN : ID_LEN + 1], rest[ID_LEN + 1 :]
    if len(pid) != ID_LEN or not set(pid) <= _HEX or slash != "/" or name not in names:
        return None
    return pid, template + name


def profile_in_path(path: str) -> str | None:
    """The profile id a request names (``/p/{id}...`` or ``/api/v1/profiles/{id}...``)."""
    for prefix in (PAGE_PREFIX, API_PROFILES):
        if path.startswith(prefix):
            pid = path[len(prefix) : len(prefix) + ID_LEN]
            if len(pid) == ID_LEN and set(pid) <= _HEX:
                return pid
    return None


@dataclass(frozen=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    evicted: int = 0
    invalidated: int = 0


@dataclass
class PageCache:
    """Thread-safe LRU of responses, bounded by total bytes and by entry count."""

    max_bytes: int = 64 * 1024 * 1024
    max_entries: int = 2048
    max_entry_bytes: int = 4 * 1024 * 1024
    stats: CacheStats = field(default_factory=CacheStats)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[object, ...], tuple[str, CachedResponse]] = OrderedDict()
        self._by_profile: dict[str, set[tuple[object, ...]]] = {}
        self._bytes = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[object, ...]) -> CachedResponse | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.stats.misses += 1
                return None
            self._items.move_to_end(key)
            self.stats.hits += 1
            return hit[1]

    def put(self, profile_id: str, key: tuple[object, ...], response: CachedResponse) -> bool:
        size = response.size
        if size > min(self.max_entry_bytes, self.max_bytes):
            return False
        with self._lock:
            self._drop(key)
            self._items[key] = (profile_id, response)
            self._by_profile.setdefault(profile_id, set()).add(key)
            self._bytes += size
            self.stats.stored += 1
            while self._items and (
                self._bytes > self.max_bytes or len(self._items) > self.max_entries
            ):
                oldest = next(iter(self._items))
                self._drop(oldest)
                self.stats.evicted += 1
        return True

    def invalidate(self, profile_id: str) -> int:
        """Forget every kept answer for this profile; how many were dropped."""
        with self._lock:
            keys = self._by_profile.pop(profile_id, set())
            for key in keys:
                self._drop(key)
            self.stats.invalidated += len(keys)
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._by_profile.clear()
            self._bytes = 0

    def _drop(self, key: tuple[object, ...]) -> None:
        old = self._items.pop(key, None)
        if old is None:
            return
        pid, response = old
        self._bytes -= response.size
        keys = self._by_profile.get(pid)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_profile[pid]


def trial_store_version(path: Path) -> str:
    """The store's version stamp, read without opening the store (no seeding, no schema
    work); "" when there is no store yet (the first real request creates it, which changes
    the version)."""
    if not path.exists():
        return ""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return ""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    except sqlite3.Error:
        return ""
    finally:
        conn.close()
    return "" if row is None else str(row[0])


Revision = Callable[[str], tuple[str, str | None, str | None] | None]
# (scope, profile id, its team, its owner) -> may read (and the read is audited)
ReadCheck = Callable[[Scope, str, str | None, str | None], bool]


def row_revision(engine: Any) -> Revision:
    """(digest, team, owner) of a stored profile row, without decrypting it; None if absent."""

    def revision(profile_id: str) -> tuple[str, str | None, str | None] | None:
        stmt = select(
            ProfileRow.record_json,
            ProfileRow.updated_at,
            ProfileRow.label,
            ProfileRow.sample,
            ProfileRow.team_id,
            ProfileRow.owner_id,
        ).where(ProfileRow.id == profile_id)
        with engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        digest = hashlib.sha256()
        for part in row[:4]:
            digest.update(repr(part).encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return digest.hexdigest(), row[4], row[5]

    return revision


class PageCacheMiddleware:
    """Pure ASGI middleware; sits inside authentication, outside the heavy-request gate."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: PageCache,
        trials_db: Path,
        revision: Revision,
        check_read: ReadCheck,
    ) -> None:
        self.app = app
        self.cache = cache
        self.trials_db = trials_db
        self.revision = revision
        self.check_read = check_read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        method = scope.get("method")
        if method != "GET":
            pid = profile_in_path(path)
            if pid is not None and method in ("POST", "PUT", "PATCH", "DELETE"):
                self.cache.invalidate(pid)  # before: a page rendered after it is fresh
                try:
                    await self.app(scope, receive, send)
                finally:
                    self.cache.invalidate(pid)  # and after: none rendered during it stays
                return
            await self.app(scope, receive, send)
            return
        found = cached_route(path)
        if found is None:
            await self.app(scope, receive, send)
            return
        pid, template = found
        key, hit = await run_in_threadpool(self._lookup, scope, pid)
        if hit is not None:
            scope["route"] = SimpleNamespace(path_format=template + " (cached)")
            await send(
                {"type": "http.response.start", "status": hit.status, "headers": list(hit.headers)}
            )
            await send({"type": "http.response.body", "body": hit.body})
            return
        if key is None:  # no such profile (the route answers 404), or not this principal's
            await self.app(scope, receive, send)
            return
        await self._render_and_keep(scope, receive, send, pid, key)

    def _lookup(
        self, scope: Scope, pid: str
    ) -> tuple[tuple[object, ...] | None, CachedResponse | None]:
        """(key, kept answer): one trip off the event loop for the revision, the store
        version, the look-up and, on a hit, the access check and its audit entry."""
        rev = self.revision(pid)
        if rev is None:
            return None, None
        digest, team_id, owner_id = rev
        headers = Headers(scope=scope)
        cookie = hashlib.sha256(headers.get("cookie", "").encode("latin-1")).hexdigest()
        who = scope.get("state", {}).get("principal")
        who_key = (
            getattr(who, "user_id", None),
            getattr(who, "role", None),
            getattr(who, "team_id", None),
        )
        key = (
            str(scope.get("path")),
            scope.get("query_string", b""),
            who_key,
            cookie,
            digest,
            trial_store_version(self.trials_db),
            dt.date.today().isoformat(),
            headers.get("accept", ""),
        )
        hit = self.cache.get(key)
        if hit is None:
            return key, None
        if not self.check_read(scope, pid, team_id, owner_id):
            return None, None  # the route gives the refusal its usual shape
        return key, hit

    async def _render_and_keep(
        self, scope: Scope, receive: Receive, send: Send, pid: str, key: tuple[object, ...]
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True
        size = 0

        async def capture(message: Message) -> None:
            nonlocal start, keep, size
            if message["type"] == "http.response.start":
                start = message
                names = {k.lower() for k, _ in message.get("headers", [])}
                keep = message["status"] == 200 and b"set-cookie" not in names
            elif message["type"] == "http.response.body" and keep:
                size += len(message.get("body", b""))
                if size > self.cache.max_entry_bytes:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and keep and start is not None:
                    self.cache.put(
                        pid,
                        key,
                        CachedResponse(
                            int(start["status"]),
                            tuple((bytes(k), bytes(v)) for k, v in start.get("headers", [])),
                            b"".join(chunks),
                        ),
                    )
            await send(message)

        await self.app(scope, receive, capture)


__all__ = [
    "CACHED_API",
    "CACHED_PAGES",
    "CacheStats",
    "CachedResponse",
    "PageCache",
    "PageCacheMiddleware",
    "ReadCheck",
    "cached_route",
    "profile_in_path",
    "row_revision",
    "trial_store_version",
]
