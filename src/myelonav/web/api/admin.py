"""Who am I, and for administrators: users, teams and the audit trail (no clinical data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from myelonav.store.accounts import Accounts
from myelonav.store.audit import AuditEvent, AuditLog
from myelonav.web.auth.deps import principal, require_role

router = APIRouter(tags=["admin"])


class MeOut(BaseModel):
    username: str
    role: str
    team_id: str | None


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    team_id: str | None
    team: str | None
    disabled: bool


class AuditOut(BaseModel):
    events: list[AuditEvent]
    chain_intact: bool
    first_broken_seq: int | None
    note: str = ("Audit events name who accessed which profile, when and from where; "
                 "they never hold clinical content. The file is health-related metadata: "
                 "store it as such.")


@router.get("/me", response_model=MeOut, summary="Who this request is made as")
def me(request: Request) -> MeOut:
    who = principal(request)
    return MeOut(username=who.username, role=who.role, team_id=who.team_id)


@router.get("/admin/users", response_model=list[UserOut], summary="Accounts (admin only)")
def users(request: Request) -> list[UserOut]:
    require_role(request, "admin", "local")
    accounts: Accounts = request.app.state.accounts
    teams = accounts.teams()
    return [UserOut(id=u.id, username=u.username, role=u.role, team_id=u.team_id,
                    team=teams.get(u.team_id or ""), disabled=u.disabled)
            for u in accounts.users()]


@router.get("/admin/audit", response_model=AuditOut,
            summary="The audit trail, oldest first (admin only); page with after_seq")
def audit(
    request: Request,
    after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    profile_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
) -> AuditOut:
    require_role(request, "admin", "local")
    log: AuditLog = request.app.state.audit
    broken = log.verify()
    events = log.events(profile_id=profile_id, limit=limit, after_seq=after_seq)
    return AuditOut(events=list(events),
                    chain_intact=broken is None, first_broken_seq=broken)


__all__ = ["router"]
