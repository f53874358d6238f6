"""Clinic accounts: teams, users (argon2id hashes), sessions, login throttling, sharing.

Session tokens are random (256 bits); only their SHA-256 is stored, so a copy of the
database does not let anyone log in. A login always creates a new session (no fixation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, Integer, String, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from myelonav.errors import InputError, StoreError

Role = Literal["patient", "navigator", "clinician", "admin"]
ROLES: tuple[Role, ...] = ("patient", "navigator", "clinician", "admin")
USERNAME_MAX = 80
LOCKOUT = dt.timedelta(minutes=15)
ADDRESS_FACTOR = 10

# argon2id (the library default type) with RFC 9106's second recommended profile:
# 64 MiB, 3 passes, 4 lanes.
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """Verified against when the user does not exist, so the timing is the same."""
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]


class _Base(DeclarativeBase):
    pass


class TeamRow(_Base):
    __tablename__ = "teams"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class UserRow(_Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(_Base):
    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoginFailureRow(_Base):
    __tablename__ = "login_failures"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ShareRow(_Base):
    """A patient shares one profile with a caregiver's account."""

    __tablename__ = "profile_shares"
    profile_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: Role
    team_id: str | None
    disabled: bool


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user(row: UserRow) -> User:
    role: Role = row.role  # type: ignore[assignment]
    return User(row.id, row.username, role, row.team_id, row.disabled)


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        try:
            _Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the accounts tables: {exc.__class__.__name__}",
                             location="users") from None

    # --- teams and users -----------------------------------------------------------------
    def add_team(self, name: str) -> str:
        name = name.strip()
        if not name or len(name) > 120:
            raise InputError("a team name is 1 to 120 characters", location="team")
        with self._sessions.begin() as s:
            existing = s.scalar(select(TeamRow.id).where(TeamRow.name == name))
            if existing:
                return existing
            team_id = secrets.token_hex(8)
            s.add(TeamRow(id=team_id, name=name))
            return team_id

    def teams(self) -> dict[str, str]:
        with self._sessions.begin() as s:
            return {r.id: r.name for r in s.scalars(select(TeamRow).order_by(TeamRow.name))}

    def add_user(self, username: str, password: str, role: str,
                 team: str | None = None) -> User:
        username = username.strip().lower()
        if not username or len(username) > USERNAME_MAX or not username.isprintable():
            raise InputError(f"a user name is 1 to {USERNAME_MAX} printable characters",
                             location="username")
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}", location="role")
        if len(password) < 12:
            raise InputError("a password has at least 12 characters", location="password")
        if role in ("navigator", "clinician") and not team:
            raise InputError("navigators and clinicians belong to a care team", location="team")
        team_id = self.add_team(team) if team else None
        row = UserRow(id=secrets.token_hex(16), username=username,
                      password_hash=_HASHER.hash(password), role=role, team_id=team_id,
                      disabled=False, created_at=_now())
        try:
            with self._sessions.begin() as s:
                s.add(row)
        except IntegrityError:
            raise InputError(f"user {username!r} already exists", location="username") from None
        return _user(row)

    def users(self) -> list[User]:
        with self._sessions.begin() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def user_by_name(self, username: str) -> User | None:
        with self._sessions.begin() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))
            return _user(row) if row else None

    def user(self, user_id: str) -> User | None:
        with self._sessions.begin() as s:
            row = s.get(UserRow, user_id)
            return _user(row) if row else None

    def set_disabled(self, username: str, disabled: bool = True) -> User:
        with self._sessions.begin() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))
            if row is None:
                raise InputError(f"no user {username!r}", location="username")
            row.disabled = disabled
            if disabled:
                s.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            return _user(row)

    # --- login -------------------------------------------------------------------------------
    def _locked(self, key: str, max_failures: int) -> bool:
        with self._sessions.begin() as s:
            row = s.get(LoginFailureRow, key)
            if row is None:
                return False
            return row.failures >= max_failures and _now() - _aware(row.last_at) < LOCKOUT

    def _note_failure(self, key: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(LoginFailureRow, key, with_for_update=True)
            if row is None:
                s.add(LoginFailureRow(key=key, failures=1, last_at=_now()))
            else:
                expired = _now() - _aware(row.last_at) >= LOCKOUT
                row.failures = 1 if expired else row.failures + 1
                row.last_at = _now()

    def _clear_failures(self, key: str) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == key))

    def authenticate(self, username: str, password: str, client: str,
                     max_failures: int = 5) -> User | None:
        """The user if the password is right and neither the account nor the address is
        locked out; ``None`` otherwise (same answer and similar timing for every failure)."""
        name = username.strip().lower()[:USERNAME_MAX]
        keys = (f"user:{name}", f"addr:{client}")
        with self._sessions.begin() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == name))
        # an address (a whole clinic behind one NAT) gets ten times the account's allowance
        locked = (self._locked(keys[0], max_failures)
                  or self._locked(keys[1], max_failures * ADDRESS_FACTOR))
        ok: bool
        try:
            ok = _HASHER.verify(row.password_hash if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            ok = False
        if locked or not ok or row is None or row.disabled:
            for k in keys:
                self._note_failure(k)
            return None
        self._clear_failures(keys[0])
        if _HASHER.check_needs_rehash(row.password_hash):
            with self._sessions.begin() as s:
                fresh = s.get(UserRow, row.id)
                if fresh is not None:
                    fresh.password_hash = _HASHER.hash(password)
        return _user(row)

    # --- sessions ------------------------------------------------------------------------------
    def new_session(self, user_id: str, max_age_s: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._sessions.begin() as s:
            s.add(SessionRow(token_hash=token_hash(token), user_id=user_id,
                             expires_at=_now() + dt.timedelta(seconds=max_age_s)))
        return token

    def session_user(self, token: str) -> User | None:
        with self._sessions.begin() as s:
            row = s.get(SessionRow, token_hash(token))
            if row is None:
                return None
            if _aware(row.expires_at) <= _now():
                s.delete(row)
                return None
            user = s.get(UserRow, row.user_id)
            if user is None or user.disabled:
                return None
            return _user(user)

    def end_session(self, token: str) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))

    # --- caregiver sharing ------------------------------------------------------------------
    def share(self, profile_id: str, user_id: str) -> None:
        with self._sessions.begin() as s:
            if s.get(ShareRow, (profile_id, user_id)) is None:
                s.add(ShareRow(profile_id=profile_id, user_id=user_id))

    def shared_with(self, profile_id: str, user_id: str) -> bool:
        with self._sessions.begin() as s:
            return s.get(ShareRow, (profile_id, user_id)) is not None

    def shared_profile_ids(self, user_id: str) -> list[str]:
        """Profiles shared with this (caregiver's) account."""
        with self._sessions.begin() as s:
            return list(s.scalars(select(ShareRow.profile_id).where(ShareRow.user_id == user_id)))


__all__ = ["ROLES", "Accounts", "Role", "User", "token_hash"]
