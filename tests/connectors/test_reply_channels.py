"""Letters over the submission's reply channel, against a real SMTP server (aiosmtpd).

eMail → one mail with the letter attached and a Message-ID from the reply id; every channel
this office cannot reach, no channel at all, or an address the mail server refuses → the
print-and-post outbox, one folder per reply id, written once.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
from pathlib import Path
from typing import Any

import pytest

from amtsbote import ApplicationError, ReviewRequired
from connectors.mail import Mailer, MailSettings
from connectors.sources import Document, ReplyChannels, ReplySettings, reply_channel
from tests.fixtures.smtp import SmtpServer, run_smtp

REPLY_ID = "0b7c4e0e-2f55-5c1e-9a6e-6a4d3c2b1a00"
LETTER = Document(
    "bescheid",
    "bescheid.docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"PK\x03\x04 ein Bescheid",
    "Hundesteuerbescheid HST-2026-0042",
)
KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGZ...\n-----END PGP PUBLIC KEY BLOCK-----\n"


def _channels(server: SmtpServer, tmp_path: Path, **kw: Any) -> ReplyChannels:
    mailer = Mailer(MailSettings(host=server.host, port=server.port, sender="amt@stadt.example"))
    settings = ReplySettings(**{k: kw.pop(k) for k in ("fallback", "channels") if k in kw})
    return ReplyChannels(mailer, settings, outbox=tmp_path / "post", **kw)


def _mail(address: str, **extra: str) -> dict[str, Any]:
    return {"replyChannel": {"eMail": {"address": address, **extra}}}


def test_email_carries_the_letter_with_a_message_id_from_the_reply_id(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    channels = _channels(smtp_server, tmp_path)
    sent = channels.send("sid-1", _mail("buerger@example.org"), REPLY_ID, [LETTER])
    assert (sent.route, sent.channel, sent.outcome) == ("mail", "eMail", "mailed")
    assert sent.reference == f"<{REPLY_ID}@stadt.example>"
    (msg,) = smtp_server.messages
    assert smtp_server.envelopes == [("amt@stadt.example", ["buerger@example.org"])]
    assert msg["Subject"] == LETTER.title and msg["Auto-Submitted"] == "auto-generated"
    (att,) = msg.iter_attachments()
    assert att.get_filename() == "bescheid.docx" and att.get_content() == LETTER.content
    assert "Hundesteuerbescheid HST-2026-0042" in msg.get_body(("plain",)).get_content()
    # a rerun (crash before the item's commit) is the same mail: recognisable by its id
    channels.send("sid-1", _mail("buerger@example.org"), REPLY_ID, [LETTER])
    assert {m["Message-ID"] for m in smtp_server.messages} == {sent.reference}
    assert list(smtp_server.by_reply_id()) == [REPLY_ID]
    assert not (tmp_path / "post").exists()


def test_letters_pass_through_the_conversion_step(smtp_server: SmtpServer, tmp_path: Path) -> None:
    def to_pdf(d: Document) -> Document:
        return Document(d.key, "bescheid.pdf", "application/pdf", b"%PDF-1.7 " + d.content, d.title)

    _channels(smtp_server, tmp_path, convert=to_pdf).send(
        "sid-1", _mail("buerger@example.org"), REPLY_ID, [LETTER]
    )
    (att,) = smtp_server.messages[0].iter_attachments()
    assert att.get_content_type() == "application/pdf"
    assert att.get_content() == b"%PDF-1.7 " + LETTER.content


def test_a_pgp_key_wraps_the_whole_message_as_pgp_mime(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    seen: list[str] = []

    def armor(key: str, data: bytes) -> str:
        # Stand-in for the OpenPGP step, reversible so the test can open the envelope.
        seen.append(key)
        return "-----BEGIN PGP MESSAGE-----\n" + base64.b64encode(data).decode() + "\n-----END"

    sent = _channels(smtp_server, tmp_path, encrypt=armor).send(
        "sid-1", _mail("buerger@example.org", pgpPublicKey=KEY), REPLY_ID, [LETTER]
    )
    assert sent.route == "mail" and seen == [KEY]
    (msg,) = smtp_server.messages
    assert msg.get_content_type() == "multipart/encrypted"
    assert msg.get_param("protocol") == "application/pgp-encrypted"
    assert LETTER.title not in str(msg["Subject"])  # the subject names no case
    control, body = msg.iter_parts()
    assert control.get_content_type() == "application/pgp-encrypted"
    armored = body.get_content()
    armored = armored.decode() if isinstance(armored, bytes) else armored
    inner = email.message_from_bytes(
        base64.b64decode(armored.split("\n")[1]), policy=email.policy.default
    )
    (att,) = inner.iter_attachments()  # type: ignore[attr-defined]
    assert att.get_content() == LETTER.content
    assert LETTER.content not in msg.as_bytes()


def test_a_pgp_key_without_the_encryption_step_never_goes_out_in_clear(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    sent = _channels(smtp_server, tmp_path).send(
        "sid-1", _mail("buerger@example.org", pgpPublicKey=KEY), REPLY_ID, [LETTER]
    )
    assert (sent.route, sent.reason, sent.outcome) == (
        "print",
        "pgp-unavailable",
        "posted-for-print",
    )
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("metadata", "kind"),
    [
        ({"replyChannel": {"deMail": {"address": "b@x.de-mail.de"}}}, "deMail"),
        ({"replyChannel": {"fink": {"finkPostfachRef": "ref", "host": "fink.example"}}}, "fink"),
        ({"replyChannel": {"elster": {"accountId": "123", "lieferTicket": "t"}}}, "elster"),
        ({}, "none"),
        (
            {"replyChannel": {"eMail": {"address": "a@x.org"}, "deMail": {"address": "b@x"}}},
            "invalid",
        ),
    ],
)
def test_channels_out_of_reach_go_to_the_print_outbox_once(
    smtp_server: SmtpServer, tmp_path: Path, metadata: dict[str, Any], kind: str
) -> None:
    channels = _channels(smtp_server, tmp_path)
    first = channels.send("sid-1", metadata, REPLY_ID, [LETTER])
    again = channels.send("sid-1", metadata, REPLY_ID, [LETTER])
    assert (first.route, first.channel, first.created) == ("print", kind, True)
    assert (again.reference, again.created) == (first.reference, False)
    folder = tmp_path / "post" / REPLY_ID
    assert sorted(p.name for p in (tmp_path / "post").iterdir()) == [REPLY_ID]
    assert (folder / "01-bescheid.docx").read_bytes() == LETTER.content
    job = json.loads((folder / "auftrag.json").read_text())
    assert (
        job["itemKey"] == "sid-1"
        and job["channel"] == kind
        and job["letters"] == ["01-bescheid.docx"]
    )
    assert "address" not in json.dumps(job)  # the print job holds ids, the letter the address
    assert smtp_server.messages == []


def test_unusable_or_refused_addresses_go_to_print(smtp_server: SmtpServer, tmp_path: Path) -> None:
    channels = _channels(smtp_server, tmp_path)
    bad = channels.send("sid-1", _mail("kein-at-zeichen\r\nBcc: x@y"), REPLY_ID, [LETTER])
    assert (bad.route, bad.reason) == ("print", "email-address-invalid")
    smtp_server.refuse.add("weg@example.org")
    refused = channels.send(
        "sid-2", _mail("weg@example.org"), "1b7c4e0e-2f55-5c1e-9a6e-6a4d3c2b1a00", [LETTER]
    )
    assert (refused.route, refused.reason) == ("print", "email-refused")
    assert smtp_server.messages == []


def test_fallback_review_hands_the_letter_to_a_clerk(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    channels = _channels(smtp_server, tmp_path, fallback="review")
    with pytest.raises(ReviewRequired) as info:
        channels.send("sid-1", {"replyChannel": {"deMail": {"address": "b@x"}}}, REPLY_ID, [LETTER])
    assert info.value.code == "reply-channel-unreachable"
    assert info.value.facts["channel"] == "deMail"
    assert not (tmp_path / "post").exists()


def test_email_switched_off_sends_everything_to_print(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    sent = _channels(smtp_server, tmp_path, channels=[]).send(
        "sid-1", _mail("buerger@example.org"), REPLY_ID, [LETTER]
    )
    assert (sent.route, sent.reason) == ("print", "channel-eMail-off")
    assert smtp_server.messages == []


def test_a_mail_server_that_is_down_is_retried_not_posted(tmp_path: Path) -> None:
    with run_smtp() as server:
        channels = _channels(server, tmp_path)
    with pytest.raises(ApplicationError) as info:  # the server is gone: retry later
        channels.send("sid-1", _mail("buerger@example.org"), REPLY_ID, [LETTER])
    assert info.value.code == "mail-unreachable"
    assert not (tmp_path / "post").exists()


def test_bad_arguments_are_refused() -> None:
    channels = ReplyChannels(Mailer(MailSettings()), ReplySettings(), outbox=Path("unused"))
    with pytest.raises(ValueError, match="at least one letter"):
        channels.send("sid-1", {}, REPLY_ID, [])
    with pytest.raises(ValueError, match="reply id"):
        channels.send("sid-1", {}, "../etc", [LETTER])
    assert reply_channel({"replyChannel": "eMail"}) == ("invalid", {})
    assert reply_channel({"replyChannel": {"eMail": {"address": "a@b.c"}}}) == (
        "eMail",
        {"address": "a@b.c"},
    )
