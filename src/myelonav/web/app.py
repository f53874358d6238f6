"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from myelonav import DISCLAIMER, __version__
from myelonav.settings import Settings, settings
from myelonav.store.profiles import ProfileStore
from myelonav.web.api import api_router
from myelonav.web.errors import install_api_errors
from myelonav.web.pages import install_page_errors, page_router
from myelonav.web.security import SecurityMiddleware

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def create_app(cfg: Settings | None = None, *, bind_host: str | None = None) -> FastAPI:
    """A ready app: profile store from ``cfg.profiles_db_url``, trials from ``cfg.trials_db``.

    Only requests for loopback host names, ``bind_host`` and ``cfg.web_allowed_hosts`` are
    answered, so a web page elsewhere cannot reach the app through DNS rebinding.
    """
    cfg = cfg or settings()
    cfg.ensure_home()
    profiles = ProfileStore(cfg.profiles_db_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        profiles.close()

    app = FastAPI(
        title="myelonav",
        version=__version__,
        description=f"Navigator for multiple myeloma after CAR T-cell therapy. {DISCLAIMER}",
        # The interactive docs load scripts from a CDN; the app makes no external requests,
        # so only the schema is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.profiles = profiles
    app.state.trials_db = Path(cfg.trials_db)
    app.state.settings = cfg
    app.add_middleware(SecurityMiddleware)
    hosts = {*LOOPBACK_HOSTS, *cfg.web_allowed_hosts}
    if bind_host and bind_host not in ("0.0.0.0", "::"):
        hosts.add(bind_host)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=sorted(hosts))
    install_api_errors(app)
    install_page_errors(app)
    app.include_router(api_router())
    app.include_router(page_router())
    static = resources.files("myelonav.web.pages").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


__all__ = ["create_app"]
