"""The FastAPI app of the Fachverfahren Steuern: server-rendered German HTML, nothing else.

Behaves like a legacy back office on purpose: cookie sessions that expire a fixed time after
login, a CSRF token in every form, generated control ids that change between layout versions,
random blocking notices, a duplicate-taxpayer confirmation, strict server-side validation.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox._common import install_faults
from sandbox.steuer._admin import admin_routes
from sandbox.steuer._cases import case_routes
from sandbox.steuer._config import BREEDS, SteuerConfig
from sandbox.steuer._layout import init_layouts
from sandbox.steuer._login import login_routes
from sandbox.steuer._state import NOTICES, SteuerState
from sandbox.steuer._taxpayers import taxpayer_routes

__all__ = ["NOTICES", "create_app"]


def create_app(config: SteuerConfig | None = None) -> FastAPI:
    """Build the Fachverfahren Steuern app.

    Args:
        config: Start configuration; defaults to `SteuerConfig()`.

    Returns:
        The FastAPI app (serve it with uvicorn or ``sandbox._common.serve_in_thread``).
    """
    config = config or SteuerConfig()
    init_layouts(BREEDS)
    st = SteuerState(config)
    app = FastAPI(title="Fachverfahren Steuern", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.steuer = st
    install_faults(app, st.faults, config.admin_token, html=True)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/admin/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        if exc.status_code == 404:
            return st.error_page(404, "Seite nicht gefunden", "Die Seite existiert nicht.")
        return st.error_page(exc.status_code, "Fehler", str(exc.detail))

    app.include_router(login_routes(st))
    app.include_router(taxpayer_routes(st))
    app.include_router(case_routes(st))
    app.include_router(admin_routes(st))
    return app
