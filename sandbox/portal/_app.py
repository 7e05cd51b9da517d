"""Assembly of the portal app: keys, store, routes, problem+json errors, fault knobs, deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox._common import FaultState, install_faults
from sandbox.portal._api import build_api
from sandbox.portal._base import clock_offset
from sandbox.portal._config import PortalConfig
from sandbox.portal._deadlines import Deadlines, PortalClock, build_clock_api
from sandbox.portal._keys import load_or_create_keys
from sandbox.portal._service import Portal, Problem
from sandbox.portal._store import Store
from sandbox.portal._web import build_web

__all__ = ["create_app"]

PROBLEM_JSON = "application/problem+json"
_GENERIC = {
    400: "invalid-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
}


def create_app(config: PortalConfig | None = None) -> FastAPI:
    """Build the Serviceportal Musterstadt.

    Generates the keys on first start (or loads them from ``config.data_dir``) and opens the
    SQLite database there. ``app.state.portal`` is the `Portal` core (for in-process tests).

    Args:
        config: The portal configuration; demo defaults if omitted.
    """
    config = config or PortalConfig()
    keys = load_or_create_keys(config.data_dir, config.key_size)
    store = Store(config.data_dir / "portal.sqlite3")
    portal = Portal(config, keys, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        portal.join_callbacks()
        store.close()

    app = FastAPI(title="Serviceportal Musterstadt", lifespan=lifespan, docs_url="/v1/docs")
    app.state.portal = portal
    clock = PortalClock(config.clock_offset_days)
    deadlines = Deadlines(portal, clock)
    app.state.deadlines = deadlines

    @app.middleware("http")
    async def on_the_portal_clock(request: Request, call_next: Any) -> Any:
        # Deadlines are applied before each request (as the real service does them in the
        # background), and the request runs on the portal's clock.
        if not request.url.path.startswith("/admin/clock"):
            await run_in_threadpool(deadlines.sweep)
        with clock_offset(clock.offset):
            return await call_next(request)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return JSONResponse(
            exc.body(request.url.path), status_code=exc.status, media_type=PROBLEM_JSON
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = Problem(exc.status_code, _GENERIC.get(exc.status_code, "error"), str(exc.detail))
        return await on_problem(request, problem)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        problem = Problem(400, "invalid-request", "Ungültige Anfrage", detail=fields or None)
        return await on_problem(request, problem)

    app.include_router(build_clock_api(deadlines))
    app.include_router(build_api(portal))
    app.include_router(build_web(portal))
    install_faults(app, FaultState(config.faults, config.seed), config.admin_token, html=False)
    return app
