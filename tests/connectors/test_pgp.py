"""PGP/MIME reply mails with Debian's gpg: encrypt, then decrypt as the citizen's client would."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from amtsbote import BusinessRuleError
from connectors.mail import PgpKeyUnusable, encrypt_message
from tests.fixtures.pgp import Citizen

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # binary, as a real letter is


def _letter() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Stadt Musterstadt <steueramt@musterstadt.example>"
    msg["To"] = "buerger@example.org"
    msg["Subject"] = "Ihr Hundesteuerbescheid HST-2026-000123"
    msg["Date"] = "Wed, 02 Dec 2026 10:00:00 +0100"
    msg["Message-ID"] = make_msgid(domain="musterstadt.example")
    msg.set_content("Sehr geehrter Herr Weiß,\nanbei Ihr Bescheid.\n")
    msg.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="Hundesteuerbescheid.pdf"
    )
    return msg


def test_encrypted_mail_opens_with_the_citizens_key(citizen: Citizen) -> None:
    original = _letter()
    sent = encrypt_message(original, citizen.public_key).as_bytes(policy=policy.SMTP)

    received = message_from_bytes(sent, policy=policy.default)
    for name in ("From", "To", "Subject", "Message-ID", "Date"):
        assert received[name] == original[name]
    assert received.get_content_type() == "multipart/encrypted"
    assert received.get_param("protocol") == "application/pgp-encrypted"
    control, data = received.iter_parts()
    assert control.get_content_type() == "application/pgp-encrypted"
    assert b"Version: 1" in control.get_content()
    assert data.get_content_type() == "application/octet-stream"
    armored = data.get_content().decode("ascii")
    assert armored.startswith("-----BEGIN PGP MESSAGE-----")
    # Nothing of the letter travels in the clear.
    assert b"Hundesteuerbescheid.pdf" not in sent and b"anbei" not in sent

    plain = citizen.gpg.decrypt(armored)
    assert plain.ok, plain.status
    assert plain.key_id is not None
    inner = message_from_bytes(plain.data, policy=policy.default)
    assert inner.get_content_type() == "multipart/mixed"
    assert inner["Subject"] is None  # the envelope stays outside
    text = inner.get_body(preferencelist=("plain",))
    assert text is not None and "Sehr geehrter Herr Weiß" in text.get_content()
    (attachment,) = inner.iter_attachments()
    assert attachment.get_filename() == "Hundesteuerbescheid.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    # The mail that went in is unchanged (the delivery may still need it for a fallback).
    assert original.get_content_type() == "multipart/mixed"


def test_garbage_and_foreign_keys_are_refused(citizen: Citizen, tmp_path: Path) -> None:
    with pytest.raises(PgpKeyUnusable) as info:
        encrypt_message(_letter(), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI buerger@example.org")
    assert info.value.code == "pgp-key-invalid"
    assert isinstance(info.value, BusinessRuleError)  # never retried: the delivery falls back

    broken = citizen.public_key.replace("\n", "\nX", 3)
    with pytest.raises(PgpKeyUnusable) as info:
        encrypt_message(_letter(), broken)
    assert info.value.code == "pgp-key-invalid"

    other = Citizen(tmp_path / "other", "nachbar@example.org")
    try:
        with pytest.raises(PgpKeyUnusable) as info:
            encrypt_message(_letter(), citizen.public_key + "\n" + other.public_key)
        assert info.value.code == "pgp-key-ambiguous"
    finally:
        other.close()


def test_expired_and_sign_only_keys_are_unusable(tmp_path: Path) -> None:
    # Made in 2020 with one day of validity: long expired now.
    expired = Citizen(
        tmp_path / "expired",
        "alt@example.org",
        expire_date="1d",
        options="--faked-system-time 20200101T000000",
    )
    sign_only = Citizen(tmp_path / "sign", "signatur@example.org", subkey_type="", subkey_curve="")
    try:
        for person in (expired, sign_only):
            with pytest.raises(PgpKeyUnusable) as info:
                encrypt_message(_letter(), person.public_key)
            assert info.value.code == "pgp-key-unusable"
    finally:
        expired.close()
        sign_only.close()
