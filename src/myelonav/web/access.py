"""The profile store as one request sees it: scoped to the principal's rights, audited.

Every route reaches profiles through ``deps.Store``, which is a ``ScopedStore``: reads of a
profile outside the principal's team (or, for a patient, not theirs or shared with them)
come back as "no such profile" (404, so ids cannot be probed), and every read, change,
export and delete, allowed or refused, is appended to the audit trail with who, when and
from where. The route handlers stay unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException

from myelonav.patient.models import PatientRecord
from myelonav.store.accounts import Accounts
from myelonav.store.audit import AuditLog
from myelonav.store.profiles import (
    Change,
    HistoryEntry,
    ProfileListing,
    ProfileStore,
    SavedProfile,
)
from myelonav.web.auth.principal import Action, Principal, can

EXPORT_MARKERS = ("/export", "export.json", "/packet", ".pdf", ".ics", "/fhir")


def intent(method: str, path: str) -> Action:
    """What a request does to the profile it names, for the access check and the audit."""
    if method == "DELETE" or path.endswith("/delete"):
        return "delete"
    if method in ("POST", "PUT", "PATCH"):
        return "change"
    if any(marker in path for marker in EXPORT_MARKERS):
        return "export"
    return "read"


class ScopedStore(ProfileStore):
    """A view of ``base`` for one principal and one request (shares its engine)."""

    def __init__(self, base: ProfileStore, who: Principal, audit: AuditLog,
                 accounts: Accounts, *, client: str | None, action: Action) -> None:
        # deliberately not calling ProfileStore.__init__: same engine, sessions and cipher
        self.engine = base.engine
        self._sessions = base._sessions
        self._cipher = base._cipher
        self._base = base
        self.who = who
        self._audit = audit
        self._accounts = accounts
        self._client = client
        self._action = action

    def close(self) -> None:  # the app owns the engine
        pass

    def _log(self, action: str, profile_id: str | None = None, team_id: str | None = None,
             count: int | None = None) -> None:
        # reads are written in groups (``AuditLog.append``): one transaction per page view
        # would cap the whole server at the disk's fsync rate
        self._audit.append(actor=self.who.username, role=self.who.role, action=action,
                           profile_id=profile_id, team_id=team_id, client=self._client,
                           count=count, deferred=action == "read")

    def _check(self, profile_id: str, action: Action) -> tuple[bool | None, bool]:
        """(allowed, may_read): allowed is None when there is no such profile."""
        exists, team_id, owner_id = self._base.team_of(profile_id)
        if not exists:
            return None, False
        shared = (self.who.role == "patient" and owner_id != self.who.user_id
                  and self._accounts.shared_with(profile_id, self.who.user_id))
        ok = can(self.who, action, team_id=team_id, owner_id=owner_id, shared=shared)
        may_read = ok or can(self.who, "read", team_id=team_id, owner_id=owner_id,
                             shared=shared)
        if not ok:
            self._log("denied", profile_id, team_id)
        return ok, may_read

    def _allowed(self, profile_id: str, action: Action) -> bool:
        ok, may_read = self._check(profile_id, action)
        if ok is False and may_read:
            raise HTTPException(403, "your role does not allow this")
        return bool(ok)

    def create(self, record: PatientRecord, source: str, *, team_id: str | None = None,
               owner_id: str | None = None, answers: dict[str, list[str]] | None = None,
               label: str | None = None) -> SavedProfile:
        if not self.who.clinical:
            raise HTTPException(403, "administrators do not hold patient data")
        owner = None if self.who.role == "local" else self.who.user_id
        saved = super().create(record, source, team_id=self.who.team_id, owner_id=owner,
                               answers=answers, label=label)
        self._log("create", saved.id, saved.team_id)
        return saved

    def get(self, profile_id: str) -> SavedProfile | None:
        self.purge_due()
        # the request's intent decides the right needed: reading a profile in order to
        # delete it needs the delete right
        if not self._allowed(profile_id, self._action):
            return None  # 404 whether it does not exist or is another team's
        saved = super().get(profile_id)
        if saved is not None and self._action in ("read", "export"):
            self._log(self._action, profile_id, saved.team_id)
        return saved

    def check_read(self, profile_id: str,
                   place: tuple[str | None, str | None] | None = None) -> bool:
        """May this principal read the profile? Audited as ``get`` audits a read: a page
        served from the page cache (``web.cache``) is still a read of the profile.
        ``place``: the profile's (team, owner) when the caller has just read them."""
        if place is None:
            exists, team_id, owner_id = self._base.team_of(profile_id)
            if not exists:
                return False
        else:
            team_id, owner_id = place
        shared = (self.who.role == "patient" and owner_id != self.who.user_id
                  and self._accounts.shared_with(profile_id, self.who.user_id))
        if not can(self.who, "read", team_id=team_id, owner_id=owner_id, shared=shared):
            self._log("denied", profile_id, team_id)
            return False
        self._log("read", profile_id, team_id)
        return True

    def replace_record(self, profile_id: str, record: PatientRecord, *,
                       answers: dict[str, list[str]] | None = None,
                       changes: Sequence[Change] = (), actor: str = "local") -> SavedProfile | None:
        if not self._allowed(profile_id, "change"):
            return None
        saved = super().replace_record(profile_id, record, answers=answers, changes=changes,
                                       actor=self.who.username)
        self._log("change", profile_id, saved.team_id if saved else None)
        return saved

    def update_preferences(self, profile_id: str, changes: dict[str, Any], *,
                           actor: str = "local") -> SavedProfile | None:
        if not self._allowed(profile_id, "change"):
            return None
        saved = super().update_preferences(profile_id, changes, actor=self.who.username)
        self._log("change", profile_id, saved.team_id if saved else None)
        return saved

    def set_label(self, profile_id: str, label: str | None, *, actor: str = "local") -> bool:
        if not self._allowed(profile_id, "change"):
            return False
        done = super().set_label(profile_id, label, actor=self.who.username)
        self._log("change", profile_id)
        return done

    def answers(self, profile_id: str) -> dict[str, list[str]] | None:
        if not self._allowed(profile_id, self._action):
            return None
        return super().answers(profile_id)

    def history(self, profile_id: str) -> list[HistoryEntry]:
        if not self._allowed(profile_id, "read"):
            return []
        self._log("read", profile_id)
        return super().history(profile_id)

    def trash(self, profile_id: str, keep_for: dt.timedelta) -> dt.datetime | None:
        if not self._allowed(profile_id, "delete"):
            return None
        until = super().trash(profile_id, keep_for)
        self._log("trash", profile_id)
        return until

    def _trashed_allowed(self, profile_id: str) -> bool:
        """May the principal undo or finish the deletion of a profile in the trash?"""
        exists, team_id, owner_id = self._base.team_of(profile_id, include_trashed=True)
        if not exists:
            return False
        ok = can(self.who, "delete", team_id=team_id, owner_id=owner_id)
        if not ok:
            self._log("denied", profile_id, team_id)
        return ok

    def trashed_until(self, profile_id: str) -> dt.datetime | None:
        return super().trashed_until(profile_id) if self._trashed_allowed(profile_id) else None

    def restore(self, profile_id: str) -> bool:
        if not self._trashed_allowed(profile_id):
            return False
        done = super().restore(profile_id)
        if done:
            self._log("restore", profile_id)
        return done

    def purge_due(self) -> list[str]:
        erased = self._base.purge_due()
        for pid in erased:
            self._log("purge", pid)
        return erased

    def erase_trashed(self, profile_id: str) -> bool:
        if not self._trashed_allowed(profile_id):
            return False
        done = self._base.erase_trashed(profile_id)
        if done:
            self._log("delete", profile_id)
        return done

    def import_history(self, profile_id: str, entries: Sequence[HistoryEntry]) -> bool:
        if not self._allowed(profile_id, "change"):
            return False
        return super().import_history(profile_id, entries)

    def purge_expired(self, now: dt.datetime | None = None) -> list[str]:
        # housekeeping for everyone's expired trash, not an access to anyone's profile; the
        # audit names each erased profile
        erased = self._base.purge_expired(now)
        for pid in erased:
            self._log("purge", pid)
        return erased

    def listing(self, *, team_id: str | None = None, owner_id: str | None = None,
                also_ids: Sequence[str] = ()) -> list[ProfileListing]:
        """The principal's own list: everything (local mode), the team's (navigators and
        clinicians), or a patient's own profiles and those shared with them."""
        if not self.who.clinical:
            raise HTTPException(403, "administrators do not hold patient data")
        self.purge_expired()
        if self.who.role == "local":
            found = super().listing()
        elif self.who.role == "patient":
            found = super().listing(owner_id=self.who.user_id,
                                    also_ids=self._accounts.shared_profile_ids(self.who.user_id))
        elif self.who.team_id:
            found = super().listing(team_id=self.who.team_id)
        else:
            found = []
        self._log("read", None, self.who.team_id, count=len(found))
        return found

    def delete(self, profile_id: str) -> bool:
        if not self._allowed(profile_id, "delete"):
            return False
        gone = super().delete(profile_id)
        self._log("delete", profile_id)
        return gone

    def share(self, profile_id: str, username: str) -> bool:
        """Share a profile with a caregiver's (patient-role) account; False: no such profile."""
        if self.who.role == "local":
            raise HTTPException(400, "sharing with a caregiver needs clinic mode (accounts)")
        if not self._allowed(profile_id, "change"):
            return False
        user = self._accounts.user_by_name(username)
        if user is None or user.disabled or user.role != "patient":
            raise HTTPException(
                422, "no active patient or caregiver account with that name",
                headers={"X-Error-Field": "username"},
            )
        self._accounts.share(profile_id, user.id)
        self._log("share", profile_id)
        return True

    def _scope_team(self) -> str | None:
        if self.who.role == "local":
            return None
        if self.who.role in ("navigator", "clinician") and self.who.team_id:
            return self.who.team_id
        raise HTTPException(403, "your role does not allow bulk access")

    def list_profiles(self, team_id: str | None = None) -> list[SavedProfile]:
        scoped = self._scope_team()
        found = super().list_profiles(scoped)
        self._log("read", None, scoped, count=len(found))
        return found

    def export_all(self, team_id: str | None = None) -> list[dict[str, Any]]:
        scoped = self._scope_team()
        exported = super().export_all(scoped)
        self._log("export_all", None, scoped, count=len(exported))
        return exported

    def delete_all(self, team_id: str | None = None) -> int:
        scoped = self._scope_team()
        count = super().delete_all(scoped)
        self._log("delete_all", None, scoped, count=count)
        return count

    def ids(self) -> list[str]:
        return [p.id for p in self.list_profiles()]


__all__ = ["ScopedStore", "intent"]
