""" "Connect to my patient portal": the SMART standalone launch from the web app.

``POST /connect`` reads the portal's SMART configuration, remembers the sign-in (``state``,
PKCE verifier: ``patient.smart.launch.FileLaunches``, 0600 files in the data folder, so any
worker process can finish it) and sends the browser to the
portal's sign-in page. The portal sends it back to ``/connect/callback``; that page only hands
the answer on to ``/connect/finish`` by a navigation of our own page, because the clinic
session cookie is SameSite=Strict and a browser does not send it on the portal's redirect.
``/connect/finish`` checks the state (single use, expires, this browser, this account),
exchanges the code, reads and imports the record and saves the profile.

Pages that leave for the portal use a link and a ``Refresh`` header, not a redirect of the
form post: the pages' CSP (``form-action 'self'``) forbids a form post that ends elsewhere.
"""

from __future__ import annotations

import secrets
import urllib.parse
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from myelonav.errors import MyelonavError
from myelonav.patient.smart.launch import LAUNCH_TTL_S, FileLaunches, Launches, Pending, finish
from myelonav.patient.smart.oauth import SmartConfiguration, check_url, discover
from myelonav.settings import Settings
from myelonav.web.auth.deps import principal
from myelonav.web.pages.render import page

COOKIE = "myelonav_connect"
ROLES = frozenset({"local", "patient", "navigator"})
MAX_URL = 500
_MAX_PARAM = 2048

StateParam = Annotated[str, Query(max_length=_MAX_PARAM)]


def launches(request: Request) -> Launches:
    """The app's sign-ins under way (created on first use)."""
    state = request.app.state
    found = getattr(state, "smart_launches", None)
    if not isinstance(found, Launches):
        # in the data folder, so any of the server's worker processes can finish a sign-in
        found = FileLaunches(_settings(request).home_dir / "connect")
        state.smart_launches = found
    return found


def _settings(request: Request) -> Settings:
    cfg: Settings = request.app.state.settings
    return cfg


def _allowed(request: Request) -> str:
    who = principal(request)
    if who.role not in ROLES:
        raise HTTPException(
            403, "connecting a patient portal is for the patient (or their navigator)"
        )
    return who.user_id


def redirect_uri(request: Request) -> str:
    base = _settings(request).public_base_url or str(request.base_url)
    return base.rstrip("/") + "/connect/callback"


def _secure(cfg: Settings) -> bool:
    return bool(cfg.tls_certfile) or cfg.behind_proxy


def _portal_url(raw: str) -> str:
    """The portal's FHIR base URL as typed, checked: https (http only on this machine)."""
    value = raw.strip()
    if not value:
        raise ValueError("enter your portal's FHIR address")
    if len(value) > MAX_URL:
        raise ValueError(f"the address is longer than {MAX_URL} characters")
    if any(c.isspace() for c in value):
        raise ValueError("the address has spaces in it; copy it again from your portal")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("the address must start with https://")
    try:
        return check_url(value.rstrip("/"), "iss")
    except MyelonavError:
        raise ValueError(
            "the address must start with https:// (a secure connection); an http:// "
            "address would send your record unprotected"
        ) from None


def _advice(message: str) -> tuple[str, str | None]:
    """A heading and what to do next, for a message from the SMART flow."""
    text = message.lower()
    if "declined" in text:
        return "Nothing was shared", (
            "Your portal was not given permission, so nothing was read. Start again and choose "
            "to share your record (you can stop sharing later in your portal)."
        )
    if "429" in text or "busy" in text:
        return "Your portal is busy", "Wait a few minutes, then connect again."
    if "expired" in text or "ran out" in text:
        return "The sign-in expired", "Start again; it takes a minute or two."
    if "not started in this browser" in text:
        return "This sign-in cannot be finished", (
            "Start again from this page, in the same browser."
        )
    if "cannot reach" in text or "reach" in text:
        return "We could not reach your portal", (
            "Check the address, and that this computer is online, then try again."
        )
    return "We could not connect", None


def _form(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return page(request, "connect.html", status_code=status, section="connect", **context)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")) or text


def _error(request: Request, status: int, exc: MyelonavError, iss: str = "") -> HTMLResponse:
    title, advice = _advice(exc.message)
    return _form(
        request, status, error=_sentence(exc.message), error_title=title, advice=advice, iss=iss
    )


def _discover(iss: str, secret: str | None) -> SmartConfiguration:
    with httpx.Client(timeout=15.0, follow_redirects=False) as client:
        config = discover(client, iss)
    config.auth_method(secret)  # a secret the portal cannot take: refused before sign-in
    return config


def connect_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/connect", response_class=HTMLResponse)
    def connect_form(request: Request) -> HTMLResponse:
        _allowed(request)
        return _form(request)

    @router.post("/connect", response_class=HTMLResponse)
    async def connect_start(request: Request) -> HTMLResponse:
        owner = _allowed(request)
        form = await request.form()
        raw = form.get("iss")
        typed = raw if isinstance(raw, str) else ""
        try:
            iss = _portal_url(typed)
        except ValueError as exc:
            return _form(request, 422, field_error=str(exc), iss=typed[:MAX_URL])
        cfg = _settings(request)
        try:
            # discovery is a blocking request to the portal: off the event loop
            config = await run_in_threadpool(_discover, iss, cfg.smart_secret())
        except MyelonavError as exc:
            return _error(request, 502 if "reach" in exc.message else 422, exc, iss)
        browser_key = secrets.token_urlsafe(32)
        url = launches(request).begin(
            config,
            client_id=cfg.smart_client_id,
            redirect_uri=redirect_uri(request),
            browser_key=browser_key,
            owner=owner,
        )
        response = _form(request, go_url=url)
        response.headers["Refresh"] = f"0; url={url}"
        response.set_cookie(
            COOKIE,
            browser_key,
            max_age=int(LAUNCH_TTL_S),
            path="/connect",
            secure=_secure(cfg),
            httponly=True,
            samesite="lax",  # sent on the portal's top-level redirect back to us
        )
        return response

    @router.get("/connect/callback", response_class=HTMLResponse)
    def connect_callback(
        request: Request,
        state: StateParam = "",
        code: StateParam = "",
        error: Annotated[str, Query(max_length=200)] = "",
    ) -> HTMLResponse:
        # public: no session cookie arrives here (SameSite=Strict); nothing is used up or read
        if not state or not (code or error):
            return page(
                request,
                "error.html",
                status_code=422,
                section="error",
                message="This page is where your portal sends you back after you sign in. "
                "Start from “Connect to my patient portal”.",
            )
        if not launches(request).known(state):
            return page(
                request,
                "error.html",
                status_code=400,
                section="error",
                message="This sign-in has expired or was already used. Start again "
                "from “Connect to my patient portal”.",
            )
        answer = {"state": state, **({"code": code} if code else {"error": error})}
        back = "/connect/finish?" + urllib.parse.urlencode(answer)
        response = _form(request, back_url=back)
        response.headers["Refresh"] = f"0; url={back}"
        return response

    @router.get("/connect/finish", response_class=HTMLResponse)
    def connect_finish(
        request: Request,
        state: StateParam = "",
        code: StateParam = "",
        error: Annotated[str, Query(max_length=200)] = "",
    ) -> HTMLResponse:
        owner = _allowed(request)
        if not state:
            return page(
                request,
                "error.html",
                status_code=422,
                section="error",
                message="This link is incomplete. Start from “Connect to my patient portal”.",
            )
        cfg = _settings(request)
        pending: Pending | None = None
        try:
            pending = launches(request).take(
                state, browser_key=request.cookies.get(COOKIE), owner=owner
            )
            result = finish(
                pending,
                code=code or None,
                error=error or None,
                client_id=cfg.smart_client_id,
                client_secret=cfg.smart_secret(),
            )
        except MyelonavError as exc:
            busy = "429" in exc.message
            # the address filled in again, so "start again" is one click
            again = pending.config.issuer if pending is not None else ""
            response = _error(request, 429 if busy else 400, exc, again)
            response.delete_cookie(COOKIE, path="/connect")
            return response
        from myelonav.web.deps import get_store

        saved = get_store(request).create(result.report.record, "fhir")
        report = result.report
        response = _form(
            request,
            portal=urllib.parse.urlsplit(pending.config.issuer).hostname or "your portal",
            profile_id=saved.id,
            result={
                "summary": report.summary(),
                "unmapped": report.unmapped,
                "unsupported": result.unsupported,
            },
        )
        response.delete_cookie(COOKIE, path="/connect")
        return response

    return router


__all__ = ["COOKIE", "connect_router", "launches", "redirect_uri"]
