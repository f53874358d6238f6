"""A small fake of the ClinicalTrials.gov API v2 on 127.0.0.1, for tests (stdlib http.server).

Serves ``/api/v2/version`` and ``/api/v2/studies`` from the recorded-shape records in
``data/ctgov/studies.json``, the way the real API answers: ``query.cond`` (words matched in
conditions, keywords and titles), ``filter.overallStatus`` (``|``-separated),
``filter.advanced=AREA[LastUpdatePostDate]RANGE[date,MAX]``, ``pageSize`` (default 10,
at most 1000), an opaque ``nextPageToken`` and ``totalCount`` on the first page when
``countTotal=true``. An unknown page token is a 400, as the real API answers an expired one.

``go_offline_after(n)`` makes every request after the n-th ``/studies`` page fail with 503
until ``back_online()`` (a connection that drops halfway through an update).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "data" / "ctgov" / "studies.json"
API_VERSION = {"apiVersion": "2.0.5", "dataTimestamp": "2026-12-03T09:00:05"}


def load_studies() -> list[dict[str, Any]]:
    studies: list[dict[str, Any]] = json.loads(DATA.read_text("utf-8"))["studies"]
    return studies


def _ident(study: dict[str, Any]) -> dict[str, Any]:
    ident: dict[str, Any] = study["protocolSection"]["identificationModule"]
    return ident


def _matches_cond(study: dict[str, Any], cond: str) -> bool:
    p = study["protocolSection"]
    text = " ".join([
        *p.get("conditionsModule", {}).get("conditions", []),
        *p.get("conditionsModule", {}).get("keywords", []),
        _ident(study).get("briefTitle", ""),
        _ident(study).get("officialTitle", ""),
    ]).lower()
    return all(word in text for word in cond.lower().split())


def _updated_since(study: dict[str, Any], advanced: str) -> bool:
    prefix = "AREA[LastUpdatePostDate]RANGE["
    if not advanced.startswith(prefix):
        return True
    low = advanced[len(prefix):].split(",", 1)[0]
    status = study["protocolSection"]["statusModule"]
    posted = str(status.get("lastUpdatePostDateStruct", {}).get("date", ""))
    return posted >= low


class FakeCtgov:
    def __init__(self, studies: list[dict[str, Any]] | None = None) -> None:
        self.studies = studies if studies is not None else load_studies()
        self.requests: list[str] = []
        self.pages_served = 0
        self.delay_s = 0.0  # a slow link: each /studies page waits this long
        self._offline_after: int | None = None
        self._tokens: dict[str, tuple[str, int]] = {}  # token -> (query key, offset)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/v2"

    def start(self) -> FakeCtgov:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def go_offline_after(self, pages: int) -> None:
        with self._lock:
            self._offline_after = self.pages_served + pages

    def back_online(self) -> None:
        with self._lock:
            self._offline_after = None

    def set_status(self, nct_id: str, status: str, posted: str) -> None:
        """Change a study as the registry would (status and last-update date)."""
        for study in self.studies:
            if _ident(study)["nctId"] == nct_id:
                module = study["protocolSection"]["statusModule"]
                module["overallStatus"] = status
                module["lastUpdatePostDateStruct"] = {"date": posted, "type": "ACTUAL"}

    # ------------------------------------------------------------------ answering
    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        one = {k: v[-1] for k, v in query.items()}
        if path == "/api/v2/version":
            return 200, API_VERSION
        if path.startswith("/api/v2/studies/"):
            nct = path.rsplit("/", 1)[-1].upper()
            for study in self.studies:
                if _ident(study)["nctId"] == nct:
                    return 200, study
            return 404, {"message": f"study {nct} not found"}
        if path != "/api/v2/studies":
            return 404, {"message": "not found"}
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            if self._offline_after is not None and self.pages_served >= self._offline_after:
                return 503, {"message": "Service Unavailable"}
        try:
            size = min(1000, max(1, int(one.get("pageSize", "10"))))
        except ValueError:
            return 400, {"message": "pageSize must be an integer"}
        key = json.dumps({k: v for k, v in sorted(one.items()) if k != "pageToken"})
        offset = 0
        token = one.get("pageToken")
        if token:
            with self._lock:
                found = self._tokens.get(token)
            if found is None or found[0] != key:
                return 400, {"message": "invalid or expired pageToken"}
            offset = found[1]
        statuses = set(filter(None, one.get("filter.overallStatus", "").split("|")))
        hits = [
            s for s in self.studies
            if (not one.get("query.cond") or _matches_cond(s, one["query.cond"]))
            and (not statuses
                 or s["protocolSection"]["statusModule"]["overallStatus"] in statuses)
            and _updated_since(s, one.get("filter.advanced", ""))
        ]
        hits.sort(key=lambda s: str(_ident(s)["nctId"]))
        page = hits[offset:offset + size]
        body: dict[str, Any] = {"studies": copy.deepcopy(page)}
        if offset + size < len(hits):
            nxt = hashlib.sha256(f"{key}|{offset + size}".encode()).hexdigest()[:24]
            with self._lock:
                self._tokens[nxt] = (key, offset + size)
            body["nextPageToken"] = nxt
        if not token and one.get("countTotal") == "true":
            body["totalCount"] = len(hits)
        with self._lock:
            self.pages_served += 1
        return 200, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fake.requests.append(self.path)
                status, body = fake.answer(parts.path, parse_qs(parts.query))
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet tests

        return Handler


@contextmanager
def running() -> Iterator[FakeCtgov]:
    fake = FakeCtgov().start()
    try:
        yield fake
    finally:
        fake.stop()


__all__ = ["API_VERSION", "FakeCtgov", "load_studies", "running"]
