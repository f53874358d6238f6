"""Run the app with uvicorn, with logs that hold no patient data.

uvicorn's access log prints the full request line, query string included (a ZIP code, a
profile id); it is switched off. ``myelonav.web`` logs one line per request instead, with the
route template only (see ``myelonav.web.security``).
"""

from __future__ import annotations

from typing import Any

import uvicorn

from myelonav.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_config() -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                       "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "myelonav.web": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def uvicorn_config(host: str, port: int, cfg: Settings | None = None) -> uvicorn.Config:
    from myelonav.web.app import create_app

    return uvicorn.Config(
        create_app(cfg, bind_host=host),
        host=host,
        port=port,
        access_log=False,
        log_config=log_config(),
        server_header=False,
        proxy_headers=False,
    )


def serve(host: str = "127.0.0.1", port: int = 8000, cfg: Settings | None = None) -> None:
    uvicorn.Server(uvicorn_config(host, port, cfg)).run()


__all__ = ["LOG_FORMAT", "log_config", "serve", "uvicorn_config"]
