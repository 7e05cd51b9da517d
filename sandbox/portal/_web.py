"""The citizen side: landing page, the Hundesteuer form, confirmation and status pages.

The form does only light checks (required fields, patterns in the browser); the authority
validates. A filed form is sealed with the destination's public key and stored through the same
`Portal` methods the sender API uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import UploadFile

from sandbox.portal._codes import BREEDS, HUNDESTEUER_SERVICE
from sandbox.portal._envelope import Attachment, email_reply_channel, seal_submission
from sandbox.portal._service import Portal, Problem

__all__ = ["build_web", "file_application"]

STATE_LABELS = {
    "incomplete": "Unvollständig",
    "submitted": "Eingereicht – wird bearbeitet",
    "forwarded": "Weitergeleitet – wird bearbeitet",
    "accepted": "Angenommen",
    "rejected": "Abgelehnt",
    "deleted": "Gelöscht (Aufbewahrungsfrist abgelaufen)",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)

_FIELDS = {
    "owner": (
        "givenName",
        "familyName",
        "birthDate",
        "street",
        "houseNumber",
        "postalCode",
        "city",
        "email",
    ),
    "dog": ("name", "breed", "birthDate", "chipNumber", "ownedSince"),
    "sepaMandate": ("accountHolder", "iban"),
}


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template (autoescaped) as an HTML response."""
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def file_application(
    portal: Portal,
    data: dict[str, Any],
    attachments: list[Attachment],
    reply_channel: dict[str, Any] | None = None,
) -> str:
    """Seal and file an application exactly as the sender API would; returns the caseId.

    `reply_channel` goes into the metadata (``replyChannel``): how the citizen gets the answer.
    """
    sealed = seal_submission(
        json.dumps(data, ensure_ascii=False).encode(),
        attachments,
        portal.keys.encryption_public,
        compress_share=portal.config.compress_share,
        reply_channel=reply_channel,
    )
    ref = portal.create_submission(
        {
            "destinationId": portal.config.destination_id,
            "announcedAttachments": sealed.attachment_ids,
            "serviceType": dict(HUNDESTEUER_SERVICE),
        }
    )
    sid = ref["submissionId"]
    for aid, token in sealed.encrypted_attachments.items():
        portal.put_attachment(sid, aid, token)
    portal.submit(
        sid,
        {"encryptedMetadata": sealed.encrypted_metadata, "encryptedData": sealed.encrypted_data},
    )
    return str(ref["caseId"])


def _safe_filename(name: str | None) -> str:
    base = re.sub(r"[^\w.\- ]", "_", Path(name or "").name).strip() or "nachweis.pdf"
    return base[:120]


def build_web(portal: Portal) -> APIRouter:
    """All HTML routes, bound to `portal`."""
    router = APIRouter()
    breeds = [{"code": c, "name": n, "listed": listed} for c, (n, listed) in BREEDS.items()]

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return render("index.html", service=HUNDESTEUER_SERVICE)

    @router.get("/hundesteuer", response_class=HTMLResponse)
    def form() -> HTMLResponse:
        return render("form.html", breeds=breeds, service=HUNDESTEUER_SERVICE)

    @router.post("/hundesteuer", response_class=HTMLResponse)
    async def submit_form(request: Request) -> HTMLResponse:
        form_data = await request.form()

        def text(name: str) -> str:
            value = form_data.get(name)
            return value.strip() if isinstance(value, str) else ""

        data: dict[str, Any] = {}
        for section, names in _FIELDS.items():
            data[section] = {n: text(f"{section}.{n}") for n in names}
        data["sepaMandate"]["iban"] = re.sub(r"\s+", "", data["sepaMandate"]["iban"]).upper()
        attachments: list[Attachment] = []
        upload = form_data.get("insurance")
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(portal.config.max_attachment_bytes + 1)
            if len(content) > portal.config.max_attachment_bytes:
                return render(
                    "error.html",
                    status=413,
                    title="Datei zu groß",
                    message="Der Nachweis ist zu groß. Bitte laden Sie eine kleinere PDF hoch.",
                )
            if content:
                attachments.append((_safe_filename(upload.filename), "application/pdf", content))
        # The answer comes by e-mail to the address given (FIT-Connect ``replyChannel.eMail``),
        # PGP-encrypted when the citizen pasted a public key.
        pgp_key = text("replyChannel.pgpPublicKey").replace("\r\n", "\n")  # forms send CRLF
        if pgp_key and "BEGIN PGP PUBLIC KEY BLOCK" not in pgp_key:
            return render(
                "error.html",
                status=400,
                title="PGP-Schlüssel unlesbar",
                message="Bitte fügen Sie den öffentlichen Schlüssel im ASCII-Format ein.",
            )
        channel = email_reply_channel(data["owner"]["email"], pgp_key or None)
        try:
            case_id = file_application(portal, data, attachments, channel)
        except Problem as exc:
            return render("error.html", status=exc.status, title=exc.title, message=exc.detail)
        portal.remember_reply_mailbox(case_id, data["owner"]["email"])
        return render("confirmation.html", status=201, case_id=case_id)

    @router.get("/status/{case_id}", response_class=HTMLResponse)
    def status(case_id: str) -> HTMLResponse:
        try:
            info = portal.status(case_id)
        except Problem:
            return render(
                "error.html",
                status=404,
                title="Vorgang nicht gefunden",
                message="Bitte prüfen Sie die Vorgangsnummer.",
            )
        return render(
            "status.html", info=info, state_label=STATE_LABELS.get(info["state"], info["state"])
        )

    return router
