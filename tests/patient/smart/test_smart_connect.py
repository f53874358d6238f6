"""SMART standalone launch end to end against the local portal (conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.errors import ImportError_
from myelonav.patient.fhir_import import import_bundle
from myelonav.patient.profile_io import load_profile
from myelonav.patient.smart import connect
from myelonav.patient.smart.fhir import retry_after_seconds
from myelonav.patient.smart.oauth import Token, discover, exchange_code, pkce_pair
from myelonav.samples import sample_bundle_path, sample_ids

AS_OF = dt.date(2026, 11, 25)


def _expected(patient_id: str) -> dict[str, Any]:
    for sample in sample_ids():
        bundle = json.loads(sample_bundle_path(sample).read_text("utf-8"))
        if any(e["resource"].get("id") == patient_id for e in bundle["entry"]):
            return import_bundle(bundle, as_of=AS_OF).record.model_dump(exclude={"unmapped"})
    raise AssertionError(patient_id)


@pytest.mark.parametrize("index", range(len(sample_ids())))
def test_connect_reads_and_imports_every_sample_patient(
    portal: Any, browser: Any, index: int
) -> None:
    portal.patient_id = list(portal.patients)[index]
    result = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20)
    assert result.report.record.model_dump(exclude={"unmapped"}) == _expected(portal.patient_id)
    assert "token:code" in portal.log  # PKCE verifier checked by the token endpoint
    assert "page:next" in portal.log  # paging followed
    assert result.retries == 1 and "fhir:429" in portal.log  # Retry-After honoured once
    assert result.unsupported == ["MedicationStatement (HTTP 400)"]
    assert len(browser.opened) == 1


def test_expired_access_token_is_refreshed(portal: Any, browser: Any) -> None:
    portal.requests_per_token = 5
    result = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20)
    assert result.renewals >= 2 and portal.log.count("token:refresh") == result.renewals
    assert len(browser.opened) == 1  # no second sign-in needed
    assert result.report.record.model_dump(exclude={"unmapped"}) == _expected(portal.patient_id)


def test_expired_token_without_refresh_signs_in_again(portal: Any, browser: Any) -> None:
    portal.issue_refresh_tokens = False
    portal.requests_per_token = 12
    result = connect(portal.base, open_browser=browser, as_of=AS_OF, timeout=20)
    assert len(browser.opened) == result.renewals + 1 >= 2
    assert "token:refresh" not in portal.log


def test_refused_consent_reads_nothing(portal: Any, browser: Any) -> None:
    portal.approve = False
    with pytest.raises(ImportError_, match="declined to share"):
        connect(portal.base, open_browser=browser, timeout=20)
    assert not any(entry.startswith("search:") for entry in portal.log)


def test_forged_state_is_refused(portal: Any, browser: Any) -> None:
    portal.wrong_state = True
    with pytest.raises(ImportError_, match="state"):
        connect(portal.base, open_browser=browser, timeout=20)
    assert "token:code" not in portal.log


def test_no_answer_times_out(portal: Any) -> None:
    with pytest.raises(ImportError_, match="no answer from the portal"):
        connect(portal.base, open_browser=lambda url: None, timeout=0.5)


def test_token_endpoint_rejects_a_wrong_verifier(portal: Any) -> None:
    with httpx.Client() as client:
        config = discover(client, portal.base)
        verifier, challenge = pkce_pair()
        redirect = "http://127.0.0.1:9/callback"
        answer = client.get(
            config.authorization_endpoint,
            params={
                "response_type": "code",
                "client_id": "myelonav",
                "redirect_uri": redirect,
                "scope": config.scope(),
                "state": "s",
                "aud": portal.base,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        code = dict(httpx.URL(answer.headers["location"]).params)["code"]
        with pytest.raises(ImportError_, match="refused the sign-in"):
            exchange_code(
                client,
                config,
                code=code,
                verifier=pkce_pair()[0],
                redirect_uri=redirect,
                client_id="myelonav",
            )
    assert verifier != ""


def test_plain_http_portal_is_refused() -> None:
    with httpx.Client() as client, pytest.raises(ImportError_, match="not an https URL"):
        discover(client, "http://portal.example.org/fhir")


def test_pkce_pair_is_rfc7636_s256() -> None:
    import base64
    import hashlib
    import re

    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pkce_pair()[0] != verifier


def test_token_repr_hides_secrets() -> None:
    token = Token(access_token="SECRET-A", expires_at=0, refresh_token="SECRET-R", patient="p1")
    assert "SECRET" not in repr(token) and "p1" in repr(token)


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("999999") == 60.0
    assert retry_after_seconds(None) == 1.0
    assert retry_after_seconds("soon") == 1.0
    assert retry_after_seconds("Fri, 04 Dec 2026 16:00:10 GMT", now=1796400000.0) == 10.0


def test_cli_connect_writes_a_profile(
    portal: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", browser)
    out = tmp_path / "me.json"
    result = CliRunner().invoke(
        app, ["patient", "connect", portal.base, "--out", str(out), "--as-of", "2026-11-25"]
    )
    assert result.exit_code == 0, result.output
    assert "open this address" in result.output.lower()
    assert load_profile(out).model_dump(exclude={"unmapped"}) == _expected(portal.patient_id)
    assert "access_token" not in result.output
