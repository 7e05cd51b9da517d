"""What one Fachverfahren Steuern instance holds, and what every screen shares.

`SteuerState` carries the configuration, the runtime knobs, the database and the templates,
and the plumbing of every screen: the session of a request, the CSRF check of a posted form,
rendering with the layout version, random notices, renamed labels and stripped ARIA markup.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sandbox._common import FaultState
from sandbox.steuer._accounts import AccountLocks
from sandbox.steuer._config import BREEDS, SteuerConfig, SteuerFaults
from sandbox.steuer._db import SteuerDB
from sandbox.steuer._layout import decode_form, layout
from sandbox.steuer._release import strip_aria
from sandbox.steuer._validate import format_cents, format_date

__all__ = [
    "CSRF_FIELD",
    "NOTICES",
    "PRE_COOKIE",
    "SESSION_COOKIE",
    "Login",
    "SteuerState",
    "next_target",
    "safe_next",
]

SESSION_COOKIE = "FVSTEUER_SID"
PRE_COOKIE = "FVSTEUER_PRE"
CSRF_FIELD = "__RequestVerificationToken"

#: texts of the random blocking notice (dialog "Hinweis", button "OK")
NOTICES = (
    "Wegen Wartungsarbeiten ist das System am Samstag nicht verfügbar.",
    "Bitte beachten Sie die neuen Öffnungszeiten.",
    "Ab dem 1. Januar gelten die neuen Hebesätze.",
)

_TEMPLATES = Path(__file__).parent / "templates"


class SteuerState:
    """Everything one app instance holds."""

    def __init__(self, config: SteuerConfig) -> None:
        self.config = config
        self.faults = FaultState(config.initial_faults(), seed=config.seed)
        self.db = SteuerDB(config.data_dir / "steuer.sqlite3")
        self.locks = AccountLocks(self.db, config.accounts)
        self.secret = secrets.token_bytes(32)
        self.notice_rng = random.Random(None if config.seed is None else config.seed + 1)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals["BREEDS"] = BREEDS
        self.env.filters["de_date"] = lambda iso: format_date(iso) if iso else ""
        self.env.filters["eur"] = format_cents

    @property
    def knobs(self) -> SteuerFaults:
        """The current runtime knobs."""
        f = self.faults.faults
        assert isinstance(f, SteuerFaults)
        return f

    def csrf_for(self, value: str) -> str:
        return hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()[:40]

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        notice: bool = True,
        csrf: str = "",
        user: str | None = None,
        **ctx: Any,
    ) -> HTMLResponse:
        knobs = self.knobs
        text = None
        if notice and knobs.modal_rate and self.notice_rng.random() < knobs.modal_rate:
            text = self.notice_rng.choice(NOTICES)
        html = self.env.get_template(template).render(
            L=layout(knobs.layout),
            v2=knobs.layout == "v2",
            csrf=csrf,
            csrf_field=CSRF_FIELD,
            user=user,
            notice=text,
            **ctx,
        )
        for old, new in knobs.renamed_labels.items():  # a release that renamed a field
            html = html.replace(f">{old}</label>", f">{new}</label>")
        if knobs.strip_aria:
            html = strip_aria(html)
        return HTMLResponse(html, status_code=status)

    def error_page(self, status: int, title: str, message: str) -> HTMLResponse:
        return self.render(
            "error.html",
            status=status,
            notice=False,
            status_code=status,
            title=title,
            message=message,
        )

    def login_state(self, request: Request) -> Login | str:
        """The session of `request`, or "none" / "expired"."""
        sid = request.cookies.get(SESSION_COOKIE)
        row = self.db.get_session(sid) if sid else None
        if row is None:
            return "none"
        if row["ended_at"] is not None:
            return "expired" if row["expired"] else "none"
        if time.time() >= row["created_at"] + self.knobs.session_lifetime_s:
            # once seen expired, a session stays ended even if the lifetime knob grows again
            self.db.end_session(row["id"], expired=True)
            return "expired"
        return Login(row)

    def require_login(self, request: Request) -> Login | Response:
        """The session of `request`, or a redirect to the login page that comes back here."""
        state = self.login_state(request)
        if isinstance(state, Login):
            return state
        return RedirectResponse(
            "/login?next=" + quote(next_target(request), safe="/"), status_code=303
        )

    async def posted(self, request: Request, login: Login | None) -> dict[str, str] | Response:
        """The decoded form, or the 403 page if the CSRF token is missing or wrong."""
        form = await request.form()
        token = form.get(CSRF_FIELD)
        if login is not None:
            expected = login.csrf
        else:
            pre = request.cookies.get(PRE_COOKIE, "")
            expected = self.csrf_for(pre) if pre else ""
        if not isinstance(token, str) or not expected or not hmac.compare_digest(token, expected):
            return self.error_page(
                403,
                "Ungültiges Formular-Token",
                "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu.",
            )
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
        return decode_form(raw)

    def page(self, request: Request, login: Login, template: str, **ctx: Any) -> HTMLResponse:
        """A screen of a logged-in user (their CSRF token and name in the page)."""
        return self.render(template, csrf=login.csrf, user=login.user, **ctx)


class Login:
    """A valid, unexpired session."""

    def __init__(self, row: sqlite3.Row) -> None:
        self.sid: str = row["id"]
        self.user: str = row["username"]
        self.csrf: str = row["csrf"]


def next_target(request: Request) -> str:
    """Path and query of `request`: where to return after a login."""
    url = request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site (no open redirect), else ``/start``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/start"
