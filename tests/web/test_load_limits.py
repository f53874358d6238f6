"""Heavy requests wait for a slot (one per core) or get a polite 503, never a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from myelonav.samples import sample_ids
from myelonav.settings import Settings
from myelonav.web.app import create_app
from myelonav.web.limits import BUSY_MESSAGE, HeavyRequestGate, is_heavy
from myelonav.web.server import multi_worker_config, study_count, worker_count

PID = "0123456789abcdef0123456789abcdef"


def test_heavy_paths() -> None:
    for end in ("trials", "questions", "plot.svg", "packet.pdf"):
        assert is_heavy(f"/p/{PID}/{end}")
    for end in ("trials", "questions", "plot", "packet.pdf"):
        assert is_heavy(f"/api/v1/profiles/{PID}/{end}")
    for path in (f"/p/{PID}", f"/p/{PID}/options", "/", "/support", "/api/v1/trials/search"):
        assert not is_heavy(path)


class _Blocking:
    """An app whose heavy requests wait until released; counts how many run at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.peak = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"done"})
        finally:
            self.running -= 1


def _run(gate: HeavyRequestGate, paths: list[str]) -> list[httpx.Response]:
    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=gate)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            tasks = [asyncio.create_task(client.get(p)) for p in paths]
            for _ in range(50):  # let every request reach the gate
                await asyncio.sleep(0)
            assert isinstance(gate.app, _Blocking)
            gate.app.release.set()
            return list(await asyncio.gather(*tasks))

    return asyncio.run(main())


@pytest.mark.parametrize("slots", [1, 2])
def test_n_plus_one_heavy_requests_one_waits(slots: int) -> None:
    app = _Blocking()
    gate = HeavyRequestGate(app, slots=slots, queue=1, wait_s=5)
    responses = _run(gate, [f"/p/{PID}/trials"] * (slots + 1))
    assert [r.status_code for r in responses] == [200] * (slots + 1)
    assert app.peak == slots
    assert gate.stats.refused == 0 and gate.stats.admitted == slots + 1


def test_beyond_the_queue_a_polite_503() -> None:
    app = _Blocking()
    gate = HeavyRequestGate(app, slots=1, queue=1, wait_s=5, retry_after_s=3)
    responses = _run(
        gate,
        [
            f"/p/{PID}/trials",
            f"/p/{PID}/plot.svg",
            f"/api/v1/profiles/{PID}/trials",
            f"/p/{PID}/packet.pdf",
        ],
    )
    codes = [r.status_code for r in responses]
    assert sorted(codes) == [200, 200, 503, 503] and 500 not in codes
    assert app.peak == 1
    for r in responses:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "3"
            if "/api/" in str(r.request.url):
                assert r.json()["detail"] == BUSY_MESSAGE
            else:
                assert "Busy for a moment" in r.text and r.headers["content-type"].startswith(
                    "text/html"
                )


def test_a_long_wait_ends_in_503_not_a_hang() -> None:
    app = _Blocking()
    gate = HeavyRequestGate(app, slots=1, queue=5, wait_s=0.05)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=gate)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get(f"/p/{PID}/trials"))
            await asyncio.sleep(0.01)
            second = await client.get(f"/p/{PID}/questions")  # waits 0.05 s, then 503
            app.release.set()
            return [(await first).status_code, second.status_code]

    assert asyncio.run(main()) == [200, 503]


def test_light_requests_pass_the_gate_untouched() -> None:
    app = _Blocking()
    gate = HeavyRequestGate(app, slots=1, queue=0, wait_s=5)
    responses = _run(gate, [f"/p/{PID}/trials", "/", f"/p/{PID}/options", "/support"])
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert gate.stats.admitted == 1


def test_real_app_concurrent_heavy_requests_never_500(tmp_path: Path) -> None:
    """The whole app, N+1 heavy requests at once on a gate of N slots and no queue: each is
    answered 200 or 503, and never more than N run."""
    cfg = Settings(
        home=tmp_path / "home",
        web_allowed_hosts=["testserver"],
        heavy_slots=2,
        heavy_queue=0,
        page_cache_mb=0,
    )
    application = create_app(cfg)
    stats = application.state.heavy_stats

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            pid = (await c.post(f"/api/v1/samples/{sample_ids()[0]}")).json()["id"]
            paths = [f"/p/{pid}/plot.svg", f"/p/{pid}/trials", f"/api/v1/profiles/{pid}/trials"]
            return list(await asyncio.gather(*(c.get(p) for p in paths)))

    try:
        responses = asyncio.run(main())
    finally:
        application.state.profiles.close()
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 503} and 200 in codes, codes
    assert 1 <= stats.peak_running <= 2
    assert stats.admitted + stats.refused == 3


# --- workers -------------------------------------------------------------------------------


def test_worker_count_follows_the_store_size(tmp_path: Path) -> None:
    from myelonav.trials.local import open_store

    cfg = Settings(home=tmp_path / "home", large_store_studies=5)
    cfg.ensure_home()
    assert study_count(cfg.trials_db) == 0 and worker_count(cfg) == 1
    open_store(cfg.trials_db).close()  # the bundled sample studies
    assert study_count(cfg.trials_db) >= 5
    assert worker_count(cfg) == 2
    assert worker_count(cfg.model_copy(update={"large_store_studies": 10_000})) == 1
    assert worker_count(cfg.model_copy(update={"web_workers": 3})) == 3


def test_multi_worker_config_prepares_shared_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything workers share is created once, before they start, so they never race."""
    for name in (
        "MYELONAV_SERVE_BIND_HOST",
        "MYELONAV_MODE",
        "MYELONAV_BEHIND_PROXY",
        "MYELONAV_HOME",
        "MALLOC_ARENA_MAX",
        "MYELONAV_HEAVY_SLOTS",
    ):
        monkeypatch.delenv(name, raising=False)
    cfg = Settings(home=tmp_path / "home")
    config = multi_worker_config("127.0.0.1", 8123, 2, cfg)
    assert config.workers == 2 and config.factory
    assert config.app == "myelonav.web.server:worker_app"
    assert cfg.install_secret_file.exists() and cfg.data_key_file.exists()
    assert (cfg.home_dir / "profiles.sqlite3").exists()
    import os

    assert os.environ["MYELONAV_HOME"] == str(cfg.home)
    assert os.environ["MYELONAV_SERVE_BIND_HOST"] == "127.0.0.1"
    assert os.environ["MYELONAV_HEAVY_SLOTS"] == str(max(1, (os.cpu_count() or 1) // 2))
    config.load()  # imports the app in this process as a worker would: settings from env
    assert config.loaded_app is not None


def test_clinic_mode_refuses_workers_without_its_secrets(tmp_path: Path) -> None:
    from myelonav.errors import InputError

    cfg = Settings(home=tmp_path / "home", mode="clinic")
    with pytest.raises(InputError):
        multi_worker_config("127.0.0.1", 8124, 2, cfg)
