"""Reading a stored message for display: its text, its attachments, whether it is encrypted.

A PGP/MIME message (RFC 3156: ``multipart/encrypted; protocol="application/pgp-encrypted"``)
cannot be read here, as the key lies with the citizen; it is shown as encrypted and its armored
block is offered as the only attachment, so it can be downloaded and decrypted elsewhere.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage, Message

__all__ = ["Attachment", "ParsedMessage", "header_fields", "parse"]


@dataclass(frozen=True)
class Attachment:
    """One downloadable part of a message."""

    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ParsedMessage:
    """What the webmail shows of one message."""

    subject: str
    from_: str
    to: str
    date: str
    text: str
    encrypted: bool
    attachments: list[Attachment]


def _message(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)  # guaranteed by policy.default
    return msg


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # a header too broken to parse
        return ""
    return "" if value is None else " ".join(str(value).split())


def header_fields(raw: bytes) -> tuple[str, str, str]:
    """(Message-ID, From, Subject) of `raw`, empty where missing or unreadable."""
    msg = _message(raw)
    return _header(msg, "Message-ID"), _header(msg, "From"), _header(msg, "Subject")


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _text(part: Message) -> str:
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _encrypted(msg: EmailMessage) -> ParsedMessage | None:
    if msg.get_content_type() != "multipart/encrypted":
        return None
    protocol = msg.get_param("protocol")
    if not isinstance(protocol, str) or protocol.lower() != "application/pgp-encrypted":
        return None
    parts = [p for p in msg.iter_parts() if isinstance(p, Message)]
    armored = [p for p in parts if p.get_content_type() == "application/octet-stream"]
    attachments = [
        Attachment(p.get_filename() or "encrypted.asc", "application/pgp-encrypted", _payload(p))
        for p in armored
    ]
    return ParsedMessage(
        subject=_header(msg, "Subject"),
        from_=_header(msg, "From"),
        to=_header(msg, "To"),
        date=_header(msg, "Date"),
        text="",
        encrypted=True,
        attachments=attachments,
    )


def parse(raw: bytes) -> ParsedMessage:
    """Split `raw` into the first text part and the attachments (in message order)."""
    msg = _message(raw)
    if (enc := _encrypted(msg)) is not None:
        return enc
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and ctype == "text/plain" and text is None:
            text = _text(part)
        elif disposition != "attachment" and ctype == "text/html" and html is None:
            html = _text(part)
        else:
            name = part.get_filename() or f"teil-{len(attachments) + 1}"
            attachments.append(Attachment(name, ctype, _payload(part)))
    if text is None and html is not None:
        # no plain alternative: the HTML source is shown as text (escaped), never rendered
        text = html
    return ParsedMessage(
        subject=_header(msg, "Subject"),
        from_=_header(msg, "From"),
        to=_header(msg, "To"),
        date=_header(msg, "Date"),
        text=text or "",
        encrypted=False,
        attachments=attachments,
    )
