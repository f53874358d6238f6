"""schemathesis over the authenticated clinic API (a clinician's session): never a 5xx,
every refusal says why, and nothing of another team's profile ever comes back."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from myelonav.patient.models import PatientRecord, Preferences  # noqa: E402
from myelonav.samples import sample_ids, sample_profile  # noqa: E402
from myelonav.settings import Settings  # noqa: E402
from myelonav.store.crypto import new_key  # noqa: E402
from myelonav.web.app import create_app  # noqa: E402
from myelonav.web.auth.csrf import csrf_token  # noqa: E402

SECRET = "q" * 48
OTHER_TEAM_MARKER = "OTHERTEAM7f3a9c"
_HOME = Path(tempfile.mkdtemp(prefix="myelonav-stc-"))
_APP = create_app(Settings(home=_HOME / "home", mode="clinic", secret_key=SECRET,
                           data_key=new_key(), web_allowed_hosts=["testserver", "localhost"],
                           database_url=f"sqlite:///{_HOME / 'clinic.sqlite3'}",
                           ctgov_base_url="http://127.0.0.1:9/api/v2", ctgov_max_attempts=1))
_accounts = _APP.state.accounts
_user = _accounts.add_user("clin", "schemathesis password", "clinician", "Team A")
_other = _accounts.add_user("clin_other", "schemathesis password", "clinician", "Team B")
_TOKEN = _accounts.new_session(_user.id, 3600)
_APP.state.profiles.create(sample_profile(sample_ids()[0]), "sample", team_id=_user.team_id,
                           owner_id=_user.id)
_APP.state.profiles.create(PatientRecord(id="other", preferences=Preferences(
    notes=OTHER_TEAM_MARKER)), "intake", team_id=_other.team_id, owner_id=_other.id)
COOKIES = {"myelonav_session": _TOKEN}
HEADERS = {"X-CSRF-Token": csrf_token(SECRET, _TOKEN)}
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _APP, cookies=COOKIES)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    _APP.state.profiles.close()
    shutil.rmtree(_HOME, ignore_errors=True)


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_authenticated_api_never_fails(case: Any) -> None:
    response = case.call(cookies=COOKIES, headers=HEADERS)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    if response.status_code >= 400:
        assert response.json()["detail"], "a refusal must say what is wrong"
    assert OTHER_TEAM_MARKER not in response.text, "another team's profile leaked"
