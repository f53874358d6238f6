"""Run the app with uvicorn, with logs that hold no patient data and bounded connections.

uvicorn's access log prints the full request line, query string included (a ZIP code, a
profile id); it is switched off. ``myelonav.web`` logs one line per request instead, with the
route template only (see ``myelonav.web.security``). Every log record passes a filter that
drops exception messages and tracebacks (a validation message can quote a ZIP code) and
keeps only the exception's class name.

Where the server may listen: local mode only on loopback; clinic mode anywhere, but a
non-loopback address needs TLS (certificate and key) or ``--behind-proxy``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from myelonav.errors import InputError
from myelonav.settings import Settings, settings
from myelonav.store.install_secret import remove_stale_temps

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class NoPatientDataFilter(logging.Filter):
    """Strip exception text and tracebacks; keep the exception class name only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            exc = record.exc_info[1]
            name = exc.__class__.__name__ if exc is not None else "exception"
            record.msg = f"{record.getMessage()} [{name}; details withheld]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


def log_config() -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_patient_data": {"()": NoPatientDataFilter}},
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                       "stream": "ext://sys.stderr", "filters": ["no_patient_data"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "myelonav.web": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


class GuardedH11Protocol(H11Protocol):
    """h11 with a deadline for the request headers (uvicorn has none: slowloris).

    A timer is armed when the connection opens and after each response; if it fires while
    the client has still not finished sending a request's headers, the connection is closed.
    """

    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_deadline)

    def _header_deadline(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, cfg: Settings) -> None:
    """Refuse an unsafe combination of mode, address and transport before starting."""
    if cfg.mode == "local":
        if not is_loopback(host):
            raise InputError(f"local mode serves this computer only; {host!r} is not a "
                             "loopback address (use --mode clinic for a network)",
                             location="--host")
        return
    if not cfg.database_url:
        raise InputError("clinic mode needs a database (PostgreSQL URL)",
                         location="MYELONAV_DATABASE_URL")
    if cfg.secret_key is None or len(cfg.secret_key.get_secret_value()) < 32:
        raise InputError("clinic mode needs a secret key of at least 32 characters",
                         location="MYELONAV_SECRET_KEY")
    if is_loopback(host) or cfg.behind_proxy:
        return
    if not (cfg.tls_certfile and cfg.tls_keyfile):
        raise InputError(f"{host!r} is a network address: give a TLS certificate and key "
                         "(MYELONAV_TLS_CERTFILE, MYELONAV_TLS_KEYFILE) or --behind-proxy",
                         location="--host")


def _served_options(cfg: Settings) -> dict[str, Any]:
    """What one worker and several share: no access log, proxy trust, limits, TLS."""
    return {
        "access_log": False,
        "log_config": log_config(),
        "server_header": False,
        "proxy_headers": cfg.behind_proxy,
        "forwarded_allow_ips": "127.0.0.1" if cfg.behind_proxy else None,
        "limit_concurrency": cfg.max_connections,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16 * 1024,
        "ssl_certfile": str(cfg.tls_certfile) if cfg.tls_certfile else None,
        "ssl_keyfile": str(cfg.tls_keyfile) if cfg.tls_keyfile else None,
    }


def uvicorn_config(host: str, port: int, cfg: Settings | None = None) -> uvicorn.Config:
    from myelonav.web.app import create_app

    cfg = cfg or settings()
    check_bind(host, cfg)
    cfg.ensure_home()
    remove_stale_temps(cfg.home_dir)

    protocol = type("ConfiguredH11Protocol", (GuardedH11Protocol,),
                    {"header_timeout_s": cfg.header_timeout_s})
    return uvicorn.Config(
        create_app(cfg, bind_host=host),
        host=host,
        port=port,
        http=protocol,
        **_served_options(cfg),
    )


BIND_HOST_ENV = "MYELONAV_SERVE_BIND_HOST"


def study_count(trials_db: Path) -> int:
    """How many studies the trial store holds (0 when there is none yet), read-only."""
    if not trials_db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{trials_db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT count(*) FROM studies").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0])


def worker_count(cfg: Settings) -> int:
    """``web_workers`` when set; else ``web_workers_large`` for a large trial store, else 1."""
    if cfg.web_workers:
        return cfg.web_workers
    if study_count(Path(cfg.trials_db)) >= cfg.large_store_studies:
        return cfg.web_workers_large
    return 1


def worker_app() -> Any:
    """The app in one worker process (``uvicorn --workers``): settings from the environment,
    which ``serve`` filled in before starting the workers."""
    from myelonav.web.app import create_app

    cfg = settings()
    GuardedH11Protocol.header_timeout_s = cfg.header_timeout_s
    return create_app(cfg, bind_host=os.environ.get(BIND_HOST_ENV) or None)


def _worker_environment(host: str, cfg: Settings) -> None:
    """Hand the command line's choices to the workers (they read settings afresh)."""
    os.environ[BIND_HOST_ENV] = host
    os.environ["MYELONAV_MODE"] = cfg.mode
    os.environ["MYELONAV_BEHIND_PROXY"] = "true" if cfg.behind_proxy else "false"
    os.environ["MYELONAV_HOME"] = str(cfg.home)
    # each worker's threads would otherwise grow up to 8 x cores malloc arenas, and with them
    # a resident size that never shrinks between load bursts
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")


def multi_worker_config(host: str, port: int, workers: int, cfg: Settings) -> uvicorn.Config:
    """Several worker processes on one socket. Everything a worker would otherwise create
    on first use (home folder, install secret, data key, tables) is created here first, so
    workers never race to create it; sessions live in the database and CSRF tokens derive
    from the secret key, so any worker serves any request."""
    from myelonav.web.app import create_app

    check_bind(host, cfg)
    cfg.ensure_home()
    remove_stale_temps(cfg.home_dir)
    create_app(cfg, bind_host=host).state.profiles.close()
    _worker_environment(host, cfg)
    if not cfg.heavy_slots:  # the cores are shared by the workers: one heavy slot per core
        os.environ["MYELONAV_HEAVY_SLOTS"] = str(max(1, (os.cpu_count() or 1) // workers))
    return uvicorn.Config(
        "myelonav.web.server:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        http="myelonav.web.server:GuardedH11Protocol",
        **_served_options(cfg),
    )


def serve(host: str = "127.0.0.1", port: int = 8000, cfg: Settings | None = None,
          workers: int | None = None) -> None:
    cfg = cfg or settings()
    n = workers or worker_count(cfg)
    if n <= 1:
        uvicorn.Server(uvicorn_config(host, port, cfg)).run()
        return
    from uvicorn.supervisors import Multiprocess

    config = multi_worker_config(host, port, n, cfg)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


__all__ = ["BIND_HOST_ENV", "LOG_FORMAT", "GuardedH11Protocol", "NoPatientDataFilter",
           "check_bind", "is_loopback", "log_config", "multi_worker_config", "serve",
           "study_count", "uvicorn_config", "worker_app", "worker_count"]
