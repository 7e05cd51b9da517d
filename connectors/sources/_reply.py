"""Letters to the citizen over the reply channel the submission's metadata names.

FIT-Connect has no reply endpoint: the receiver answers through the ``replyChannel`` of the
submission's metadata (metadata schema 1.0.0: exactly one of ``eMail`` {``address``, optional
``pgpPublicKey``}, ``deMail`` {``address``}, ``fink`` {``finkPostfachRef``, ``host``},
``elster`` {``accountId``, …}). Without a ``replyChannel`` the authority answers by post.

Routes here:

- ``eMail`` → one mail over SMTP with the letters attached. Its ``Message-ID`` is derived from
  the reply id (``<reply id>@<sender domain>``), so a rerun after a crash between the send and
  the item's commit is recognisable as the same mail by every mail client and by the
  audit. With a ``pgpPublicKey`` the whole message is wrapped as PGP/MIME (RFC 3156) by the
  ``encrypt`` step; without that step such a letter goes to print rather than in clear.
- ``deMail``, ``fink``, ``elster`` (not reachable from here), no channel, an unusable one, or a
  mail server refusing the address → the fallback: by default the letters go into the
  print-and-post outbox, one folder per reply id, written once (a rerun finds it and does
  nothing). ``fallback="review"`` hands the item to a clerk instead.

Letters pass through ``convert`` first (e.g. DOCX → PDF); by default they go as they come.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from amtsbote import AmtsboteSettings, ApplicationError, ReviewRequired, get_logger
from connectors.documents import to_pdf
from connectors.mail import Mailer, MailSettings, PgpKeyUnusable, encrypt_data
from connectors.sources._source import Delivered, Document, Received

__all__ = [
    "Convert", "Encrypt", "ReplyChannels", "ReplySettings", "pdf_letter", "reply_channel",
]  # fmt: skip

log = get_logger(__name__)

#: ``encrypt(armored_public_key, data) -> armored message``: the PGP step of the eMail route.
Encrypt = Callable[[str, bytes], str]
#: Turns one letter into the form the citizen receives (e.g. DOCX → PDF).
Convert = Callable[[Document], Document]

CHANNELS = ("eMail", "deMail", "fink", "elster")
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
_REPLY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,127}$")
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf_letter(letter: Document) -> Document:
    """The letter as the citizen receives it: a DOCX converted to PDF (LibreOffice headless);
    other documents unchanged."""
    if letter.mime_type != _DOCX:
        return letter
    stem = letter.filename.rsplit(".", 1)[0] if "." in letter.filename else letter.filename
    return Document(
        letter.key, f"{stem}.pdf", "application/pdf", to_pdf(letter.content), letter.title
    )


class ReplySettings(BaseSettings):
    """How letters reach citizens (env prefix ``AMTSBOTE_REPLY_``); SMTP is ``MailSettings``."""

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_REPLY_", extra="ignore")

    outbox_dir: Path | None = Field(
        None, description="print-and-post outbox; default: <data dir>/post-ausgang"
    )
    channels: list[Literal["eMail"]] = Field(
        ["eMail"],  # pydantic copies the default per instance
        description="channels this office reaches; empty: every letter goes the fallback way",
    )
    fallback: Literal["print", "review"] = Field(
        "print", description="what happens to a letter no reachable channel can carry"
    )
    sender: str | None = Field(None, description="From of letters; default: the mail sender")
    letter_format: Literal["pdf", "docx"] = Field(
        "pdf", description="what the citizen receives: PDF (converted by LibreOffice) or DOCX"
    )
    pgp: bool = Field(True, description="encrypt to a pgpPublicKey the citizen gave (GnuPG)")


def reply_channel(metadata: Mapping[str, Any] | None) -> tuple[str, Mapping[str, Any]]:
    """The channel a submission's metadata names: ``(kind, its fields)``; ``("none", {})``.

    More than one channel, or one that is not an object, counts as ``invalid``: the letter
    then goes the fallback way rather than guessing.
    """
    raw = (metadata or {}).get("replyChannel")
    if raw is None:
        return "none", {}
    if not isinstance(raw, Mapping):
        return "invalid", {}
    named = [k for k in raw if k in CHANNELS]
    if len(named) != 1 or len(raw) != 1 or not isinstance(raw[named[0]], Mapping):
        return "invalid", {}
    return named[0], raw[named[0]]


class ReplyChannels:
    """The `Delivery` of letters over the reply channel, with a print-and-post fallback.

    Args:
        mailer: SMTP relay of the eMail route.
        settings: Outbox, fallback, sender.
        outbox: The print-and-post outbox (default from the settings / data dir).
        encrypt: PGP step for recipients who gave a key (see module docstring).
        convert: Letter conversion (default: letters as they come).
    """

    def __init__(
        self,
        mailer: Mailer,
        settings: ReplySettings | None = None,
        *,
        outbox: Path | None = None,
        encrypt: Encrypt | None = None,
        convert: Convert | None = None,
    ) -> None:
        self.mailer = mailer
        self.settings = settings or ReplySettings()
        self.outbox = (
            outbox or self.settings.outbox_dir or AmtsboteSettings().data_dir / "post-ausgang"
        )
        self.encrypt = encrypt
        self.convert = convert

    @classmethod
    def from_env(cls) -> ReplyChannels:
        """Mail and reply settings from the environment; PDF letters and PGP by default."""
        settings = ReplySettings()
        return cls(
            Mailer(MailSettings()),
            settings,
            encrypt=encrypt_data if settings.pgp else None,
            convert=pdf_letter if settings.letter_format == "pdf" else None,
        )

    # -- the Delivery protocol ---------------------------------------------------------------
    def deliver(
        self, received: Received[Any], reply_id: str, letters: Sequence[Document]
    ) -> Delivered:
        metadata = getattr(received.handle, "metadata", None)
        return self.send(received.item_key, metadata, reply_id, letters)

    def send(
        self,
        item_key: str,
        metadata: Mapping[str, Any] | None,
        reply_id: str,
        letters: Sequence[Document],
    ) -> Delivered:
        """Send `letters` over the channel `metadata` names, else the fallback.

        Raises:
            ValueError: No letters, or a reply id unfit for a Message-ID / folder name.
            ReviewRequired: ``reply-channel-unreachable`` with ``fallback="review"``.
            ApplicationError: The mail server misbehaves (retried by the flow).
        """
        if not letters:
            raise ValueError("a reply needs at least one letter")
        if not _REPLY_ID.match(reply_id):
            raise ValueError("reply id must be letters, digits and dashes")
        docs = [self.convert(d) for d in letters] if self.convert else list(letters)
        kind, fields = reply_channel(metadata)
        reason = f"channel-{kind}"
        if kind == "eMail" and kind not in self.settings.channels:
            reason = "channel-eMail-off"
        elif kind == "eMail":
            address = fields.get("address")
            key = fields.get("pgpPublicKey")
            if not isinstance(address, str) or not _ADDRESS.match(address):
                reason = "email-address-invalid"
            elif key is not None and (not isinstance(key, str) or self.encrypt is None):
                reason = "pgp-unavailable"
            else:
                try:
                    message_id = self._mail(address, key, reply_id, docs)
                except PgpKeyUnusable as exc:  # the citizen's key cannot encrypt: not in clear
                    reason = exc.code or "pgp-key-unusable"
                except ApplicationError as exc:
                    if exc.code != "mail-recipient-refused":
                        raise
                    reason = "email-refused"
                else:
                    return Delivered("mail", kind, message_id)
        return self._fallback(item_key, kind, reason, reply_id, docs)

    # -- eMail -------------------------------------------------------------------------------
    def message(
        self, address: str, reply_id: str, letters: Sequence[Document], pgp_key: str | None = None
    ) -> EmailMessage:
        """The mail for `address` (PGP/MIME when `pgp_key` is given and `encrypt` is set)."""
        sender = self.settings.sender or self.mailer.settings.sender
        domain = sender.rpartition("@")[2] or "amtsbote.invalid"
        title = letters[0].title or "Ihr Schreiben"
        inner = EmailMessage()
        inner.set_content(
            "Guten Tag,\n\n"
            f"anbei erhalten Sie unser Schreiben: {title}.\n\n"
            "Diese Nachricht wurde automatisch versandt; bitte antworten Sie nicht auf sie.\n",
            charset="utf-8",
        )
        for d in letters:
            main, _, sub = d.mime_type.partition("/")
            inner.add_attachment(
                d.content, maintype=main, subtype=sub or "octet-stream", filename=d.filename
            )
        if pgp_key is not None and self.encrypt is not None:
            armored = self.encrypt(pgp_key, inner.as_bytes())
            msg = EmailMessage()
            msg.set_type("multipart/encrypted")
            msg.set_param("protocol", "application/pgp-encrypted")
            control = EmailMessage()
            control.set_content(b"Version: 1\n", "application", "pgp-encrypted", cte="7bit")
            body = EmailMessage()
            body.set_content(armored.encode("ascii"), "application", "octet-stream", cte="7bit")
            body.add_header("Content-Disposition", "inline", filename="encrypted.asc")
            msg.attach(control)
            msg.attach(body)
            subject = "Verschlüsselte Nachricht Ihrer Verwaltung"
        else:
            msg, subject = inner, title
        msg["From"] = sender
        msg["To"] = address
        msg["Subject"] = subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = f"<{reply_id}@{domain}>"
        msg["Auto-Submitted"] = "auto-generated"
        return msg

    def _mail(
        self, address: str, pgp_key: str | None, reply_id: str, letters: Sequence[Document]
    ) -> str:
        message_id = self.mailer.send(self.message(address, reply_id, letters, pgp_key))
        log.info("reply.mailed", reply_id=reply_id, message_id=message_id, encrypted=bool(pgp_key))
        return message_id

    # -- print and post ----------------------------------------------------------------------
    def _fallback(
        self, item_key: str, kind: str, reason: str, reply_id: str, letters: Sequence[Document]
    ) -> Delivered:
        if self.settings.fallback == "review":
            raise ReviewRequired(
                "Das Schreiben kann über den gewählten Rückkanal nicht zugestellt werden.",
                code="reply-channel-unreachable",
                facts={"channel": kind, "reason": reason, "replyId": reply_id},
            )
        folder, created = self.post(item_key, kind, reason, reply_id, letters)
        return Delivered("print", kind, folder.name, created=created, reason=reason)

    def post(
        self, item_key: str, kind: str, reason: str, reply_id: str, letters: Sequence[Document]
    ) -> tuple[Path, bool]:
        """Put the letters into ``<outbox>/<reply id>/`` once; ``(folder, created)``.

        The folder appears complete or not at all (written aside, then renamed), so the print
        room never picks up half a job and a rerun sees the finished one.
        """
        target = self.outbox / reply_id
        if target.is_dir():
            log.info("reply.print_exists", reply_id=reply_id)
            return target, False
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=f".{reply_id}-", dir=self.outbox))
            try:
                names = []
                for i, d in enumerate(letters, start=1):
                    name = f"{i:02d}-{_safe_name(d.filename)}"
                    (work / name).write_bytes(d.content)
                    names.append(name)
                job = {
                    "itemKey": item_key,
                    "replyId": reply_id,
                    "channel": kind,
                    "reason": reason,
                    "letters": names,
                    "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
                }
                (work / "auftrag.json").write_text(json.dumps(job, indent=1), encoding="utf-8")
                os.rename(work, target)
            except OSError:
                with contextlib.suppress(OSError):
                    shutil.rmtree(work)
                if target.is_dir():  # another worker finished the same job first
                    return target, False
                raise
        except OSError as exc:
            raise ApplicationError(
                "Der Post-Ausgang ist nicht beschreibbar.", code="print-outbox-unwritable"
            ) from exc
        log.info("reply.posted_for_print", reply_id=reply_id, channel=kind, reason=reason)
        return target, True


def _safe_name(name: str) -> str:
    base = re.sub(r"[^\w.\-]", "_", Path(name).name).strip("._") or "schreiben"
    return base[:100]
