"""The ClinicalTrials.gov client on httpx.MockTransport: pagination, retries, cache, throttle."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from myelonav.errors import TrialsDataError, TrialsHTTPError
from myelonav.trials.client import CtgovClient, ThrottleTransport, parse_retry_after

BASE = "https://ctgov.test/api/v2"


def study(nct: str) -> dict[str, Any]:
    return {"protocolSection": {"identificationModule": {"nctId": nct, "briefTitle": nct}}}


def make_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> CtgovClient:
    sleeps: list[float] = kw.pop("sleeps", [])
    return CtgovClient(
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        min_interval_s=0.0,
        max_attempts=kw.pop("max_attempts", 4),
        sleep=sleeps.append,
        **kw,
    )


def test_pagination_follows_tokens_with_identical_parameters() -> None:
    pages = {
        None: (
            {
                "studies": [study("NCT00000001"), study("NCT00000002")],
                "nextPageToken": "t2",
                "totalCount": 5,
            }
        ),
        "t2": {"studies": [study("NCT00000003"), study("NCT00000004")], "nextPageToken": "t3"},
        "t3": {"studies": [study("NCT00000005")]},
    }
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v2/studies"
        params = dict(request.url.params)
        seen.append(params)
        return httpx.Response(200, json=pages[params.get("pageToken")])

    params = CtgovClient.study_params(condition="multiple myeloma", page_size=2)
    with make_client(handler) as client:
        got = list(client.iter_pages(params))
    assert [
        s["protocolSection"]["identificationModule"]["nctId"] for p in got for s in p.studies
    ] == [f"NCT0000000{i}" for i in range(1, 6)]
    assert got[0].total_count == 5 and got[-1].next_page_token is None
    assert [p.get("pageToken") for p in seen] == [None, "t2", "t3"]
    for p in seen:
        p.pop("pageToken", None)
    assert all(p == seen[0] for p in seen), "every page must repeat the first page's query"
    assert seen[0]["query.cond"] == "multiple myeloma" and seen[0]["pageSize"] == "2"


def test_study_params_filters() -> None:
    params = CtgovClient.study_params(
        condition="myeloma",
        intervention="talquetamab",
        statuses=["RECRUITING", "NOT_YET_RECRUITING"],
        geo=(40.7651, -73.9638, 50),
        updated_since=dt.date(2026, 11, 1),
        fields=["NCTId", "BriefTitle"],
        page_size=5000,
    )
    assert params["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[2026-11-01,MAX]"
    assert params["filter.overallStatus"] == "RECRUITING|NOT_YET_RECRUITING"
    assert params["filter.geo"] == "distance(40.765100,-73.963800,50mi)"
    assert params["query.intr"] == "talquetamab"
    assert params["fields"] == "NCTId|BriefTitle"
    assert params["pageSize"] == "1000"  # the API's maximum


def test_429_honours_retry_after() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "7"}, text="slow down")
        return httpx.Response(200, json={"studies": []})

    sleeps: list[float] = []
    with make_client(handler, sleeps=sleeps) as client:
        page = client.studies_page({"format": "json"})
    assert page.studies == [] and len(calls) == 3
    assert sleeps == [7.0, 7.0]


def test_retry_after_http_date_and_cap() -> None:
    now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("100000") == 300.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_5xx_is_retried_with_backoff_then_succeeds() -> None:
    statuses = iter([503, 502, 500, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        code = next(statuses)
        return httpx.Response(
            code, json={"studies": [study("NCT00000009")]} if code == 200 else None
        )

    sleeps: list[float] = []
    with make_client(handler, sleeps=sleeps, backoff_base_s=1.0) as client:
        page = client.studies_page({})
    assert len(page.studies) == 1
    assert len(sleeps) == 3
    # exponential with jitter in [0.5, 1.0] x 1, 2, 4 s
    for sleep, base in zip(sleeps, (1, 2, 4), strict=True):
        assert 0.5 * base <= sleep <= base


def test_persistent_5xx_raises_after_max_attempts() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    with make_client(handler, max_attempts=3) as client, pytest.raises(TrialsHTTPError) as info:
        client.studies_page({})
    assert len(calls) == 3
    assert "HTTP 503" in str(info.value) and "/studies" in str(info.value)


def test_timeouts_are_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(
            200, json={"apiVersion": "2.0.5", "dataTimestamp": "2026-11-24T09:00:00"}
        )

    with make_client(handler) as client:
        version = client.version()
    assert version.data_timestamp == "2026-11-24T09:00:00" and len(calls) == 2


def test_4xx_is_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, text="Study not found")

    with make_client(handler) as client, pytest.raises(TrialsHTTPError) as info:
        client.study("NCT00000404")
    assert len(calls) == 1
    assert "NCT00000404" in str(info.value)


def test_truncated_body_is_retried_then_reported() -> None:
    body = json.dumps({"studies": [study("NCT00000001")]})

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body[: len(body) // 2].encode())

    with make_client(handler, max_attempts=2) as client, pytest.raises(TrialsDataError) as info:
        client.studies_page({})
    assert "not valid JSON" in str(info.value) and "truncated" in str(info.value)


def test_truncated_body_recovers_on_retry() -> None:
    body = json.dumps({"studies": [study("NCT00000001")]}).encode()
    replies = iter([body[:10], body])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=next(replies))

    with make_client(handler) as client:
        assert len(client.studies_page({}).studies) == 1


def test_page_without_studies_list_is_a_data_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    with make_client(handler) as client, pytest.raises(TrialsDataError):
        client.studies_page({})


def test_disk_cache_serves_repeat_gets_but_not_version(tmp_path: Path) -> None:
    hits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        if request.url.path.endswith("/version"):
            return httpx.Response(200, json={"apiVersion": "2"})
        return httpx.Response(200, json=study("NCT00000007"))

    cache = tmp_path / "cache" / "http.sqlite3"
    with make_client(handler, cache_path=cache, cache_ttl_s=3600) as client:
        client.study("NCT00000007")
        client.study("NCT00000007")
        client.version()
        client.version()
    assert hits.count("/api/v2/studies/NCT00000007") == 1
    assert hits.count("/api/v2/version") == 2
    assert cache.exists()


def test_truncated_body_is_evicted_from_cache(tmp_path: Path) -> None:
    body = json.dumps(study("NCT00000008")).encode()
    replies = iter([body[:5], body, body])
    hits: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(1)
        return httpx.Response(200, content=next(replies))

    with make_client(handler, cache_path=tmp_path / "c.sqlite3") as client:
        assert client.study("NCT00000008")["protocolSection"]
        assert client.study("NCT00000008")["protocolSection"]
    assert len(hits) == 2  # the bad body was not served again; the good one was cached


def test_throttle_spaces_network_requests() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    transport = ThrottleTransport(
        httpx.MockTransport(lambda r: httpx.Response(200, json={})),
        1.25,
        sleep=sleep,
        clock=lambda: now[0],
    )
    with httpx.Client(transport=transport) as http:
        http.get("https://x.test/a")
        http.get("https://x.test/b")
        now[0] += 5.0
        http.get("https://x.test/c")
    assert slept == [1.25]
