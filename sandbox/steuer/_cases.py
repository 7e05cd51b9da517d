"""The dog tax case screens: the case form, its confirmation, the paged case list.

Creating a case checks the Fremdreferenz and the chip number under the database lock, so two
bots racing with the same portal reference cannot both create a case.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sandbox.steuer._config import LISTED_BREEDS
from sandbox.steuer._state import Login, SteuerState
from sandbox.steuer._validate import MSG, validate_case

__all__ = ["PAGE_SIZE", "case_routes"]

PAGE_SIZE = 20


def case_routes(st: SteuerState) -> APIRouter:
    """The routes under ``/faelle``."""
    router = APIRouter()
    require_login = st.require_login
    posted = st.posted
    page = st.page

    def case_form(
        request: Request,
        login: Login,
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

    @router.get("/faelle/neu", response_class=HTMLResponse)
    def case_new(request: Request, stpfl: str = "") -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        tp = load_taxpayer(stpfl)
        if tp is None:
            return st.error_page(404, "Nicht gefunden", "Steuerpflichtiger nicht gefunden.")
        return case_form(request, login, tp, {"ermaessigung": "0,00"}, {})

    @router.post("/faelle/neu", response_class=HTMLResponse)
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

    @router.get("/faelle/bestaetigung/{aktenzeichen}", response_class=HTMLResponse)
    def case_done(request: Request, aktenzeichen: str) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        case = st.db.get_case(aktenzeichen)
        if case is None:
            return st.error_page(404, "Nicht gefunden", "Fall nicht gefunden.")
        return page(request, login, "case_done.html", case=case)

    def case_list(request: Request, login: Login, term: str, seite: int) -> Response:
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

    @router.get("/faelle", response_class=HTMLResponse)
    def cases_get(request: Request, suchbegriff: str = "", seite: int = 1) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return case_list(request, login, suchbegriff, seite)

    @router.post("/faelle", response_class=HTMLResponse)
    async def cases_post(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        return case_list(request, login, form.get("suchbegriff", "").strip(), 1)

    return router
