"""The sandbox mail system over real SMTP (smtplib → aiosmtpd) and real HTTP (webmail, admin)."""

from __future__ import annotations

import smtplib
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.mail import encrypt_message
from sandbox.mail import MailConfig, RunningMail, serve_mail
from tests.fixtures.pgp import Citizen

ADMIN = {"Authorization": "Bearer mail-admin-token"}
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"  # binary, as a real letter is


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMail]:
    with serve_mail(MailConfig(data_dir=tmp_path_factory.mktemp("mail"))) as running:
        yield running


def _addr(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def _letter(to: list[str], subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Stadt Musterstadt <steueramt@musterstadt.example>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = "Wed, 02 Dec 2026 10:00:00 +0100"
    msg["Message-ID"] = make_msgid(domain="musterstadt.example")
    msg.set_content(text)
    return msg


def _send(mail: RunningMail, msg: EmailMessage) -> None:
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port, "localhost", timeout=10) as smtp:
        refused = smtp.send_message(msg)
    assert refused == {}


def _admin(mail: RunningMail, to: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{mail.base_url}/admin/messages", params={"to": to}, headers=ADMIN)
    r.raise_for_status()
    messages: list[dict[str, Any]] = r.json()["messages"]
    return messages


def test_text_mail_arrives_in_the_mailbox(mail: RunningMail) -> None:
    to = _addr("buerger")
    msg = _letter([to], "Ihr Hundesteuerbescheid", "Sehr geehrte Frau Weiß,\nanbei Ihr Bescheid.")
    _send(mail, msg)
    [meta] = _admin(mail, to)
    assert meta["to"] == to
    assert meta["from"] == "Stadt Musterstadt <steueramt@musterstadt.example>"
    assert meta["subject"] == "Ihr Hundesteuerbescheid"
    assert meta["message_id"] == msg["Message-ID"]
    assert meta["attachments"] == []
    assert meta["flags"] == []
    assert "body" not in meta and "raw" not in meta
    with httpx.Client(base_url=mail.base_url, timeout=10) as web:
        index = web.get("/")
        assert index.status_code == 200 and to in index.text
        box = web.get(f"/mailbox/{to}")
        assert box.status_code == 200 and 'class="unread"' in box.text
        assert "Ihr Hundesteuerbescheid" in box.text and f"/mailbox/{to}/{meta['id']}" in box.text
        page = web.get(f"/mailbox/{to}/{meta['id']}")
        assert page.status_code == 200
        assert "Sehr geehrte Frau Weiß," in page.text and "anbei Ihr Bescheid." in page.text
        assert "verschlüsselt" not in page.text
        # opened once: seen, as an IMAP client of the same store will see it
        assert _admin(mail, to)[0]["flags"] == ["\\Seen"]
        assert 'class="read"' in web.get(f"/mailbox/{to}").text
        web.get(f"/mailbox/{to}/{meta['id']}")
        assert _admin(mail, to)[0]["flags"] == ["\\Seen"]
        # the same message is in no other mailbox
        assert web.get(f"/mailbox/{_addr('fremd')}/{meta['id']}").status_code == 404


def test_pdf_attachment_is_downloaded_byte_for_byte(mail: RunningMail) -> None:
    to = _addr("empfaenger")
    msg = _letter([to], "Bescheid über Sperrmüll", "Ihr Bescheid liegt bei.")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Bescheid-Weiß.pdf")
    _send(mail, msg)
    [meta] = _admin(mail, to)
    assert meta["attachments"] == [
        {"filename": "Bescheid-Weiß.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ]
    with httpx.Client(base_url=mail.base_url, timeout=10) as web:
        page = web.get(f"/mailbox/{to}/{meta['id']}")
        link = f"/mailbox/{to}/{meta['id']}/attachments/0"
        assert link in page.text and "Bescheid-Weiß.pdf" in page.text
        pdf = web.get(link)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert "attachment" in pdf.headers["content-disposition"]
        assert pdf.content == PDF
        assert web.get(f"/mailbox/{to}/{meta['id']}/attachments/1").status_code == 404


def test_one_copy_per_recipient(mail: RunningMail) -> None:
    first, second = _addr("anna"), _addr("bernd")
    msg = _letter([first, second.upper()], "Einladung Bürgerversammlung", "Am 10. Dezember.")
    _send(mail, msg)
    [a] = _admin(mail, first)
    [b] = _admin(mail, second)  # the address's case does not make a second mailbox
    assert a["id"] != b["id"]
    assert a["message_id"] == b["message_id"] == msg["Message-ID"]
    assert (a["to"], b["to"]) == (first, second)
    with httpx.Client(base_url=mail.base_url, timeout=10) as web:
        for box, meta in ((first, a), (second, b)):
            page = web.get(f"/mailbox/{box}/{meta['id']}")
            assert "Am 10. Dezember." in page.text


def test_html_in_subject_and_body_is_escaped(mail: RunningMail) -> None:
    to = _addr("leser")
    evil = '<script>alert("x")</script>'
    msg = _letter([to], f"Antrag {evil}", f"Hallo {evil} <b>fett</b>")
    msg.add_alternative(f"<p>Hallo {evil}</p>", subtype="html")
    _send(mail, msg)
    [meta] = _admin(mail, to)
    with httpx.Client(base_url=mail.base_url, timeout=10) as web:
        for path in (f"/mailbox/{to}", f"/mailbox/{to}/{meta['id']}", "/"):
            page = web.get(path)
            assert "<script>" not in page.text, path
        page = web.get(f"/mailbox/{to}/{meta['id']}")
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
        assert "&lt;b&gt;fett&lt;/b&gt;" in page.text


def test_unknown_mailbox_and_message_are_404(mail: RunningMail) -> None:
    with httpx.Client(base_url=mail.base_url, timeout=10) as web:
        missing = web.get(f"/mailbox/{_addr('niemand')}")
        assert missing.status_code == 404 and "Nicht gefunden" in missing.text
        assert web.get(f"/mailbox/{_addr('niemand')}/1").status_code == 404
        assert web.get(f"/mailbox/{_addr('niemand')}/1/attachments/0").status_code == 404
    assert _admin(mail, _addr("niemand")) == []
    unauthorized = httpx.get(f"{mail.base_url}/admin/messages")
    assert unauthorized.status_code == 401


def test_pgp_mime_is_shown_encrypted_with_the_armored_block(
    mail: RunningMail, tmp_path: Path
) -> None:
    to = _addr("verschluesselt")
    citizen = Citizen(tmp_path / "gpg", to)
    try:
        plain = _letter([to], "Ihr Abfallgebührenbescheid", "Geheimer Inhalt des Bescheids.")
        plain.add_attachment(PDF, maintype="application", subtype="pdf", filename="Bescheid.pdf")
        _send(mail, encrypt_message(plain, citizen.public_key))
        [meta] = _admin(mail, to)
        assert meta["encrypted"] is True
        [armored] = meta["attachments"]
        assert armored["content_type"] == "application/pgp-encrypted"
        with httpx.Client(base_url=mail.base_url, timeout=10) as web:
            page = web.get(f"/mailbox/{to}/{meta['id']}")
            assert "<strong>verschlüsselt</strong>" in page.text
            assert "Geheimer Inhalt" not in page.text
            block = web.get(f"/mailbox/{to}/{meta['id']}/attachments/0")
            eml = web.get(f"/mailbox/{to}/{meta['id']}/raw")
            assert 'id="eml"' in page.text
        assert block.content.startswith(b"-----BEGIN PGP MESSAGE-----")
        assert eml.headers["content-type"].startswith("message/rfc822")
        assert ".eml" in eml.headers["content-disposition"]
        whole = message_from_bytes(eml.content, policy=policy.default)
        assert whole.get_content_type() == "multipart/encrypted"
        assert block.content.strip() in eml.content  # the armored part, byte for byte
        decrypted = citizen.gpg.decrypt(block.content)
        assert decrypted.ok, decrypted.status
        assert b"Geheimer Inhalt des Bescheids." in decrypted.data
    finally:
        citizen.close()


def test_both_ports_are_released_on_stop(tmp_path: Path) -> None:
    with serve_mail(MailConfig(data_dir=tmp_path)) as running:
        to = _addr("kurz")
        _send(running, _letter([to], "Kurz", "Text"))
        smtp_port = running.smtp_port
        http_port = int(running.base_url.rsplit(":", 1)[1])
    for port in (smtp_port, http_port):
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", port))
    # the store outlives the servers: a restart on the same directory shows the mail
    with serve_mail(MailConfig(data_dir=tmp_path)) as again:
        assert [m["subject"] for m in _admin(again, to)] == ["Kurz"]


def test_oversized_mail_is_refused_and_not_kept(tmp_path: Path) -> None:
    with serve_mail(MailConfig(data_dir=tmp_path, max_message_bytes=10_000)) as running:
        to = _addr("gross")
        msg = _letter([to], "Zu groß", "Anhang folgt.")
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="gross.pdf")
        with smtplib.SMTP(running.smtp_host, running.smtp_port, "localhost", timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPException) as refused:
                smtp.send_message(msg)
        assert "552" in str(refused.value)
        assert _admin(running, to) == []
        _send(running, _letter([to], "Klein", "passt"))
        assert [m["subject"] for m in _admin(running, to)] == ["Klein"]


def test_malformed_mail_is_kept_and_shown(mail: RunningMail) -> None:
    to = _addr("kaputt")
    raw = b"Subject: =?utf-8?q?kaputt\r\nFrom\r\n\r\n\xff\xfe Text ohne Kopf <i>x</i>\r\n"
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port, "localhost", timeout=10) as smtp:
        assert smtp.sendmail("absender@example.org", [to], raw) == {}
    [meta] = _admin(mail, to)
    assert meta["message_id"] == ""
    page = httpx.get(f"{mail.base_url}/mailbox/{to}/{meta['id']}")
    assert page.status_code == 200
    assert "Text ohne Kopf &lt;i&gt;x&lt;/i&gt;" in page.text


def test_stop_with_a_client_still_connected(tmp_path: Path) -> None:
    with serve_mail(MailConfig(data_dir=tmp_path)) as running:
        idle = smtplib.SMTP(running.smtp_host, running.smtp_port, "localhost", timeout=10)
        idle.ehlo()
    try:
        with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
            idle.noop()
    finally:
        idle.close()
