"""Web fixtures: an app on a private data folder (profiles and trials in tmp_path)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from myelonav.settings import Settings
from myelonav.web.app import create_app
from myelonav.web.live import LiveServer, start_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", web_allowed_hosts=["testserver"])


@pytest.fixture
def app(web_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(web_settings)
    yield application
    application.state.profiles.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c



@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    server = start_server(folder / "home", folder / "server.log")
    yield server
    server.stop()
