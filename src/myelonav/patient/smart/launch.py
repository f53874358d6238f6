"""The SMART standalone launch as the web app runs it: start here, finish at the callback.

``Launches`` keeps the sign-ins under way: each ``state`` is random, used once, expires, and is
bound to the browser that started it (a hash of a cookie only that browser holds) and to the
account that started it. In one process they stay in memory; ``FileLaunches`` keeps them in the
data folder (0600 files, one per sign-in, named by a hash of the state) so that a server with
several worker processes finishes a sign-in in whichever worker the portal's answer reaches.
``finish`` exchanges the code, reads the record and imports it; the access token lives only in
its local variables for that time and is never written anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from myelonav.atomic import write_text_atomic
from myelonav.errors import ImportError_
from myelonav.patient.smart import ConnectResult, imported, read_patient
from myelonav.patient.smart.fhir import FhirReader
from myelonav.patient.smart.oauth import (
    SmartConfiguration,
    Token,
    authorization_url,
    consent_error,
    exchange_code,
    pkce_pair,
    refresh,
)

LAUNCH_TTL_S = 600.0
MAX_PENDING = 1000
# a request from the web app waits at most this long for a portal that asks to slow down
MAX_WEB_WAIT_S = 3.0

NOT_STARTED = (
    "this sign-in was not started in this browser, or it was already used. "
    "Start again from “Connect to my patient portal”"
)
EXPIRED = (
    "the sign-in took too long (more than 10 minutes) and has expired. "
    "Start again from “Connect to my patient portal”"
)


def browser_key_hash(browser_key: str) -> str:
    return hashlib.sha256(browser_key.encode("utf-8", "replace")).hexdigest()


@dataclass
class Pending:
    config: SmartConfiguration
    redirect_uri: str
    owner: str
    expires_at: float
    verifier: str = field(repr=False)
    binding: str = field(repr=False)


def _check(pending: Pending | None, *, now: float, browser_key: str | None, owner: str) -> Pending:
    """``pending`` if this browser and account started it and it has not expired."""
    if pending is None:
        raise ImportError_(NOT_STARTED, location="state")
    if pending.expires_at <= now:
        raise ImportError_(EXPIRED, location="state")
    same_browser = browser_key is not None and hmac.compare_digest(
        pending.binding, browser_key_hash(browser_key)
    )
    if not same_browser or pending.owner != owner:
        raise ImportError_(NOT_STARTED, location="state")
    return pending


class Launches:
    """Sign-ins under way: ``state`` → ``Pending``, in memory, single use, expiring."""

    def __init__(
        self, ttl: float = LAUNCH_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def _sweep(self, now: float) -> None:
        for state in [s for s, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[state]

    def _remember(self, state: str, pending: Pending) -> None:
        with self._lock:
            self._sweep(pending.expires_at - self.ttl)
            if len(self._pending) >= MAX_PENDING:
                raise ImportError_(
                    "too many sign-ins are under way; try again in a few minutes",
                    location="connect",
                )
            self._pending[state] = pending

    def begin(
        self,
        config: SmartConfiguration,
        *,
        client_id: str,
        redirect_uri: str,
        browser_key: str,
        owner: str,
    ) -> str:
        """Remember a new sign-in; the portal's sign-in address to send the browser to."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        pending = Pending(
            config=config,
            redirect_uri=redirect_uri,
            owner=owner,
            expires_at=self.clock() + self.ttl,
            verifier=verifier,
            binding=browser_key_hash(browser_key),
        )
        self._remember(state, pending)
        return authorization_url(
            config,
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=state,
            challenge=challenge,
        )

    def known(self, state: str) -> bool:
        """Is ``state`` a sign-in under way (not used, not expired)? Does not use it up."""
        with self._lock:
            pending = self._pending.get(state)
            return pending is not None and pending.expires_at > self.clock()

    def take(self, state: str, *, browser_key: str | None, owner: str) -> Pending:
        """The sign-in ``state`` names, used up; refused unless this browser and account
        started it and it has not expired."""
        with self._lock:
            pending = self._pending.get(state)
            if pending is not None and pending.expires_at <= self.clock():
                del self._pending[state]
            # a refused answer does not use the sign-in up: a forged answer must not spoil the
            # real user's sign-in
            _check(pending, now=self.clock(), browser_key=browser_key, owner=owner)
            return self._pending.pop(state)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)


class FileLaunches(Launches):
    """Sign-ins under way as files in ``folder`` (0700; each file 0600, named by a hash of the
    state, written atomically), shared by the server's worker processes. Taking one renames
    its file first, so exactly one process can use a sign-in; expired files are swept."""

    def __init__(
        self, folder: Path, ttl: float = LAUNCH_TTL_S, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(ttl, clock)
        self.folder = folder

    def _path(self, state: str) -> Path:
        return self.folder / hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()

    def _files(self) -> list[Path]:
        try:
            return [p for p in self.folder.iterdir() if len(p.name) == 64]
        except FileNotFoundError:
            return []

    def _sweep(self, now: float) -> None:
        for path in self._files():
            found = _read(path)
            if found is None or found.expires_at <= now:
                path.unlink(missing_ok=True)

    def _remember(self, state: str, pending: Pending) -> None:
        from myelonav.settings import make_private_dir

        make_private_dir(self.folder)
        self._sweep(pending.expires_at - self.ttl)
        if len(self._files()) >= MAX_PENDING:
            raise ImportError_(
                "too many sign-ins are under way; try again in a few minutes", location="connect"
            )
        path = self._path(state)
        write_text_atomic(path, json.dumps(_as_json(pending)))
        path.chmod(0o600)

    def known(self, state: str) -> bool:
        pending = _read(self._path(state))
        return pending is not None and pending.expires_at > self.clock()

    def take(self, state: str, *, browser_key: str | None, owner: str) -> Pending:
        path = self._path(state)
        pending = _read(path)
        if pending is not None and pending.expires_at <= self.clock():
            path.unlink(missing_ok=True)
        _check(pending, now=self.clock(), browser_key=browser_key, owner=owner)
        claimed = path.with_name(path.name + ".taken")
        try:
            os.rename(path, claimed)  # atomic: only one process wins
        except FileNotFoundError:
            raise ImportError_(NOT_STARTED, location="state") from None
        claimed.unlink(missing_ok=True)
        assert pending is not None  # _check refused None
        return pending

    def __len__(self) -> int:
        return len(self._files())


def _as_json(p: Pending) -> dict[str, Any]:
    c = p.config
    return {
        "config": {
            "issuer": c.issuer,
            "authorization_endpoint": c.authorization_endpoint,
            "token_endpoint": c.token_endpoint,
            "capabilities": sorted(c.capabilities),
            "scopes_supported": sorted(c.scopes_supported),
            "token_auth_methods": sorted(c.token_auth_methods),
        },
        "redirect_uri": p.redirect_uri,
        "owner": p.owner,
        "expires_at": p.expires_at,
        "verifier": p.verifier,
        "binding": p.binding,
    }


def _read(path: Path) -> Pending | None:
    """The sign-in stored at ``path``; None when absent or unreadable (never an error page
    with its content)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        c = raw["config"]
        config = SmartConfiguration(
            issuer=str(c["issuer"]),
            authorization_endpoint=str(c["authorization_endpoint"]),
            token_endpoint=str(c["token_endpoint"]),
            capabilities=frozenset(map(str, c["capabilities"])),
            scopes_supported=frozenset(map(str, c["scopes_supported"])),
            token_auth_methods=frozenset(map(str, c["token_auth_methods"])),
        )
        return Pending(
            config=config,
            redirect_uri=str(raw["redirect_uri"]),
            owner=str(raw["owner"]),
            expires_at=float(raw["expires_at"]),
            verifier=str(raw["verifier"]),
            binding=str(raw["binding"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def finish(
    pending: Pending,
    *,
    code: str | None,
    error: str | None,
    client_id: str,
    client_secret: str | None = None,
    as_of: dt.date | None = None,
    http_timeout: float = 30.0,
    sleep: Callable[[float], None] | None = None,
) -> ConnectResult:
    """Exchange the code, read the patient's record and import it (nothing is saved here)."""
    config = pending.config
    if error:
        raise ImportError_(consent_error(error), location="portal")
    if not code:
        raise ImportError_("the portal's answer has no authorization code", location="portal")

    def wait(seconds: float) -> None:
        (sleep or time.sleep)(min(seconds, MAX_WEB_WAIT_S))

    with httpx.Client(timeout=http_timeout, follow_redirects=False) as client:
        token = exchange_code(
            client,
            config,
            code=code,
            verifier=pending.verifier,
            redirect_uri=pending.redirect_uri,
            client_id=client_id,
            client_secret=client_secret,
        )
        patient_id = token.patient
        if patient_id is None:  # exchange_code guarantees it; kept for the type checker
            raise ImportError_("no patient shared", location=config.issuer)

        def renew(current: Token) -> Token:
            fresh = refresh(client, config, current, client_id, client_secret)
            if fresh is None:
                raise ImportError_(
                    "your portal sign-in ran out while your record was being read; connect again",
                    location=config.issuer,
                )
            if fresh.patient not in (None, patient_id):
                raise ImportError_(
                    "the portal switched to another patient on sign-in; refused",
                    location=config.issuer,
                )
            return fresh

        reader = FhirReader(client, config.issuer, token, renew, sleep=wait)
        del token
        bundle, documents = read_patient(reader, patient_id)
        reader.token = Token(access_token="-", expires_at=0.0)  # drop it before the import
    return imported(reader, bundle, documents, source=config.issuer, as_of=as_of)


__all__ = ["EXPIRED", "LAUNCH_TTL_S", "NOT_STARTED", "Launches", "Pending", "finish"]
