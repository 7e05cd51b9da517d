"""Login, logout and the start page of the Fachverfahren Steuern.

A session ends a fixed time after login (knob ``session_lifetime_s``); a new login ends the
browser's previous session, so one browser never holds two seats. With the knob
``lockout_after`` set, failed logins lock the account (see `sandbox.steuer._accounts`).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sandbox.steuer._accounts import LoginOutcome
from sandbox.steuer._state import (
    PRE_COOKIE,
    SESSION_COOKIE,
    Login,
    SteuerState,
    safe_next,
)

__all__ = ["ACCOUNT_LOCKED", "WRONG_CREDENTIALS", "login_routes"]

WRONG_CREDENTIALS = "Benutzername oder Passwort falsch."
ACCOUNT_LOCKED = (
    "Konto gesperrt: zu viele fehlgeschlagene Anmeldungen. "
    "Bitte wenden Sie sich an die Systemverwaltung."
)


def login_routes(st: SteuerState) -> APIRouter:
    """The routes ``/``, ``/login``, ``/abmelden`` and ``/start``."""
    router = APIRouter()
    login_state = st.login_state
    require_login = st.require_login
    posted = st.posted
    page = st.page

    def login_page(
        request: Request, next_url: str, alert: str | None, values: dict[str, str], status: int
    ) -> Response:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        resp = st.render(
            "login.html",
            status=status,
            csrf=st.csrf_for(pre),
            alert=alert,
            next_url=next_url,
            values=values,
        )
        resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax")
        return resp

    @router.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/start", status_code=303)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "") -> Response:  # noqa: A002 - query name
        state = login_state(request)
        if isinstance(state, Login):
            return RedirectResponse(safe_next(next), status_code=303)
        alert = (
            "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
            if state == "expired"
            else None
        )
        return login_page(request, next, alert, {}, 200)

    @router.post("/login", response_class=HTMLResponse)
    async def login_submit(request: Request, next: str = "") -> Response:  # noqa: A002
        form = await posted(request, None)
        if isinstance(form, Response):
            return form
        user = form.get("login_user", "").strip()
        password = form.get("login_password", "")
        expected = st.config.accounts.get(user)
        if expected is None:
            return login_page(request, next, WRONG_CREDENTIALS, {"login_user": user}, 200)
        password_ok = secrets.compare_digest(password.encode(), expected.encode())
        outcome = st.locks.attempt(user, password_ok, st.knobs.lockout_after)
        if outcome is not LoginOutcome.OK:
            alert = WRONG_CREDENTIALS if outcome is LoginOutcome.WRONG else ACCOUNT_LOCKED
            return login_page(request, next, alert, {"login_user": user}, 200)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            st.db.end_session(old)
        sid = secrets.token_urlsafe(32)
        st.db.create_session(sid, user, secrets.token_urlsafe(32), st.knobs.session_lifetime_s)
        resp = RedirectResponse(safe_next(next), status_code=303)
        resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax")
        return resp

    @router.post("/abmelden")
    async def logout(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return RedirectResponse("/login", status_code=303)
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        st.db.end_session(login.sid)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @router.get("/start", response_class=HTMLResponse)
    def start(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return page(request, login, "start.html")

    return router
