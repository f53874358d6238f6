"""Accounts: argon2id hashes, sessions stored hashed, throttling, disabling; both backends."""

from __future__ import annotations

import pytest

from myelonav.errors import InputError
from myelonav.store.accounts import Accounts, token_hash
from myelonav.store.profiles import make_engine

PASSWORD = "a long enough password"


def test_add_login_session_disable(db_url: str) -> None:
    accounts = Accounts(make_engine(db_url))
    user = accounts.add_user("Nurse.One", PASSWORD, "navigator", "Team A")
    assert user.username == "nurse.one" and user.team_id in accounts.teams()
    with accounts.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate("nurse.one", PASSWORD, "1.2.3.4") == user
    assert accounts.authenticate("nurse.one", "wrong password!", "1.2.3.4") is None
    token = accounts.new_session(user.id, 60)
    with accounts.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT token_hash FROM web_sessions").scalar_one()
    assert kept == token_hash(token) and token not in kept
    assert accounts.session_user(token) == user
    accounts.set_disabled("nurse.one")
    assert accounts.session_user(token) is None
    assert accounts.authenticate("nurse.one", PASSWORD, "1.2.3.4") is None


def test_lockout_after_repeated_failures(db_url: str) -> None:
    accounts = Accounts(make_engine(db_url))
    accounts.add_user("doc", PASSWORD, "clinician", "Team B")
    for _ in range(3):
        assert accounts.authenticate("doc", "nope nope nope", "5.5.5.5", max_failures=3) is None
    # locked: even the right password fails now, from any address
    assert accounts.authenticate("doc", PASSWORD, "6.6.6.6", max_failures=3) is None


@pytest.mark.parametrize(("name", "password", "role", "team", "field"), [
    ("", PASSWORD, "admin", None, "username"),
    ("x", "short", "admin", None, "password"),
    ("x", PASSWORD, "root", None, "role"),
    ("x", PASSWORD, "navigator", None, "team"),
])
def test_bad_accounts_name_the_field(db_url: str, name: str, password: str, role: str,
                                     team: str | None, field: str) -> None:
    accounts = Accounts(make_engine(db_url))
    with pytest.raises(InputError) as err:
        accounts.add_user(name, password, role, team)
    assert err.value.location == field


def test_duplicate_user_is_refused(db_url: str) -> None:
    accounts = Accounts(make_engine(db_url))
    accounts.add_user("admin", PASSWORD, "admin")
    with pytest.raises(InputError):
        accounts.add_user("ADMIN", PASSWORD, "admin")
