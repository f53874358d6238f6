"""The page cache: kept per profile revision and trial-store version, bounded in bytes,
invalidated by any edit, and still access-checked and audited on every hit."""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.samples import sample_ids
from myelonav.web.cache import CachedResponse, PageCache, cached_route, profile_in_path

PID = "0123456789abcdef0123456789abcdef"


def test_cached_routes_are_exactly_the_read_only_pages() -> None:
    assert cached_route(f"/p/{PID}/options") == (PID, "/p/{profile_id}/options")
    assert cached_route(f"/p/{PID}/trials") == (PID, "/p/{profile_id}/trials")
    assert cached_route(f"/p/{PID}/questions") == (PID, "/p/{profile_id}/questions")
    assert cached_route(f"/api/v1/profiles/{PID}/options") is not None
    assert cached_route(f"/api/v1/profiles/{PID}/trials") is not None
    for path in (
        f"/p/{PID}",
        f"/p/{PID}/packet.pdf",
        f"/p/{PID}/plot.svg",
        f"/p/{PID}/options/x",
        f"/p/{PID.upper()}/options",
        f"/p/{PID[:-1]}/options",
        f"/api/v1/profiles/{PID}/export",
        "/",
        "/support",
    ):
        assert cached_route(path) is None, path


@given(st.text(max_size=80))
def test_any_path_is_classified_without_error(path: str) -> None:
    found = cached_route(path)
    if found is not None:
        pid, template = found
        assert pid in path and template.endswith(path.rsplit("/", 1)[1])
    pid = profile_in_path(path)
    assert pid is None or (len(pid) == 32 and pid in path)


def _resp(n: int) -> CachedResponse:
    return CachedResponse(200, ((b"content-type", b"text/html"),), b"x" * n)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(0, 40), st.integers(0, 3000)), max_size=60
    )
)
def test_lru_stays_within_its_bounds(ops: list[tuple[str, int, int]]) -> None:
    cache = PageCache(max_bytes=10_000, max_entries=8, max_entry_bytes=4_000)
    for pid, key, size in ops:
        cache.put(pid, (key,), _resp(size))
        assert cache.bytes <= cache.max_bytes
        assert len(cache) <= cache.max_entries
    kept = [cache.get((key,)) for _, key, _ in ops]
    assert cache.bytes == sum({id(r): r.size for r in kept if r is not None}.values())


def test_lru_evicts_the_least_recently_used_and_invalidates_by_profile() -> None:
    cache = PageCache(max_bytes=3 * _resp(100).size, max_entries=100)
    for k in range(3):
        cache.put("a" if k < 2 else "b", (k,), _resp(100))
    assert cache.get((0,)) is not None  # 0 is now the most recent
    cache.put("b", (3,), _resp(100))
    assert cache.get((1,)) is None and cache.get((0,)) is not None
    assert cache.invalidate("b") == 2
    assert cache.get((2,)) is None and cache.get((3,)) is None and len(cache) == 1
    assert cache.bytes == _resp(100).size
    assert cache.put("a", (9,), _resp(10_000)) is False  # larger than one entry may be


def _sample(client: Any) -> str:
    resp = client.post(f"/api/v1/samples/{sample_ids()[0]}")
    assert resp.status_code == 201
    return str(resp.json()["id"])


def test_second_request_is_served_from_the_cache(client: Any, app: FastAPI) -> None:
    pid = _sample(client)
    cache: PageCache = app.state.page_cache
    first = client.get(f"/p/{pid}/options")
    stored = cache.stats.stored
    second = client.get(f"/p/{pid}/options")
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    assert cache.stats.hits >= 1 and cache.stats.stored == stored
    # the security headers are still added around a cached page
    assert "Content-Security-Policy" in second.headers
    api1 = client.get(f"/api/v1/profiles/{pid}/options")
    api2 = client.get(f"/api/v1/profiles/{pid}/options")
    assert api1.json() == api2.json()


def test_an_edit_gives_a_new_page(client: Any, app: FastAPI) -> None:
    """Through the app (the POST drops the profile's pages) and behind its back (another
    worker saved the profile: the revision in the key changes)."""
    pid = _sample(client)
    before = client.get(f"/p/{pid}")  # the profile page itself is never cached
    assert before.status_code == 200
    trials = client.get(f"/p/{pid}/trials")
    assert trials.status_code == 200
    resp = client.post(
        f"/p/{pid}/preferences",
        data={"travel_miles": "37", "trial_interest": "yes"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    after = client.get(f"/p/{pid}/trials")
    assert after.status_code == 200 and after.text != trials.text
    app.state.page_cache.clear()
    assert client.get(f"/p/{pid}/trials").text == after.text  # what a fresh render gives

    profiles = app.state.profiles
    saved = profiles.get(pid)
    old = client.get(f"/api/v1/profiles/{pid}/options").json()
    assert old == client.get(f"/api/v1/profiles/{pid}/options").json()  # cached
    keep = {lab.analyte for lab in saved.record.labs} - {"creatinine"}
    fewer = saved.record.model_copy(
        update={"labs": [lab for lab in saved.record.labs if lab.analyte in keep]}
    )
    profiles.replace_record(pid, fewer)  # not through the app: only the key can notice
    new = client.get(f"/api/v1/profiles/{pid}/options").json()
    assert new != old


def test_a_store_update_gives_a_new_page(client: Any, app: FastAPI) -> None:
    pid = _sample(client)
    cache: PageCache = app.state.page_cache
    client.get(f"/p/{pid}/trials")
    client.get(f"/p/{pid}/trials")
    hits, stored = cache.stats.hits, cache.stats.stored
    with sqlite3.connect(app.state.trials_db) as conn:  # any write bumps the version
        conn.execute("UPDATE meta SET value = value || '+' WHERE key = 'version'")
    client.get(f"/p/{pid}/trials")
    assert cache.stats.stored == stored + 1 and cache.stats.hits == hits


def test_a_deleted_profile_is_not_served_from_the_cache(client: Any) -> None:
    pid = _sample(client)
    assert client.get(f"/p/{pid}/options").status_code == 200
    assert client.post(f"/p/{pid}/delete").status_code == 200
    assert client.get(f"/p/{pid}/options").status_code == 404
    assert client.get(f"/api/v1/profiles/{pid}/options").status_code == 404


def test_cache_hits_are_access_checked_and_audited(clinic: Any) -> None:
    pid = clinic.profile("nav_a", "cache-audit")
    nav_a, nav_b = clinic.clients["nav_a"], clinic.clients["nav_b"]
    audit = clinic.app.state.audit
    cache: PageCache = clinic.app.state.page_cache
    assert nav_a.get(f"/p/{pid}/options").status_code == 200
    reads = len([e for e in audit.events(profile_id=pid) if e.action == "read"])
    hits = cache.stats.hits
    assert nav_a.get(f"/p/{pid}/options").status_code == 200
    assert cache.stats.hits == hits + 1
    after = len([e for e in audit.events(profile_id=pid) if e.action == "read"])
    assert after == reads + 1, "a page served from the cache must still be audited"
    # another team never sees it, cached or not
    assert nav_b.get(f"/p/{pid}/options").status_code == 404
    assert nav_b.get(f"/api/v1/profiles/{pid}/options").status_code == 404
