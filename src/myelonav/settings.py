"""Every setting myelonav reads, in one place (environment variables prefixed ``MYELONAV_``).

``MYELONAV_HOME`` (default ``~/.local/share/myelonav``) holds the trials database, the
saved-profiles database and the HTTP cache; it is created on first use, mode 0700.
``MYELONAV_DATABASE_URL`` (SQLAlchemy URL) points the saved-profile store elsewhere, e.g. at
PostgreSQL; by default it is an embedded SQLite file in the home folder.

Two modes share one code path: ``local`` (default: one person on their own computer,
loopback only, no login; bulk export and delete need the per-install secret) and
``clinic`` (login for everything but the health check and static files; needs
``MYELONAV_DATABASE_URL`` and ``MYELONAV_SECRET_KEY``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["local", "clinic"]
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700 when this user owns it."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    try:
        if path.stat().st_uid == os.getuid():
            path.chmod(PRIVATE_DIR_MODE)
    except OSError:
        pass  # not ours to change (a shared mount); the files inside are still 0600
    return path


def read_secret_file(path: Path, setting: str) -> str | None:
    """A secret kept in a file (first line, at most 4 KB); errors name the setting."""
    from myelonav.errors import InputError

    try:
        with path.expanduser().open("rb") as handle:
            raw = handle.read(4097)
    except OSError as exc:
        raise InputError(f"cannot read the secret file: {exc.strerror}", location=setting) from None
    if len(raw) > 4096:
        raise InputError("the secret file is larger than 4 KB", location=setting)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the secret file is not UTF-8 text", location=setting) from None
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first or None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MYELONAV_", extra="ignore")

    home: Path = Field(default=Path("~/.local/share/myelonav"))
    ctgov_base_url: str = "https://clinicaltrials.gov/api/v2"
    # one request per 1.25 s at most: about 48 a minute, well inside the API's fair use
    ctgov_min_interval_s: float = 1.25
    ctgov_timeout_s: float = 30.0
    ctgov_max_attempts: int = 6
    ctgov_page_size: int = 200
    http_cache_ttl_s: float = 6 * 3600.0
    database_url: str | None = None
    # Host names the web app answers to besides loopback (JSON list), e.g. '["nav.clinic.lan"]'
    web_allowed_hosts: list[str] = Field(default_factory=list)

    # Update trials from ClinicalTrials.gov automatically when the last update is older than
    # this many days (checked at server start, then every ``trials_refresh_check_s``).
    # Unset (the default): only when someone presses "Update trials".
    trials_refresh_days: float | None = None
    trials_refresh_check_s: float = 3600.0

    # --- web server and clinic mode -------------------------------------------------------
    mode: Mode = "local"
    # Signs session cookies and CSRF tokens (clinic mode); at least 32 characters.
    secret_key: SecretStr | None = None
    # Key for profile contents at rest: 32 bytes, urlsafe base64 (``myelonav users keygen``
    # prints one). Local mode keeps one in the home folder when this is unset.
    data_key: SecretStr | None = None
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    # A TLS-terminating reverse proxy on the same host forwards to us; trust its headers.
    behind_proxy: bool = False
    # Largest request body read (5 MB upload plus form overhead); refused before reading.
    max_body_bytes: int = 6 * 1024 * 1024
    # A client must send its request headers within this many seconds (slowloris guard)...
    header_timeout_s: float = 10.0
    # ...and each chunk of the body within this many seconds.
    body_timeout_s: float = 30.0
    # Connections served at once; beyond this the server answers 503.
    max_connections: int = 200
    session_max_age_s: int = 8 * 3600
    # Failed logins per account (and per client address) before a 15-minute lockout.
    login_max_failures: int = 5
    # A deleted profile waits this long in the trash (Undo) before it is erased for good.
    profile_undo_minutes: float = Field(default=10.0, gt=0, le=7 * 24 * 60)

    # --- web server under load -------------------------------------------------------------
    # Worker processes for ``myelonav serve``: 0 = automatic (``web_workers_large`` when the
    # trial store holds at least ``large_store_studies`` studies, else 1).
    web_workers: int = Field(default=0, ge=0, le=64)
    web_workers_large: int = Field(default=2, ge=1, le=64)
    large_store_studies: int = Field(default=1000, ge=0)
    # Heavy requests (trial matching, plot, packet) running at once per worker: 0 = one per
    # core; up to ``heavy_queue`` more wait at most ``heavy_wait_s`` s, then get a 503.
    heavy_slots: int = Field(default=0, ge=0, le=256)
    heavy_queue: int = Field(default=16, ge=0, le=10_000)
    heavy_wait_s: float = Field(default=10.0, gt=0, le=300)
    # Rendered pages kept per worker (options, trials, questions and their API answers).
    page_cache_mb: int = Field(default=64, ge=0, le=4096)

    # --- patient portal (SMART on FHIR) ---------------------------------------------------
    # The address people reach this app at (e.g. https://nav.clinic.example); the portal
    # sends them back to {public_base_url}/connect/callback. Unset: the request's own address.
    public_base_url: str | None = None
    # The client id myelonav is registered under at the portals it connects to.
    smart_client_id: str = "myelonav"
    # A confidential client's secret, or a file holding it (never a command-line argument).
    smart_client_secret: SecretStr | None = None
    smart_client_secret_file: Path | None = None

    def smart_secret(self) -> str | None:
        """The SMART client secret from ``smart_client_secret`` or its file, or None."""
        if self.smart_client_secret is not None:
            return self.smart_client_secret.get_secret_value().strip() or None
        if self.smart_client_secret_file is None:
            return None
        return read_secret_file(self.smart_client_secret_file, "MYELONAV_SMART_CLIENT_SECRET_FILE")

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def trials_db(self) -> Path:
        return self.home_dir / "trials.sqlite3"

    @property
    def http_cache(self) -> Path:
        return self.home_dir / "cache" / "http.sqlite3"

    @property
    def install_secret_file(self) -> Path:
        return self.home_dir / "install-secret"

    @property
    def data_key_file(self) -> Path:
        return self.home_dir / "data.key"

    @property
    def profiles_db_url(self) -> str:
        """Where saved profiles live: ``database_url`` if set, else SQLite in the home folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'profiles.sqlite3'}"

    def ensure_home(self) -> Path:
        """Create the data directory (and its cache folder) 0700 if absent; return it."""
        make_private_dir(self.home_dir)
        make_private_dir(self.home_dir / "cache")
        return self.home_dir


def settings() -> Settings:
    """Current settings (read afresh, so tests can change the environment)."""
    return Settings()


__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "Mode", "Settings", "make_private_dir",
           "read_secret_file", "settings"]
