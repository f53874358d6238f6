"""The FastAPI application factory (both modes: one code path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.formparsers import MultiPartParser
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Scope

from myelonav import DISCLAIMER, __version__
from myelonav.errors import InputError
from myelonav.settings import Settings, settings
from myelonav.store.accounts import Accounts
from myelonav.store.audit import AuditLog
from myelonav.store.crypto import RecordCipher, key_from_file, parse_key
from myelonav.store.install_secret import install_secret, remove_stale_temps
from myelonav.store.profiles import ProfileStore
from myelonav.web.api import api_router
from myelonav.web.auth.middleware import AuthMiddleware
from myelonav.web.cache import PageCache, PageCacheMiddleware, ReadCheck, row_revision
from myelonav.web.errors import install_api_errors
from myelonav.web.limits import GateStats, HeavyRequestGate
from myelonav.web.pages import install_page_errors, page_router
from myelonav.web.rematch import Rematcher
from myelonav.web.security import SecurityMiddleware
from myelonav.web.trials_update import TrialsUpdater

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def _cipher(cfg: Settings) -> RecordCipher:
    if cfg.data_key is not None:
        return RecordCipher(parse_key(cfg.data_key.get_secret_value()))
    if cfg.mode == "clinic":
        raise InputError("clinic mode needs a data key for profiles at rest "
                         "(`myelonav users keygen` prints one)", location="MYELONAV_DATA_KEY")
    return RecordCipher(key_from_file(cfg.data_key_file))


def allowed_hosts(cfg: Settings, bind_host: str | None) -> list[str]:
    """Loopback names only while bound to loopback: on a network bind, ``Host: localhost``
    could come from anyone (DNS rebinding, a proxy), so only the configured names count."""
    from myelonav.web.server import is_loopback

    hosts = set(cfg.web_allowed_hosts)
    if bind_host is None or is_loopback(bind_host):
        hosts.update(LOOPBACK_HOSTS)
    if bind_host and bind_host not in WILDCARD_BINDS:
        hosts.add(bind_host)
    return sorted(hosts)


def _cached_read_check(profiles: ProfileStore, audit: AuditLog,
                       accounts: Accounts) -> ReadCheck:
    """The access check (and audit entry) a read of the profile makes, for a cached page."""
    from myelonav.web.access import ScopedStore
    from myelonav.web.auth.principal import LOCAL, Principal

    def check(scope: Scope, profile_id: str, team_id: str | None, owner_id: str | None) -> bool:
        who = scope.get("state", {}).get("principal")
        client = scope.get("client")
        scoped = ScopedStore(profiles, who if isinstance(who, Principal) else LOCAL, audit,
                             accounts, client=client[0] if client else None, action="read")
        return scoped.check_read(profile_id, (team_id, owner_id))

    return check


def create_app(cfg: Settings | None = None, *, bind_host: str | None = None) -> FastAPI:
    """A ready app: profile store from ``cfg.profiles_db_url``, trials from ``cfg.trials_db``.

    Only requests for loopback host names (on a loopback bind), ``bind_host`` and
    ``cfg.web_allowed_hosts`` are answered, so a web page elsewhere cannot reach the app
    through DNS rebinding.
    """
    cfg = cfg or settings()
    clinic = cfg.mode == "clinic"
    if clinic and (cfg.secret_key is None or len(cfg.secret_key.get_secret_value()) < 32):
        raise InputError("clinic mode needs a secret key of at least 32 characters",
                         location="MYELONAV_SECRET_KEY")
    cfg.ensure_home()
    remove_stale_temps(cfg.home_dir)
    if not clinic:
        install_secret(cfg.install_secret_file)
    profiles = ProfileStore(cfg.profiles_db_url, cipher=_cipher(cfg))
    accounts = Accounts(profiles.engine)
    audit = AuditLog(profiles.engine)
    # uploads stay in memory up to the body limit instead of spilling to a temp file
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, cfg.max_body_bytes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _app.state.trials_update.start_auto_refresh()
        yield
        _app.state.trials_update.stop()
        audit.flush()  # the read events still queued (``AuditLog.append(deferred=True)``)
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
    app.state.accounts = accounts
    app.state.audit = audit
    app.state.rematch = Rematcher()
    app.state.trials_db = Path(cfg.trials_db)
    app.state.trials_update = TrialsUpdater(app.state.trials_db, cfg)
    app.state.settings = cfg
    secure = bool(cfg.tls_certfile) or cfg.behind_proxy
    # added innermost first: TrustedHost -> Security (CSRF, body limits) -> Auth ->
    # page cache -> heavy-request gate -> routes
    page_cache = PageCache(max_bytes=cfg.page_cache_mb * 1024 * 1024)
    app.state.page_cache = page_cache
    app.state.heavy_stats = GateStats()
    app.add_middleware(HeavyRequestGate, slots=cfg.heavy_slots or None, queue=cfg.heavy_queue,
                       wait_s=cfg.heavy_wait_s, stats=app.state.heavy_stats)
    if cfg.page_cache_mb > 0:
        app.add_middleware(PageCacheMiddleware, cache=page_cache, trials_db=Path(cfg.trials_db),
                           revision=row_revision(profiles.engine),
                           check_read=_cached_read_check(profiles, audit, accounts))
    app.add_middleware(AuthMiddleware, clinic=clinic, accounts=accounts, secure_cookie=secure)
    app.add_middleware(SecurityMiddleware, max_body_bytes=cfg.max_body_bytes,
                       body_timeout_s=cfg.body_timeout_s)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(cfg, bind_host))
    install_api_errors(app)
    install_page_errors(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(api_router())
    app.include_router(page_router())
    static = resources.files("myelonav.web.pages").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


__all__ = ["allowed_hosts", "create_app"]
