"""Log in, log out, and the navigator's desk (clinic mode)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.responses import HTMLResponse

from myelonav.picture import clinical_picture
from myelonav.store.accounts import Accounts
from myelonav.store.profiles import SavedProfile
from myelonav.web.auth.deps import principal
from myelonav.web.auth.middleware import cookie_name, safe_next, session_cookie
from myelonav.web.deps import Store, TrialsDb
from myelonav.web.pages.render import page

STALE_LABS_DAYS = 60
NEW_PROGRESSION_DAYS = 90  # progression this recent is news to act on (desk convention)


def _cookie(request: Request) -> tuple[str, bool]:
    cfg = request.app.state.settings
    secure = bool(cfg.tls_certfile) or cfg.behind_proxy
    return cookie_name(secure), secure


def attention_flags(saved: SavedProfile, today: dt.date) -> list[str]:
    """What a navigator should look at first; never guesses: only facts in the record."""
    flags: list[str] = []
    record = saved.record
    dates = [m.date for m in getattr(record, "labs", []) or [] if getattr(m, "date", None)]
    if not dates:
        flags.append("no labs on file")
    elif (today - max(dates)).days > STALE_LABS_DAYS:
        flags.append(f"labs older than {STALE_LABS_DAYS} days")
    picture = clinical_picture(record, today)
    outcome = picture.car_t
    if (
        outcome is not None
        and outcome.progression_date is not None
        and 0 <= (today - outcome.progression_date).days <= NEW_PROGRESSION_DAYS
    ):
        flags.append(
            f"new progression {outcome.progression_date} ({outcome.progression_source})"
        )
    if picture.notes:
        flags.append(f"{len(picture.notes)} value(s) to check")
    return flags


def _display_name(saved: SavedProfile) -> str:
    return saved.record.id or f"Profile {saved.id[:8]}"


def account_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request,
                   next: Annotated[str, Query(max_length=500)] = "/") -> Response:
        if request.app.state.settings.mode != "clinic":
            return RedirectResponse("/", status_code=303)
        return page(request, "login.html", next_path=safe_next(next), username="", error=None,
                    section="login")

    @router.post("/login", response_class=HTMLResponse, response_model=None)
    async def login(request: Request) -> Response:
        cfg = request.app.state.settings
        if cfg.mode != "clinic":
            return RedirectResponse("/", status_code=303)
        form = await request.form()
        username = str(form.get("username", ""))[:80]
        password = str(form.get("password", ""))[:1000]
        target = safe_next(str(form.get("next", "/")))
        accounts: Accounts = request.app.state.accounts
        client = request.client.host if request.client else "unknown"
        user = await to_thread.run_sync(accounts.authenticate, username, password, client,
                                        cfg.login_max_failures)
        audit = request.app.state.audit
        if user is None:
            audit.append(actor=username.strip().lower() or "(blank)", role="unknown",
                         action="login_failed", client=client)
            return page(request, "login.html", status_code=401, next_path=target,
                        username=username, section="login",
                        error="Wrong user name or password, or too many tries: wait 15 "
                              "minutes and try again.")
        name, secure = _cookie(request)
        old = session_cookie(request.scope, name)
        if old:
            accounts.end_session(old)  # a cookie planted before login is never promoted
        token = accounts.new_session(user.id, cfg.session_max_age_s)
        audit.append(actor=user.username, role=user.role, action="login", client=client)
        default = "/desk" if user.role in ("navigator", "clinician") else "/"
        response = RedirectResponse(target if target != "/" else default, status_code=303)
        response.set_cookie(name, token, max_age=cfg.session_max_age_s, path="/",
                            secure=secure, httponly=True, samesite="strict")
        return response

    @router.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        who = principal(request)
        name, secure = _cookie(request)
        if who.session_token:
            request.app.state.accounts.end_session(who.session_token)
            client = request.client.host if request.client else None
            request.app.state.audit.append(actor=who.username, role=who.role,
                                           action="logout", client=client)
        response = RedirectResponse("/login" if who.session_token else "/", status_code=303)
        response.delete_cookie(name, path="/", secure=secure, httponly=True,
                               samesite="strict")
        return response

    @router.get("/desk", response_class=HTMLResponse)
    def desk(request: Request, store: Store,
             q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
        who = principal(request)
        if who.role not in ("navigator", "clinician", "local"):
            raise HTTPException(403, "The patient list is for navigators and clinicians.")
        today = dt.date.today()
        scope = who.team_id or who.user_id
        jobs = request.app.state.rematch
        needle = q.strip().lower()
        rows: list[dict[str, Any]] = []
        for saved in sorted(store.list_profiles(), key=lambda p: p.updated_at, reverse=True):
            name = _display_name(saved)
            haystack = f"{name} {saved.label or ''} {saved.id}".lower()
            if needle and needle not in haystack:
                continue
            rows.append({"id": saved.id, "name": name, "label": saved.label,
                         "sample": saved.sample, "updated": saved.updated_at.date().isoformat(),
                         "flags": attention_flags(saved, today)
                         + [f"new matching trial: {n}" for n in jobs.new_trials(saved.id, scope)]})
        return page(request, "desk.html", rows=rows, q=q, section="desk",
                    rematch=jobs.status(scope))

    @router.post("/desk/rematch")
    def desk_rematch(request: Request, store: Store, db: TrialsDb) -> RedirectResponse:
        who = principal(request)
        if who.role not in ("navigator", "clinician", "local"):
            raise HTTPException(403, "The patient list is for navigators and clinicians.")
        request.app.state.rematch.start(who.team_id or who.user_id, store.list_profiles(), db)
        return RedirectResponse("/desk", status_code=303)

    return router


__all__ = ["account_router", "attention_flags"]
