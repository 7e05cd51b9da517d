"""The FIT-Connect-style HTTP API: token endpoint, sender and receiver calls, admin endpoints."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from sandbox._common import require_bearer
from sandbox.portal._auth import OAuthError
from sandbox.portal._service import RECEIVER, SENDER, Portal, Problem

__all__ = ["build_api"]

JOSE = "application/jose"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise Problem(400, "invalid-request", "Ungültiges JSON") from exc


async def _text(request: Request) -> str:
    try:
        return (await request.body()).decode("ascii")
    except UnicodeDecodeError as exc:
        raise Problem(400, "invalid-jwe", "JWE in Compact-Serialisierung erwartet") from exc


def build_api(portal: Portal) -> APIRouter:
    """All JSON/JOSE routes of the portal, bound to `portal`."""
    router = APIRouter()
    auth = portal.authenticate

    @router.post("/token")
    def token(
        grant_type: str = Form(""),
        client_id: str = Form(""),
        client_secret: str = Form(""),
        scope: str = Form(""),
    ) -> JSONResponse:
        try:
            body = portal.issue_token(grant_type, client_id, client_secret, scope)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=_NO_STORE)
        return JSONResponse(body, headers=_NO_STORE)

    @router.get("/.well-known/jwks.json")
    def jwks() -> dict[str, Any]:
        return portal.jwks()

    # --- destination (sender; the receiver may read it too) ---

    @router.get("/v1/destinations/{destination_id}")
    def destination(
        destination_id: str, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        auth(authorization, "any")
        return portal.destination(destination_id)

    @router.patch("/v1/destinations/{destination_id}")
    async def configure_destination(
        destination_id: str, request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        auth(authorization, RECEIVER)
        return portal.configure_callback(destination_id, await _json(request))

    @router.get("/v1/destinations/{destination_id}/keys/{kid}")
    def key(
        destination_id: str, kid: str, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        auth(authorization, "any")
        return portal.key(destination_id, kid)

    # --- sender ---

    @router.post("/v1/submissions", status_code=201)
    async def create_submission(
        request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        auth(authorization, SENDER)
        return portal.create_submission(await _json(request))

    @router.put("/v1/submissions/{sid}/attachments/{aid}", status_code=204)
    async def put_attachment(
        sid: str, aid: str, request: Request, authorization: str | None = Header(default=None)
    ) -> Response:
        auth(authorization, SENDER)
        portal.put_attachment(sid, aid, await _text(request))
        return Response(status_code=204)

    @router.put("/v1/submissions/{sid}")
    async def submit(
        sid: str, request: Request, authorization: str | None = Header(default=None)
    ) -> JSONResponse:
        auth(authorization, SENDER)
        ref, created = portal.submit(sid, await _json(request))
        return JSONResponse(ref, status_code=202 if created else 200)

    # --- receiver ---

    @router.get("/v1/submissions")
    def list_submissions(
        destination_id: str | None = Query(None, alias="destinationId"),
        limit: int = Query(100, ge=1, le=500),
        offset: int = Query(0, ge=0),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        auth(authorization, RECEIVER)
        return portal.list_submissions(destination_id, limit, offset)

    @router.get("/v1/submissions/{sid}")
    def get_submission(sid: str, authorization: str | None = Header(default=None)) -> Any:
        auth(authorization, RECEIVER)
        return portal.get_submission(sid)

    @router.get("/v1/submissions/{sid}/attachments/{aid}")
    def get_attachment(
        sid: str, aid: str, authorization: str | None = Header(default=None)
    ) -> Response:
        auth(authorization, RECEIVER)
        return Response(portal.get_attachment(sid, aid), media_type=JOSE)

    @router.post("/v1/cases/{case_id}/events")
    async def post_event(
        case_id: str, request: Request, authorization: str | None = Header(default=None)
    ) -> Response:
        auth(authorization, RECEIVER)
        created = portal.post_event(case_id, await _text(request))
        return Response(status_code=202 if created else 200)

    @router.get("/v1/cases/{case_id}/events")
    def event_log(
        case_id: str,
        limit: int = Query(100, ge=1, le=500),
        offset: int = Query(0, ge=0),
        authorization: str | None = Header(default=None),
    ) -> Any:
        auth(authorization, "any")
        return portal.event_log(case_id, limit, offset)

    # --- admin (tests only; bots and connectors never call these) ---

    admin = require_bearer(portal.config.admin_token)

    @router.get("/admin/export", include_in_schema=False)
    def export(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return portal.export()

    @router.post("/admin/tokens/expire", include_in_schema=False)
    def expire_tokens(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return {"expired": portal.expire_tokens()}

    @router.post("/admin/keys/rotate", include_in_schema=False)
    def rotate_key(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return portal.rotate_encryption_key()

    @router.delete("/admin/keys/{kid}", include_in_schema=False, status_code=204)
    def retire_key(kid: str, authorization: str | None = Header(default=None)) -> Response:
        admin(authorization)
        portal.retire_encryption_key(kid)
        return Response(status_code=204)

    @router.put("/admin/callback", include_in_schema=False)
    async def set_callback(
        request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        admin(authorization)
        body = await _json(request)
        if not isinstance(body, dict):
            raise Problem(400, "invalid-request", "JSON-Objekt erwartet")
        portal.callback_url = body.get("callbackUrl") or None
        if isinstance(body.get("callbackSecret"), str) and body["callbackSecret"]:
            portal.callback_secret = body["callbackSecret"]
        return {"callbackUrl": portal.callback_url}

    return router
