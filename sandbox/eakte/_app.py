"""The FastAPI app of the e-Akte: put-by-key document storage under an Aktenzeichen.

Every write is idempotent by business key, as the archive connector relies on it: creating an
Akte that exists answers 200, putting a document whose key already holds the same bytes answers
200 and changes nothing, and only different bytes under a used key are a conflict (409).
Errors are RFC 9457 problem details (``application/problem+json``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any
from urllib.parse import quote, unquote

from fastapi import FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox._common import FaultState, install_faults, require_bearer
from sandbox.eakte._config import EakteConfig
from sandbox.eakte._store import EakteStore

__all__ = ["create_app"]

_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")
_TITLES = {
    400: "Ungültige Anfrage",
    401: "Nicht angemeldet",
    404: "Nicht gefunden",
    405: "Methode nicht erlaubt",
    409: "Konflikt",
    413: "Dokument zu groß",
    422: "Ungültige Anfrage",
}


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """An ``application/problem+json`` answer."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {
            "type": "about:blank",
            "title": _TITLES.get(status, "Fehler"),
            "status": status,
            "detail": detail,
            **extra,
        },
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def create_app(config: EakteConfig | None = None) -> FastAPI:
    """Build the e-Akte app.

    Args:
        config: Start configuration; defaults to `EakteConfig()`.

    Returns:
        The FastAPI app (serve it with uvicorn or ``sandbox._common.serve_in_thread``).
    """
    config = config or EakteConfig()
    store = EakteStore(config.data_dir / "eakte.sqlite3")
    faults = FaultState(config.faults, seed=config.seed)
    app = FastAPI(title="e-Akte Musterstadt", docs_url=None, redoc_url=None)
    app.state.store = store
    install_faults(app, faults, config.admin_token, html=False)
    admin = require_bearer(config.admin_token)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return problem(422, "Die Anfrage ist ungültig.")

    def authorized(authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            token.encode(), config.token.encode()
        )

    def unauthorized() -> JSONResponse:
        return problem(401, "Ein gültiges Bearer-Token ist erforderlich.")

    def bad_names(*names: str) -> JSONResponse | None:
        for name in names:
            if not _NAME.match(name):
                return problem(400, "Aktenzeichen oder Schlüssel ist ungültig.")
        return None

    @app.put("/akten/{aktenzeichen}")
    def put_akte(aktenzeichen: str, authorization: str | None = Header(default=None)) -> Response:
        if not authorized(authorization):
            return unauthorized()
        if (bad := bad_names(aktenzeichen)) is not None:
            return bad
        created = store.create_akte(aktenzeichen)
        return JSONResponse(
            {"aktenzeichen": aktenzeichen, "created": created}, status_code=201 if created else 200
        )

    @app.get("/akten/{aktenzeichen}")
    def get_akte(aktenzeichen: str, authorization: str | None = Header(default=None)) -> Response:
        if not authorized(authorization):
            return unauthorized()
        if not store.akte_exists(aktenzeichen):
            return problem(404, f"Die Akte {aktenzeichen} existiert nicht.")
        return JSONResponse(
            {"aktenzeichen": aktenzeichen, "documents": store.documents(aktenzeichen)}
        )

    @app.put("/akten/{aktenzeichen}/dokumente/{key}")
    async def put_document(
        request: Request,
        aktenzeichen: str,
        key: str,
        authorization: str | None = Header(default=None),
        content_type: str | None = Header(default=None),
        x_filename: str | None = Header(default=None),
    ) -> Response:
        if not authorized(authorization):
            return unauthorized()
        if (bad := bad_names(aktenzeichen, key)) is not None:
            return bad
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > config.max_document_bytes:
            return problem(413, "Das Dokument ist zu groß.")
        body = await request.body()
        if len(body) > config.max_document_bytes:
            return problem(413, "Das Dokument ist zu groß.")
        if not store.akte_exists(aktenzeichen):
            return problem(404, f"Die Akte {aktenzeichen} existiert nicht.")
        filename = unquote(x_filename) if x_filename else key
        if not _NAME.match(filename):
            return problem(400, "Der Dateiname ist ungültig.")
        mime = (content_type or "application/octet-stream").strip()
        digest = hashlib.sha256(body).hexdigest()
        outcome, meta = store.put_document(aktenzeichen, key, filename, mime, digest, body)
        if outcome == "conflict":
            return problem(
                409,
                f"Unter dem Schlüssel {key} liegt bereits ein anderes Dokument.",
                sha256=meta["sha256"],
            )
        return JSONResponse(meta, status_code=201 if outcome == "created" else 200)

    @app.get("/akten/{aktenzeichen}/dokumente/{key}")
    def get_document(
        aktenzeichen: str, key: str, authorization: str | None = Header(default=None)
    ) -> Response:
        if not authorized(authorization):
            return unauthorized()
        found = store.get_document(aktenzeichen, key)
        if found is None:
            return problem(404, f"Das Dokument {key} existiert nicht.")
        meta, content = found
        return Response(
            content,
            media_type=meta["mimeType"],
            headers={
                "ETag": f'"{meta["sha256"]}"',
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta['filename'])}",
            },
        )

    @app.get("/admin/export", include_in_schema=False)
    def export(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return {"akten": store.export()}

    @app.post("/admin/reset", include_in_schema=False)
    def reset(authorization: str | None = Header(default=None)) -> dict[str, bool]:
        admin(authorization)
        store.reset()
        return {"reset": True}

    return app
