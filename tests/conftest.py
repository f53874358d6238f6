"""Shared fixtures. Tests never need ../shared; those that use it skip with a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from myelonav import readability

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
AS_OF = dt.date(2026, 11, 25)


@pytest.fixture(scope="session", autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test reads or writes the user's real data folder (``~/.local/share/myelonav``):
    a test that needs its own folder still sets ``MYELONAV_HOME`` itself."""
    home = tmp_path_factory.mktemp("myelonav-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYELONAV_HOME", str(home))
        yield home


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared reference data not present at {SHARED}")
    return SHARED


@pytest.fixture
def fk_grade() -> Callable[[str], float]:
    """The project's offline Flesch-Kincaid grade (``myelonav.readability``)."""
    return readability.fk_grade
