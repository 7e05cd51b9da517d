"""Configuration of the Serviceportal Musterstadt (demo defaults, overridable per test)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from sandbox._common import Faults
from sandbox.portal._codes import DEFAULT_DESTINATION_ID

__all__ = ["PortalConfig"]


class PortalConfig(BaseModel):
    """Everything the portal needs to start; the defaults are the published demo credentials.

    Args:
        data_dir: Where the SQLite database and the key files live (created if missing).
        key_size: RSA key size of the generated keys; 4096 as in FIT-Connect, 2048 in tests.
        callback_url: Where to POST new-submission callbacks (none if unset).
        clock_offset_days: How far the portal's clock starts ahead of real time (the deadline
            tests move it further with ``POST /admin/clock``).
        notify_after_days: Mail the technical contact when a submission has waited this many
            days in ``submitted`` (once per level).
        auto_reject_after_days: The service rejects a submission still ``submitted`` after
            this many days.
        delete_incomplete_after_days / delete_picked_up_after_days: When an ``incomplete``
            submission, or one accepted or rejected, is deleted (its event log is kept).
        smtp_host / smtp_port / mail_from / technical_contact: Where deadline mails go; no
            mail is sent without `smtp_host`.
        compress_share: Share of parts the citizen form seals with ``zip: "DEF"``.
        webmail_url: Base URL of the sandbox webmail the citizens read their letters in; when
            set, the status page of a case filed with an e-mail reply channel links to that
            mailbox (none without it, e.g. when the mail system is not running).
    """

    data_dir: Path = Path("var/sandbox/portal")
    destination_id: str = DEFAULT_DESTINATION_ID
    destination_name: str = "Steueramt Musterstadt"
    sender_client_id: str = "serviceportal-musterstadt"
    sender_client_secret: str = "sender-demo-secret"
    receiver_client_id: str = "steueramt-musterstadt"
    receiver_client_secret: str = "receiver-demo-secret"
    admin_token: str = "portal-admin-demo"
    token_lifetime_s: int = Field(1800, ge=1)
    callback_url: str | None = None
    callback_secret: str = "callback-demo-secret-0123456789abcdef"
    faults: Faults = Field(default_factory=Faults)
    seed: int | None = None
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1)
    key_size: int = Field(4096, ge=2048)
    issuer: str = "https://portal.musterstadt.example"
    clock_offset_days: float = Field(0.0, ge=0)
    notify_after_days: tuple[int, ...] = (3, 9)
    auto_reject_after_days: int = Field(14, ge=1)
    delete_incomplete_after_days: int = Field(1, ge=1)
    delete_picked_up_after_days: int = Field(7, ge=1)
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    mail_from: str = "zustelldienst@portal.musterstadt.example"
    technical_contact: str = "it-betrieb@steueramt.musterstadt.example"
    compress_share: float = Field(0.3, ge=0.0, le=1.0)
    webmail_url: str | None = None
