"""The whole e-mail route as the office runs it: the DOCX notice becomes a PDF (LibreOffice),
goes PGP/MIME-encrypted to the key the citizen gave (GnuPG), over a real SMTP server; the
citizen's key opens it and the PDF inside is the notice. A key that cannot encrypt sends the
letter to print, never in clear."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from pathlib import Path

from pypdf import PdfReader

from connectors.mail import Mailer, MailSettings, encrypt_data
from connectors.sources import Document, ReplyChannels, ReplySettings, pdf_letter
from tests.connectors._samples import dog_tax_notice
from tests.fixtures.pgp import Citizen
from tests.fixtures.smtp import SmtpServer

REPLY_ID = "5f1d0c2e-7a43-5b8e-8c21-0d9e8f7a6b5c"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _notice() -> Document:
    content = dog_tax_notice("HST-2026-000777")
    return Document("bescheid", "bescheid.docx", DOCX, content, "Hundesteuerbescheid")


def _channels(server: SmtpServer, tmp_path: Path) -> ReplyChannels:
    mailer = Mailer(MailSettings(host=server.host, port=server.port, sender="amt@stadt.example"))
    return ReplyChannels(
        mailer, ReplySettings(), outbox=tmp_path / "post", encrypt=encrypt_data, convert=pdf_letter
    )


def test_citizen_decrypts_the_pdf_notice(
    smtp_server: SmtpServer, tmp_path: Path, citizen: Citizen
) -> None:
    metadata = {
        "replyChannel": {
            "eMail": {"address": "buerger@example.org", "pgpPublicKey": citizen.public_key}
        }
    }
    sent = _channels(smtp_server, tmp_path).send("sid-7", metadata, REPLY_ID, [_notice()])
    assert (sent.route, sent.outcome) == ("mail", "mailed")
    (msg,) = smtp_server.messages
    raw = msg.as_bytes(policy=policy.SMTP)
    assert msg.get_content_type() == "multipart/encrypted"
    assert b"HST-2026-000777" not in raw and b"bescheid" not in raw.lower()  # nothing in clear
    _, body = msg.iter_parts()
    plain = citizen.gpg.decrypt(body.get_content().decode("ascii"))
    assert plain.ok, plain.status
    inner = message_from_bytes(plain.data, policy=policy.default)
    (attachment,) = inner.iter_attachments()
    assert attachment.get_filename() == "bescheid.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "HST-2026-000777" in text and "Jürgen Weiß" in text


def test_unusable_key_sends_the_letter_to_print_not_in_clear(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    broken = (
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nkein Schlüssel\n"
        "-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    metadata = {"replyChannel": {"eMail": {"address": "b@example.org", "pgpPublicKey": broken}}}
    sent = _channels(smtp_server, tmp_path).send("sid-8", metadata, REPLY_ID, [_notice()])
    assert sent.route == "print" and sent.outcome == "posted-for-print"
    assert smtp_server.messages == []
    (folder,) = (tmp_path / "post").iterdir()
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".pdf"]
