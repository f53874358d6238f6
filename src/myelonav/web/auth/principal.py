"""The principal of a request and what each role may do with a profile.

=============  ===========================================================================
role           may
=============  ===========================================================================
local          everything (local mode: one person on their own computer, no login)
patient        everything on profiles they own; read profiles shared with them (caregiver)
navigator      read, change and export their care team's profiles
clinician      read, change, export and delete their team's profiles; bulk team export
admin          users, teams and the audit trail; no clinical data
=============  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["create", "read", "change", "export", "delete"]
TEAM_RIGHTS: dict[str, frozenset[str]] = {
    "navigator": frozenset({"create", "read", "change", "export"}),
    "clinician": frozenset({"create", "read", "change", "export", "delete"}),
}


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: str  # "local" or an account role
    team_id: str | None = None
    session_token: str | None = None

    @property
    def clinical(self) -> bool:
        """May this principal hold clinical data at all (admins do not)?"""
        return self.role != "admin"


LOCAL = Principal(user_id="local", username="local", role="local")


def can(who: Principal, action: Action, *, team_id: str | None, owner_id: str | None,
        shared: bool = False) -> bool:
    if who.role == "local":
        return True
    if who.role == "patient":
        if owner_id == who.user_id:
            return True
        return shared and action in ("read", "export")
    rights = TEAM_RIGHTS.get(who.role)
    if rights is None:
        return False
    return who.team_id is not None and team_id == who.team_id and action in rights


def can_bulk(who: Principal) -> bool:
    """Export or delete every profile in scope: local (with the install secret) or clinician."""
    return who.role in ("local", "clinician")


__all__ = ["LOCAL", "TEAM_RIGHTS", "Action", "Principal", "can", "can_bulk"]
