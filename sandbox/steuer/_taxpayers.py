"""The taxpayer screens: search, new taxpayer (with the duplicate confirmation), details."""

from __future__ import annotations

import sqlite3
from datetime import date

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from sandbox.steuer._state import Login, SteuerState
from sandbox.steuer._validate import MSG, parse_date, validate_taxpayer

__all__ = ["taxpayer_routes"]


def taxpayer_routes(st: SteuerState) -> APIRouter:
    """The routes under ``/steuerpflichtige``."""
    router = APIRouter()
    require_login = st.require_login
    posted = st.posted
    page = st.page

    def taxpayer_search(
        request: Request, login: Login, values: dict[str, str], searched: bool
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

    @router.get("/steuerpflichtige", response_class=HTMLResponse)
    def search_get(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return taxpayer_search(request, login, {}, False)

    @router.post("/steuerpflichtige", response_class=HTMLResponse)
    async def search_post(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        form = await posted(request, login)
        if isinstance(form, Response):
            return form
        return taxpayer_search(request, login, form, True)

    @router.get("/steuerpflichtige/neu", response_class=HTMLResponse)
    def taxpayer_new(request: Request) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        return page(request, login, "taxpayer_new.html", values={}, errors={}, duplicate=False)

    @router.post("/steuerpflichtige/neu", response_class=HTMLResponse)
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

    @router.get("/steuerpflichtige/{taxpayer_id}", response_class=HTMLResponse)
    def taxpayer_show(request: Request, taxpayer_id: int) -> Response:
        login = require_login(request)
        if isinstance(login, Response):
            return login
        tp = st.db.get_taxpayer(taxpayer_id)
        if tp is None:
            return st.error_page(404, "Nicht gefunden", "Steuerpflichtiger nicht gefunden.")
        return page(request, login, "taxpayer.html", tp=tp)

    return router
