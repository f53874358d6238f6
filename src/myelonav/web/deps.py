"""Request-scoped access to the app's stores and settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi import Path as PathParam

from myelonav.store.profiles import ProfileStore, SavedProfile

if TYPE_CHECKING:
    from myelonav.web.auth.principal import Action

PROFILE_ID_PATTERN = r"^[0-9a-f]{32}$"

ProfileId = Annotated[
    str,
    PathParam(pattern=PROFILE_ID_PATTERN, description="Saved profile id (32 hex digits)."),
]


AsOfQuery = Annotated[
    str | None,
    Query(description="Reason as of this date (YYYY-MM-DD); default today (samples: the "
                      "day they were written for).", examples=["2026-11-25"]),
]
ZipQuery = Annotated[str | None, Query(pattern=r"^\d{5}$", description="US ZIP code.")]
MilesQuery = Annotated[float | None, Query(ge=0, le=25000, description="Miles.")]


def get_store(request: Request) -> ProfileStore:
    """The profile store scoped to who is asking, auditing every access (``web.access``)."""
    from myelonav.web.access import ScopedStore, intent
    from myelonav.web.auth.deps import principal

    base: ProfileStore = request.app.state.profiles
    client = request.client.host if request.client else None
    return ScopedStore(base, principal(request), request.app.state.audit,
                       request.app.state.accounts, client=client,
                       action=intent(request.method, request.url.path))


def scoped_store(request: Request, action: Action) -> ProfileStore:
    """Like ``get_store`` but for a stated action (a POST that only reads a profile)."""
    from myelonav.web.access import ScopedStore
    from myelonav.web.auth.deps import principal

    base: ProfileStore = request.app.state.profiles
    client = request.client.host if request.client else None
    return ScopedStore(base, principal(request), request.app.state.audit,
                       request.app.state.accounts, client=client,
                       action=action)


def trials_db(request: Request) -> Path:
    path: Path = request.app.state.trials_db
    return path


Store = Annotated[ProfileStore, Depends(get_store)]
TrialsDb = Annotated[Path, Depends(trials_db)]


def require_profile(store: ProfileStore, profile_id: str) -> SavedProfile:
    saved = store.get(profile_id)
    if saved is None:
        raise HTTPException(404, "no saved profile with this id (it may have been deleted)",
                            headers={"X-Error-Field": "profile_id"})
    return saved


__all__ = [
    "PROFILE_ID_PATTERN",
    "AsOfQuery",
    "MilesQuery",
    "ProfileId",
    "Store",
    "TrialsDb",
    "ZipQuery",
    "get_store",
    "require_profile",
    "scoped_store",
    "trials_db",
]
