"""The webmail of the sandbox: read-only HTML pages over the mail store, plus a JSON admin view.

Everything taken from a message is escaped before it goes into a page; HTML bodies are shown as
their source text, never rendered, and attachments are only offered as downloads.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox._common import require_bearer
from sandbox.mail._config import MailConfig
from sandbox.mail._parse import parse
from sandbox.mail._store import MailStore, StoredMessage

__all__ = ["create_app"]

SEEN = "\\Seen"
"""The IMAP flag (RFC 9051) of a message the citizen has opened."""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=de><head><meta charset=utf-8><title>{html.escape(title)}"
        f" – Webmail Musterstadt</title></head><body><h1>{html.escape(title)}</h1>{body}"
        "</body></html>",
        status_code=status,
    )


def _box_url(address: str) -> str:
    return f"/mailbox/{quote(address, safe='@')}"


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=what)


def create_app(config: MailConfig | None = None, store: MailStore | None = None) -> FastAPI:
    """Build the webmail app.

    Args:
        config: Start configuration; defaults to `MailConfig()`.
        store: The store to read (the one the SMTP intake writes); opened from
            ``config.data_dir`` if not given.

    Returns:
        The FastAPI app (serve it with uvicorn or ``sandbox._common.serve_in_thread``).
    """
    config = config or MailConfig()
    store = store or MailStore(config.data_dir / "mail.sqlite3")
    app = FastAPI(title="Webmail Musterstadt", docs_url=None, redoc_url=None)
    app.state.store = store
    admin = require_bearer(config.admin_token)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/admin/"):
            return JSONResponse(
                {"type": "about:blank", "status": exc.status_code, "detail": str(exc.detail)},
                status_code=exc.status_code,
                media_type="application/problem+json",
            )
        title = "Nicht gefunden" if exc.status_code == 404 else f"Fehler {exc.status_code}"
        return _page(title, f"<p>{html.escape(str(exc.detail))}</p>", exc.status_code)

    def find(address: str, message_id: int) -> StoredMessage:
        found = store.message(address, message_id)
        if found is None:
            raise _not_found(f"Die Nachricht {message_id} liegt nicht im Postfach {address}.")
        return found

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        rows = "".join(
            f'<li><a href="{html.escape(_box_url(a))}">{html.escape(a)}</a> ({n})</li>'
            for a, n in store.mailboxes()
        )
        return _page("Postfächer", f"<ul>{rows}</ul>" if rows else "<p>Noch keine Post.</p>")

    @app.get("/mailbox/{address}", response_class=HTMLResponse)
    def mailbox(address: str) -> HTMLResponse:
        if not store.has_mailbox(address):
            raise _not_found(f"Das Postfach {address} existiert nicht.")
        rows = "".join(
            f'<tr class="{"read" if SEEN in m.flags.split() else "unread"}">'
            f"<td>{html.escape(m.received_at)}</td><td>{html.escape(m.from_header)}</td>"
            f'<td><a href="{html.escape(_box_url(address))}/{m.id}">'
            f"{html.escape(m.subject or '(kein Betreff)')}</a></td></tr>"
            for m in reversed(store.messages(address))
        )
        table = (
            "<table><thead><tr><th>Eingang</th><th>Von</th><th>Betreff</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        return _page(f"Postfach {address}", table)

    @app.get("/mailbox/{address}/{message_id}", response_class=HTMLResponse)
    def message(address: str, message_id: int) -> HTMLResponse:
        stored = find(address, message_id)
        parsed = parse(store.raw(stored.id))
        store.add_flag(stored.id, SEEN)
        head = "".join(
            f"<dt>{label}</dt><dd>{html.escape(value)}</dd>"
            for label, value in (
                ("Von", parsed.from_),
                ("An", parsed.to),
                ("Datum", parsed.date or stored.received_at),
                ("Betreff", parsed.subject),
            )
        )
        if parsed.encrypted:
            body = (
                '<p class="encrypted"><strong>verschlüsselt</strong> – Diese Nachricht ist mit '
                "OpenPGP verschlüsselt und kann nur mit Ihrem privaten Schlüssel gelesen "
                "werden.</p>"
            )
        else:
            body = f"<pre>{html.escape(parsed.text)}</pre>"
        base = f"{_box_url(address)}/{stored.id}/attachments"
        links = "".join(
            f'<li><a href="{html.escape(base)}/{n}" download>{html.escape(a.filename)}</a>'
            f" ({html.escape(a.content_type)}, {a.size} Bytes)</li>"
            for n, a in enumerate(parsed.attachments)
        )
        attachments = f"<h2>Anhänge</h2><ul>{links}</ul>" if links else ""
        raw_link = (
            f'<p><a id="eml" href="{html.escape(_box_url(address))}/{stored.id}/raw" download>'
            "Ganze Nachricht herunterladen (.eml)</a></p>"
        )
        return _page(
            parsed.subject or "(kein Betreff)",
            f"<dl>{head}</dl>{body}{attachments}{raw_link}",
        )

    @app.get("/mailbox/{address}/{message_id}/raw")
    def raw(address: str, message_id: int) -> Response:
        stored = find(address, message_id)
        return Response(
            store.raw(stored.id),
            media_type="message/rfc822",
            headers={
                "Content-Disposition": f'attachment; filename="nachricht-{stored.id}.eml"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    @app.get("/mailbox/{address}/{message_id}/attachments/{n}")
    def attachment(address: str, message_id: int, n: int) -> Response:
        stored = find(address, message_id)
        parts = parse(store.raw(stored.id)).attachments
        if not 0 <= n < len(parts):
            raise _not_found(f"Die Nachricht {message_id} hat keinen Anhang {n}.")
        part = parts[n]
        return Response(
            part.content,
            media_type=part.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(part.filename)}",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @app.get("/admin/messages", include_in_schema=False)
    def admin_messages(
        to: str | None = Query(default=None), authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        admin(authorization)
        out = []
        for m in store.messages(to):
            parsed = parse(store.raw(m.id))
            out.append(
                {
                    "id": m.id,
                    "to": m.mailbox,
                    "envelope_from": m.envelope_from,
                    "from": m.from_header,
                    "subject": m.subject,
                    "message_id": m.message_id,
                    "received_at": m.received_at,
                    "size": m.size,
                    "flags": m.flags.split(),
                    "encrypted": parsed.encrypted,
                    "attachments": [
                        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in parsed.attachments
                    ],
                }
            )
        return {"messages": out}

    @app.post("/admin/reset", include_in_schema=False)
    def reset(authorization: str | None = Header(default=None)) -> dict[str, bool]:
        admin(authorization)
        store.reset()
        return {"reset": True}

    return app
