"""The local SMART portal (``myelonav.patient.smart.fake_portal``) and the user's browser."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from myelonav.patient.smart.fake_portal import Portal, serve_portal


@pytest.fixture
def portal() -> Iterator[Portal]:
    with serve_portal() as state:
        yield state


class Browser:
    """The user's browser: follows the portal's redirect to the app's loopback receiver."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        httpx.get(url, follow_redirects=True, timeout=10)


@pytest.fixture
def browser() -> Browser:
    return Browser()
