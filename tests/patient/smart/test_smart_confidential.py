"""Confidential clients: the token endpoint authenticates myelonav with its client secret."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.errors import ImportError_, InputError
from myelonav.patient.smart import connect
from myelonav.patient.smart.oauth import SmartConfiguration
from myelonav.settings import Settings

AS_OF = dt.date(2026, 11, 25)
SECRET = "s3cr3t with spaces & symbols:/+="


@pytest.mark.parametrize(
    ("advertised", "expected"),
    [
        (None, "auth:basic"),  # RFC 8414: no list means client_secret_basic
        (["client_secret_basic", "client_secret_post"], "auth:basic"),
        (["client_secret_post"], "auth:post"),
    ],
)
def test_confidential_client_authenticates_as_the_portal_allows(
    portal: Any, browser: Any, advertised: list[str] | None, expected: str
) -> None:
    portal.client_secret = SECRET
    portal.auth_methods = advertised
    portal.requests_per_token = 6  # forces refreshes: they authenticate too
    result = connect(
        portal.base, open_browser=browser, as_of=AS_OF, timeout=20, client_secret=SECRET
    )
    assert result.report.record.labs
    assert portal.log.count(expected) == 1 + portal.log.count("token:refresh") >= 2
    assert "token:unauthenticated" not in portal.log


def test_wrong_secret_is_refused(portal: Any, browser: Any) -> None:
    portal.client_secret = SECRET
    with pytest.raises(ImportError_, match=r"refused the sign-in \(HTTP 401\)"):
        connect(portal.base, open_browser=browser, timeout=20, client_secret="wrong")
    assert "token:unauthenticated" in portal.log


def test_public_client_at_a_confidential_portal_says_what_is_missing(
    portal: Any, browser: Any
) -> None:
    portal.client_secret = SECRET
    with pytest.raises(ImportError_, match="client secret"):
        connect(portal.base, open_browser=browser, timeout=20)


def test_a_secret_the_portal_cannot_take_is_refused_before_sign_in(
    portal: Any, browser: Any
) -> None:
    portal.auth_methods = ["private_key_jwt"]
    with pytest.raises(ImportError_, match="neither client_secret_basic nor client_secret_post"):
        connect(portal.base, open_browser=browser, timeout=20, client_secret=SECRET)
    assert browser.opened == [] and portal.authorize_calls == 0


def test_auth_method_choice() -> None:
    config = SmartConfiguration("https://p/fhir", "https://p/a", "https://p/t")
    assert config.auth_method(None) == "none"
    assert config.auth_method("x") == "client_secret_basic"
    post_only = SmartConfiguration(
        "https://p/fhir",
        "https://p/a",
        "https://p/t",
        token_auth_methods=frozenset({"client_secret_post", "none"}),
    )
    assert post_only.auth_method("x") == "client_secret_post"
    assert post_only.auth_method(None) == "none"


def test_secret_from_settings_and_file(tmp_path: Path) -> None:
    assert Settings(home=tmp_path).smart_secret() is None
    assert Settings(home=tmp_path, smart_client_secret=" abc \n").smart_secret() == "abc"
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n", "utf-8")
    assert Settings(home=tmp_path, smart_client_secret_file=secret_file).smart_secret() == (
        "from-file"
    )
    with pytest.raises(InputError, match="MYELONAV_SMART_CLIENT_SECRET_FILE"):
        Settings(home=tmp_path, smart_client_secret_file=tmp_path / "absent").smart_secret()
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(InputError, match="larger than 4 KB"):
        Settings(home=tmp_path, smart_client_secret_file=big).smart_secret()


def test_cli_reads_the_secret_from_a_file_and_never_prints_it(
    portal: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal.client_secret = SECRET
    secret_file = tmp_path / "client-secret"
    secret_file.write_text(SECRET + "\n", "utf-8")
    monkeypatch.setattr("webbrowser.open", browser)
    out = tmp_path / "me.json"
    result = CliRunner().invoke(
        app,
        [
            "patient",
            "connect",
            portal.base,
            "--out",
            str(out),
            "--as-of",
            "2026-11-25",
            "--client-secret-file",
            str(secret_file),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "auth:basic" in portal.log
    assert SECRET not in result.output and SECRET not in out.read_text("utf-8")


def test_cli_reads_the_secret_from_the_environment(
    portal: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal.client_secret = SECRET
    portal.auth_methods = ["client_secret_post"]
    monkeypatch.setenv("MYELONAV_SMART_CLIENT_SECRET", SECRET)
    monkeypatch.setattr("webbrowser.open", browser)
    result = CliRunner().invoke(app, ["patient", "connect", portal.base, "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "auth:post" in portal.log and SECRET not in result.output
