"""A polite client for the ClinicalTrials.gov API v2: ``/studies``, ``/studies/{id}``, ``/version``.

- retries with exponential backoff on 429 (honouring ``Retry-After``), 5xx, timeouts,
  connection errors and unreadable (truncated) JSON bodies — tenacity does the looping;
- a minimum interval between requests that reach the network (cache hits are free);
- an on-disk HTTP cache (hishel 2, SQLite) for GETs, with a TTL;
- any ``httpx.BaseTransport`` can be passed in, so tests run on ``httpx.MockTransport``.

Nothing about the user is ever sent: requests carry only the study query.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from myelonav import __version__
from myelonav.errors import TrialsDataError, TrialsHTTPError
from myelonav.settings import settings

MAX_RETRY_AFTER_S = 300.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ApiVersion:
    api_version: str
    data_timestamp: str | None


@dataclass(frozen=True)
class StudiesPage:
    studies: list[dict[str, Any]]
    next_page_token: str | None
    total_count: int | None


class _Retryable(Exception):
    """A failure worth another try; ``wait_s`` is the server's Retry-After, if any."""

    def __init__(self, message: str, *, status: int | None = None, wait_s: float | None = None):
        super().__init__(message)
        self.message, self.status, self.wait_s = message, status, wait_s


class _BadBody(_Retryable):
    pass


class ThrottleTransport(httpx.BaseTransport):
    """Spaces requests that reach the network by at least ``min_interval_s``."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        min_interval_s: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner, self.min_interval_s = inner, min_interval_s
        self._sleep, self._clock = sleep, clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._last is not None:
                wait = self.min_interval_s - (self._clock() - self._last)
                if wait > 0:
                    self._sleep(wait)
            self._last = self._clock()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, min((when - now).total_seconds(), MAX_RETRY_AFTER_S))


class CtgovClient:
    """ClinicalTrials.gov API v2. Use as a context manager or call ``close()``."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        cache_path: Path | None = None,
        cache_ttl_s: float | None = None,
        timeout_s: float | None = None,
        min_interval_s: float | None = None,
        max_attempts: int | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        cfg = settings()
        self.base_url = (base_url or cfg.ctgov_base_url).rstrip("/")
        self.max_attempts = max_attempts or cfg.ctgov_max_attempts
        self.backoff_base_s, self.backoff_max_s = backoff_base_s, backoff_max_s
        self._sleep = sleep
        self.sleeps: list[float] = []  # every backoff wait, for diagnostics and tests
        inner: httpx.BaseTransport = transport or httpx.HTTPTransport(retries=0)
        throttled: httpx.BaseTransport = ThrottleTransport(
            inner,
            cfg.ctgov_min_interval_s if min_interval_s is None else min_interval_s,
            sleep=sleep,
            clock=clock,
        )
        self._storage: Any = None
        if cache_path is not None:
            import hishel
            from hishel.httpx import CacheTransport

            cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._storage = hishel.SqliteStorage(
                database_path=cache_path,
                default_ttl=cfg.http_cache_ttl_s if cache_ttl_s is None else cache_ttl_s,
            )
        timeout = httpx.Timeout(timeout_s or cfg.ctgov_timeout_s, connect=10.0)
        headers = {
            "User-Agent": f"myelonav/{__version__} (patient trial navigator)",
            "Accept": "application/json",
        }
        self._live = httpx.Client(
            transport=throttled, timeout=timeout, headers=headers, follow_redirects=True
        )
        self._http = self._live
        if self._storage is not None:
            cached = CacheTransport(next_transport=throttled, storage=self._storage)
            self._http = httpx.Client(
                transport=cached, timeout=timeout, headers=headers, follow_redirects=True
            )

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> CtgovClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not self._live:
            self._http.close()  # closes the cache storage and the shared inner transport
        else:
            self._live.close()

    # ------------------------------------------------------------------ endpoints
    def version(self) -> ApiVersion:
        data = self._get_json("/version", {}, cache=False)
        if not isinstance(data, dict) or not isinstance(data.get("apiVersion"), str):
            raise TrialsDataError(
                "expected {'apiVersion': ...}", location=f"{self.base_url}/version"
            )
        stamp = data.get("dataTimestamp")
        return ApiVersion(data["apiVersion"], stamp if isinstance(stamp, str) else None)

    def study(self, nct_id: str, *, fields: Sequence[str] = ()) -> dict[str, Any]:
        params = {"format": "json"}
        if fields:
            params["fields"] = "|".join(fields)
        data = self._get_json(f"/studies/{nct_id.upper()}", params)
        if not isinstance(data, dict) or "protocolSection" not in data:
            raise TrialsDataError("response is not a study record", location=nct_id)
        return data

    def studies_page(
        self, params: dict[str, str], page_token: str | None = None, *, cache: bool = True
    ) -> StudiesPage:
        """One page of ``/studies``. Sync passes ``cache=False``: it must see fresh data."""
        query = dict(params)
        if page_token:
            query["pageToken"] = page_token
        data = self._get_json("/studies", query, cache=cache)
        where = f"{self.base_url}/studies page {page_token or 'first'}"
        if not isinstance(data, dict) or not isinstance(data.get("studies"), list):
            raise TrialsDataError("expected an object with a 'studies' list", location=where)
        token = data.get("nextPageToken")
        total = data.get("totalCount")
        return StudiesPage(
            studies=data["studies"],
            next_page_token=token if isinstance(token, str) and token else None,
            total_count=total if isinstance(total, int) else None,
        )

    def iter_pages(
        self, params: dict[str, str], page_token: str | None = None
    ) -> Iterator[StudiesPage]:
        while True:
            page = self.studies_page(params, page_token)
            yield page
            if page.next_page_token is None:
                return
            page_token = page.next_page_token

    @staticmethod
    def study_params(
        *,
        condition: str | None = None,
        intervention: str | None = None,
        term: str | None = None,
        statuses: Sequence[str] = (),
        geo: tuple[float, float, float] | None = None,
        updated_since: dt.date | None = None,
        fields: Sequence[str] = (),
        page_size: int | None = None,
        count_total: bool = True,
    ) -> dict[str, str]:
        """Query parameters for ``/studies`` (``geo`` is lat, lon, miles)."""
        params: dict[str, str] = {"format": "json"}
        if condition:
            params["query.cond"] = condition
        if intervention:
            params["query.intr"] = intervention
        if term:
            params["query.term"] = term
        if statuses:
            params["filter.overallStatus"] = "|".join(statuses)
        if geo is not None:
            lat, lon, miles = geo
            params["filter.geo"] = f"distance({lat:.6f},{lon:.6f},{miles:g}mi)"
        if updated_since is not None:
            params["filter.advanced"] = (
                f"AREA[LastUpdatePostDate]RANGE[{updated_since.isoformat()},MAX]"
            )
        if fields:
            params["fields"] = "|".join(fields)
        params["pageSize"] = str(min(1000, page_size or settings().ctgov_page_size))
        if count_total:
            params["countTotal"] = "true"
        return params

    # ------------------------------------------------------------------ plumbing
    def _get_json(self, path: str, params: dict[str, str], *, cache: bool = True) -> Any:
        url = f"{self.base_url}{path}"
        cache_key = hashlib.sha256(f"GET {httpx.URL(url, params=params)}".encode()).hexdigest()

        def attempt() -> Any:
            http = self._http if cache else self._live
            extensions: dict[str, Any] = {}
            if cache and self._storage is not None:
                extensions["caching"] = {"key": cache_key}
            try:
                response = http.get(url, params=params, extensions=extensions)
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"network error ({type(exc).__name__}: {exc})") from exc
            if response.status_code in _RETRY_STATUSES:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                raise _Retryable(
                    f"HTTP {response.status_code}", status=response.status_code, wait_s=wait
                )
            if response.status_code == 404:
                raise TrialsHTTPError("not found (HTTP 404)", location=str(response.url))
            if response.status_code >= 400:
                detail = response.text.strip().splitlines()[0][:200] if response.text else ""
                raise TrialsHTTPError(
                    f"HTTP {response.status_code} {detail}".strip(), location=str(response.url)
                )
            try:
                return json.loads(response.content)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self._evict(cache_key)
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                raise _BadBody(
                    f"response is not valid JSON ({reason}; "
                    f"{len(response.content)} bytes received, truncated?)"
                ) from exc

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._record_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _BadBody as exc:
            raise TrialsDataError(
                f"{exc.message} after {self.max_attempts} attempts", location=url
            ) from None
        except _Retryable as exc:
            raise TrialsHTTPError(
                f"{exc.message} after {self.max_attempts} attempts; try again later", location=url
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            return float(exc.wait_s)
        backoff: float = self.backoff_base_s * 2.0 ** (state.attempt_number - 1)
        jitter: float = 0.5 + random.random() / 2
        return min(self.backoff_max_s, backoff) * jitter

    def _record_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._sleep(seconds)

    def _evict(self, key: str) -> None:
        if self._storage is None:
            return
        for entry in self._storage.get_entries(key):
            self._storage.remove_entry(entry.id)


__all__ = ["ApiVersion", "CtgovClient", "StudiesPage", "ThrottleTransport", "parse_retry_after"]
