"""The FastAPI app of the Fachverfahren Steuern: server-rendered German HTML, nothing else.

Behaves like a legacy back office on purpose: cookie sessions that expire a fixed time after
login, a CSRF token in every form, generated control ids that change between layout versions,
random blocking notices, a duplicate-taxpayer confirmation, strict server-side validation.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import sqlite3
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox._common import FaultState, install_faults, require_bearer
from sandbox.steuer._config import BREEDS, LISTED_BREEDS, SteuerConfig, SteuerFaults
from sandbox.steuer._db import SteuerDB
from sandbox.steuer._layout import decode_form, init_layouts, layout
from sandbox.steuer._validate import (
    MSG,
    format_cents,
    format_date,
    parse_date,
    validate_case,
    validate_taxpayer,
)

__all__ = ["NOTICES", "create_app"]

SESSION_COOKIE = "FVSTEUER_SID"
PRE_COOKIE = "FVSTEUER_PRE"
CSRF_FIELD = "__RequestVerificationToken"
PAGE_SIZE = 20

#: texts of the random blocking notice (dialog "Hinweis", button "OK")
NOTICES = (
    "Wegen Wartungsarbeiten ist das System am Samstag nicht verfügbar.",
    "Bitte beachten Sie die neuen Öffnungszeiten.",
    "Ab dem 1. Januar gelten die neuen Hebesätze.",
)

_TEMPLATES = Path(__file__).parent / "templates"


class _Steuer:
    """Everything one app instance holds."""

    def __init__(self, config: SteuerConfig) -> None:
        self.config = config
        self.faults = FaultState(config.initial_faults(), seed=config.seed)
        self.db = SteuerDB(config.data_dir / "steuer.sqlite3")
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


class _Login:
    """A valid, unexpired session."""

    def __init__(self, row: sqlite3.Row) -> None:
        self.sid: str = row["id"]
        self.user: str = row["username"]
        self.csrf: str = row["csrf"]


def _next_target(request: Request) -> str:
    url = request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/start"


def create_app(config: SteuerConfig | None = None) -> FastAPI:
    """Build the Fachverfahren Steuern app.

    Args:
        config: Start configuration; defaults to `SteuerConfig()`.

    Returns:
        The FastAPI app (serve it with uvicorn or ``sandbox._common.serve_in_thread``).
    """
    config = config or SteuerConfig()
    init_layouts(BREEDS)
    st = _Steuer(config)
    app = FastAPI(title="Fachverfahren Steuern", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.steuer = st
    install_faults(app, st.faults, config.admin_token, html=True)
    admin = require_bearer(config.admin_token)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/admin/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        if exc.status_code == 404:
            return st.error_page(404, "Seite nicht gefunden", "Die Seite existiert nicht.")
        return st.error_page(exc.status_code, "Fehler", str(exc.detail))

    # --- helpers ------------------------------------------------------------------------

    def login_state(request: Request) -> _Login | str:
        """The session of `request`, or "none" / "expired"."""
        sid = request.cookies.get(SESSION_COOKIE)
        row = st.db.get_session(sid) if sid else None
        if row is None:
            return "none"
        if row["ended_at"] is not None:
            return "expired" if row["expired"] else "none"
        if time.time() >= row["created_at"] + st.knobs.session_lifetime_s:
            # once seen expired, a session stays ended even if the lifetime knob grows again
            st.db.end_session(row["id"], expired=True)
            return "expired"
        return _Login(row)

    def require_login(request: Request) -> _Login | Response:
        state = login_state(request)
        if isinstance(state, _Login):
            return state
        return RedirectResponse(
            "/login?next=" + quote(_next_target(request), safe="/"), status_code=303
        )

    async def posted(request: Request, login: _Login | None) -> dict[str, str] | Response:
        """The decoded form, or the 403 page if the CSRF token is missing or wrong."""
        form = await request.form()
        token = form.get(CSRF_FIELD)
        if login is not None:
            expected = login.csrf
        else:
            pre = request.cookies.get(PRE_COOKIE, "")
            expected = st.csrf_for(pre) if pre else ""
        if not isinstance(token, str) or not expected or not hmac.compare_digest(token, expected):
            return st.error_page(
                403,
                "Ungültiges Formular-Token",
                "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu.",
            )
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
        return decode_form(raw)

    def page(request: Request, login: _Login, template: str, **ctx: Any) -> HTMLResponse:
        return st.render(template, csrf=login.csrf, user=login.user, **ctx)

    # --- login / logout -----------------------------------------------------------------

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

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/start", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "") -> Response:  # noqa: A002 - query name
        state = login_state(request)
        if isinstance(state, _Login):
            return RedirectResponse(_safe_next(next), status_code=303)
        alert = (
            "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
            if state == "expired"
            else None
        )
        return login_page(request, next, alert, {}, 200)

    @app.post("/login", response_class=HTMLResponse)
    async def login_submit(request: Request, next: str = "") -> Response:  # noqa: A002
        form = await posted(request, None)
        if isinstance(form, Response):
            return form
        user = form.get("login_user", "").strip()
        password = form.get("login_password", "")
        expected = st.config.accounts.get(user)
        if expected is None or not secrets.compare_digest(password.encode(), expected.encode()):
            return login_page(
                request, next, "Benutzername oder Passwort falsch.", {"login_user": user}, 200
            )
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            st.db.end_session(old)
        sid = secrets.token_urlsafe(32)
        st.db.create_session(sid, user, secrets.token_urlsafe(32), st.knobs.session_lifetime_s)
        resp = RedirectResponse(_safe_next(next), status_code=303)
        resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax")
        return resp

    @app.post("/abmelden")
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

    @app.get("/start", response_class=HTMLResponse)
    def start(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return page(request, login, "start.html")

    # --- taxpayers ----------------------------------------------------------------------

    def taxpayer_search(
        request: Request, login: _Login, values: dict[str, str], searched: bool
    ) -> Response:
        rows: list[sqlite3.Row] = []
        error = None
        if searched:
            born = values.get("search_geburtsdatum", "").strip()
            born_iso = ""
            if born:
                d = parse_date(born)
                if d is None:
                    error = MSG["date_format"]
                else:
                    born_iso = d.isoformat()
            if error is None:
                rows = st.db.find_taxpayers(
                    values.get("search_nachname", ""), values.get("search_vorname", ""), born_iso
                )
        return page(
            request,
            login,
            "search.html",
            values=values,
            rows=rows,
            searched=searched,
            error=error,
        )

    @app.get("/steuerpflichtige", response_class=HTMLResponse)
    def search_get(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return taxpayer_search(request, login, {}, False)

    @app.post("/steuerpflichtige", response_class=HTMLResponse)
    async def search_post(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        return taxpayer_search(request, login, form, True)

    @app.get("/steuerpflichtige/neu", response_class=HTMLResponse)
    def taxpayer_new(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return page(request, login, "taxpayer_new.html", values={}, errors={}, duplicate=False)

    @app.post("/steuerpflichtige/neu", response_class=HTMLResponse)
    async def taxpayer_create(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        data, errors = validate_taxpayer(form, date.today())
        if errors:
            return page(
                request, login, "taxpayer_new.html", values=form, errors=errors, duplicate=False
            )
        confirmed = form.get("tp_bestaetigt") == "1"
        if not confirmed and st.db.find_taxpayers(
            data["family_name"], data["given_name"], data["birth_date"], limit=1
        ):
            return st.render(
                "taxpayer_new.html",
                notice=False,
                csrf=login.csrf,
                user=login.user,
                values=form,
                errors={},
                duplicate=True,
            )
        tid = st.db.create_taxpayer(data, login.user)
        return RedirectResponse(f"/steuerpflichtige/{tid}", status_code=303)

    @app.get("/steuerpflichtige/{taxpayer_id}", response_class=HTMLResponse)
    def taxpayer_show(request: Request, taxpayer_id: int) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        tp = st.db.get_taxpayer(taxpayer_id)
        if tp is None:
            return st.error_page(404, "Nicht gefunden", "Steuerpflichtiger nicht gefunden.")
        return page(request, login, "taxpayer.html", tp=tp)

    # --- cases --------------------------------------------------------------------------

    def case_form(
        request: Request,
        login: _Login,
        tp: sqlite3.Row,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> Response:
        hund_keys = {
            "fremdreferenz",
            "hund_name",
            "rasse",
            "hund_geburtsdatum",
            "transponder",
            "halter_seit",
            "versicherung",
        }
        active = "hund"
        if errors and not (set(errors) & hund_keys):
            active = "zahlung"
        return page(
            request, login, "case_form.html", tp=tp, values=values, errors=errors, active=active
        )

    def load_taxpayer(stpfl: str) -> sqlite3.Row | None:
        return st.db.get_taxpayer(int(stpfl)) if stpfl.isdigit() else None

    @app.get("/faelle/neu", response_class=HTMLResponse)
    def case_new(request: Request, stpfl: str = "") -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        tp = load_taxpayer(stpfl)
        if tp is None:
            return st.error_page(404, "Nicht gefunden", "Steuerpflichtiger nicht gefunden.")
        return case_form(request, login, tp, {"ermaessigung": "0,00"}, {})

    @app.post("/faelle/neu", response_class=HTMLResponse)
    async def case_create(request: Request, stpfl: str = "") -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        tp = load_taxpayer(stpfl)
        if tp is None:
            return st.error_page(404, "Nicht gefunden", "Steuerpflichtiger nicht gefunden.")
        data, errors = validate_case(form, date.today())
        if errors:
            return case_form(request, login, tp, form, errors)
        with st.db.tx() as c:
            if data["fremdreferenz"]:
                dup = st.db.case_by_fremdreferenz(c, data["fremdreferenz"])
                if dup is not None:
                    errors["fremdreferenz"] = MSG["duplicate_ref"].format(az=dup["aktenzeichen"])
            if data["chip"] and "fremdreferenz" not in errors:
                same_dog = st.db.case_by_chip(c, data["chip"])
                if same_dog is not None:
                    errors["transponder"] = MSG["duplicate_chip"].format(
                        az=same_dog["aktenzeichen"]
                    )
            if data["breed_code"] in LISTED_BREEDS:
                tax = 60000
            elif st.db.count_cases_of(c, tp["id"]) == 0:
                tax = 12000
            else:
                tax = 18000
            if data["discount_cents"] > tax:
                errors["ermaessigung"] = MSG["discount_too_high"]
            az = None
            if not errors:
                az = st.db.insert_case(
                    c,
                    st.config.year,
                    {
                        **data,
                        "taxpayer_id": tp["id"],
                        "tax_cents": tax - data["discount_cents"],
                        "created_by": login.user,
                    },
                )
        if az is None:
            return case_form(request, login, tp, form, errors)
        return RedirectResponse(f"/faelle/bestaetigung/{az}", status_code=303)

    @app.get("/faelle/bestaetigung/{aktenzeichen}", response_class=HTMLResponse)
    def case_done(request: Request, aktenzeichen: str) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        case = st.db.get_case(aktenzeichen)
        if case is None:
            return st.error_page(404, "Nicht gefunden", "Fall nicht gefunden.")
        return page(request, login, "case_done.html", case=case)

    def case_list(request: Request, login: _Login, term: str, seite: int) -> Response:
        seite = max(seite, 1)
        rows, total = st.db.search_cases(term, (seite - 1) * PAGE_SIZE, PAGE_SIZE)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        return page(
            request,
            login,
            "cases.html",
            rows=rows,
            term=term,
            seite=seite,
            pages=pages,
            total=total,
            term_q=quote(term, safe=""),
        )

    @app.get("/faelle", response_class=HTMLResponse)
    def cases_get(request: Request, suchbegriff: str = "", seite: int = 1) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return case_list(request, login, suchbegriff, seite)

    @app.post("/faelle", response_class=HTMLResponse)
    async def cases_post(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        return case_list(request, login, form.get("suchbegriff", "").strip(), 1)

    # --- admin (tests only) ---------------------------------------------------------------

    @app.get("/admin/export", include_in_schema=False)
    def export(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        cases, taxpayers = st.db.export()
        return {
            "cases": [
                {
                    "aktenzeichen": c["aktenzeichen"],
                    "fremdreferenz": c["fremdreferenz"],
                    "taxpayer_id": c["taxpayer_id"],
                    "steuernummer": c["steuernummer"],
                    "dog_name": c["dog_name"],
                    "breed_code": c["breed_code"],
                    "breed_name": BREEDS[c["breed_code"]][0],
                    "dog_birth_date": c["dog_birth_date"],
                    "chip": c["chip"],
                    "owned_since": c["owned_since"],
                    "payment": c["payment"],
                    "sepa_mandate": bool(c["sepa_mandate"]),
                    "iban": c["iban"],
                    "holder": c["holder"],
                    "insurance": bool(c["insurance"]),
                    "discount": f"{c['discount_cents'] / 100:.2f}",
                    "tax": f"{c['tax_cents'] / 100:.2f}",
                    "remark": c["remark"],
                    "status": c["status"],
                    "created_by": c["created_by"],
                    "created_at": c["created_at"],
                }
                for c in cases
            ],
            "taxpayers": [
                {
                    "id": t["id"],
                    "steuernummer": t["steuernummer"],
                    "family_name": t["family_name"],
                    "given_name": t["given_name"],
                    "birth_date": t["birth_date"],
                    "street": t["street"],
                    "postal_code": t["postal_code"],
                    "city": t["city"],
                    "email": t["email"],
                    "created_by": t["created_by"],
                    "created_at": t["created_at"],
                }
                for t in taxpayers
            ],
            "sessions": st.db.session_counts(st.knobs.session_lifetime_s),
        }

    @app.post("/admin/reset", include_in_schema=False)
    def reset(authorization: str | None = Header(default=None)) -> dict[str, bool]:
        admin(authorization)
        st.db.reset()
        return {"reset": True}

    return app
