"""Every setting myelonav reads, in one place (environment variables prefixed ``MYELONAV_``).

``MYELONAV_HOME`` (default ``~/.local/share/myelonav``) holds the trials database, the
saved-profiles database and the HTTP cache; it is created on first use.
``MYELONAV_DATABASE_URL`` (SQLAlchemy URL) points the saved-profile store elsewhere, e.g. at
PostgreSQL; by default it is an embedded SQLite file in the home folder.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    def profiles_db_url(self) -> str:
        """Where saved profiles live: ``database_url`` if set, else SQLite in the home folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'profiles.sqlite3'}"

    def ensure_home(self) -> Path:
        """Create the data directory (and its cache folder) if absent; return it."""
        (self.home_dir / "cache").mkdir(parents=True, exist_ok=True)
        return self.home_dir


def settings() -> Settings:
    """Current settings (read afresh, so tests can change the environment)."""
    return Settings()


__all__ = ["Settings", "settings"]
