"""Property-based API testing: generated requests from the OpenAPI schema never get a 5xx."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from myelonav.samples import sample_ids, sample_profile  # noqa: E402
from myelonav.settings import Settings  # noqa: E402
from myelonav.web.app import create_app  # noqa: E402

# schemathesis parametrizes at collection time, so the app (on a private folder) is built here
_HOME = Path(tempfile.mkdtemp(prefix="myelonav-st-"))
_APP = create_app(Settings(home=_HOME, web_allowed_hosts=["testserver"],
                           # a trials update started by the fuzzer stays on loopback
                           ctgov_base_url="http://127.0.0.1:9/api/v2", ctgov_max_attempts=1))
# one saved profile, so the profile routes are also reached with a real id
_APP.state.profiles.create(sample_profile(sample_ids()[0]), "sample")
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    _APP.state.profiles.close()
    shutil.rmtree(_HOME, ignore_errors=True)


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    if response.status_code in (400, 404, 422):
        assert response.json()["detail"], "a 4xx must say what is wrong"
