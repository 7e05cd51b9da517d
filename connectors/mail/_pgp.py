"""PGP/MIME (RFC 3156): a reply mail encrypted for the citizen's own public key.

A citizen who gives an OpenPGP public key with the reply channel ``eMail`` receives the letter
so that only they can read it. `encrypt_message` turns the ready mail (text and PDF
attachments) into the RFC 3156 form every OpenPGP mail client opens::

    multipart/encrypted; protocol="application/pgp-encrypted"
    ├── application/pgp-encrypted      "Version: 1"
    └── application/octet-stream       the whole original MIME body, encrypted and armored

The envelope headers (From, To, Subject, Date, Message-ID …) stay readable: SMTP and the
mailbox need them. Everything below them — the text, the letter, its attachments — is inside.

**Why python-gnupg with Debian's gpg, not pgpy.** The OpenPGP work is done by GnuPG, the
implementation Debian maintains and ships security fixes for, which reads the keys the
citizens' clients make (GnuPG, Thunderbird, OpenKeychain); python-gnupg is a thin, maintained
wrapper around the ``gpg`` binary (releases into 2026, pure Python, fine on 3.11). pgpy
implements OpenPGP itself in Python and has had no release since 0.6.0 (2022), while the
``cryptography`` releases it is built on have moved on. The usual cost of gpg, a keyring on
disk, does not arise: every call imports the one key into a fresh private ``GNUPGHOME``
(mode 0700) and removes it afterwards, so nothing about a citizen is kept between messages.

A key that cannot be used — not a key, several keys, expired, revoked, no encryption subkey —
raises `PgpKeyUnusable`, a `amtsbote.BusinessRuleError`: it is the citizen's data, and no
retry makes an expired key valid again; the delivery sends the letter another way (print and
post) and says so. A missing or failing ``gpg`` is the system's fault: `amtsbote.ApplicationError`.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import gnupg

from amtsbote import ApplicationError, BusinessRuleError

__all__ = ["GPG", "PgpKeyUnusable", "encrypt_message"]

GPG = Path("/usr/bin/gpg")
"""Debian's GnuPG (package ``gnupg``)."""

# Validity letters of gpg's key listing that rule a key out (expired, revoked, invalid,
# disabled); an upper-case "E" in the primary key's capabilities means the key as a whole can
# still encrypt (some subkey is valid for it).
_DEAD = frozenset("erid")


class PgpKeyUnusable(BusinessRuleError):
    """The recipient's OpenPGP key cannot encrypt (the letter goes by another channel).

    Codes: ``pgp-key-invalid`` (no OpenPGP public key in the text), ``pgp-key-ambiguous``
    (more than one key), ``pgp-key-unusable`` (expired, revoked or without an encryption key).
    """

    default_code = "pgp-key-unusable"


def encrypt_message(
    msg: EmailMessage, armored_public_key: str, *, gpg: Path | str = GPG
) -> EmailMessage:
    """Encrypt a mail for one recipient's public key as PGP/MIME (RFC 3156).

    Args:
        msg: The mail as it would go out unencrypted (text, attachments, headers).
        armored_public_key: The recipient's ASCII-armored OpenPGP public key.
        gpg: The GnuPG binary.

    Returns:
        A new ``multipart/encrypted`` message with the same envelope headers; its body is the
        original MIME body, encrypted (``msg`` itself is left as it was).

    Raises:
        PgpKeyUnusable: The key is not a single usable OpenPGP encryption key.
        ApplicationError: ``gpg-missing`` or ``pgp-encryption-failed``.
    """
    body = _body_entity(msg).as_bytes(policy=policy.SMTP)
    armored = _encrypt(body, armored_public_key, Path(gpg))
    return _pgp_mime(msg, armored)


def encrypt_data(armored_public_key: str, data: bytes, *, gpg: Path | str = GPG) -> str:
    """`data` (a whole MIME body) encrypted for the key, ASCII-armored (the ``Encrypt`` step
    of the e-mail reply channel).

    Raises:
        PgpKeyUnusable: The key is not a single usable OpenPGP encryption key.
        ApplicationError: ``gpg-missing`` or ``pgp-encryption-failed``.
    """
    return _encrypt(data, armored_public_key, Path(gpg))


def _body_entity(msg: EmailMessage) -> EmailMessage:
    """The MIME entity under the envelope: the Content-* headers and the body."""
    inner = copy.deepcopy(msg)
    for name in {key.lower() for key in inner.keys()}:
        if not name.startswith("content-"):
            del inner[name]
    if inner.get("Content-Type") is None:
        # A mail without a Content-Type is text/plain; say so inside, where it is read.
        inner["Content-Type"] = "text/plain; charset=us-ascii"
    return inner


def _pgp_mime(original: EmailMessage, armored: str) -> EmailMessage:
    outer = EmailMessage(policy=original.policy)
    for name, value in original.items():
        if not name.lower().startswith("content-"):
            outer[name] = value
    if outer.get("MIME-Version") is None:
        outer["MIME-Version"] = "1.0"
    outer["Content-Type"] = 'multipart/encrypted; protocol="application/pgp-encrypted"'
    outer.preamble = "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)"

    control = EmailMessage()
    control["Content-Type"] = "application/pgp-encrypted"
    control["Content-Description"] = "PGP/MIME version identification"
    control.set_payload("Version: 1\n")

    data = EmailMessage()
    data["Content-Type"] = 'application/octet-stream; name="encrypted.asc"'
    data["Content-Description"] = "OpenPGP encrypted message"
    data["Content-Disposition"] = 'inline; filename="encrypted.asc"'
    data.set_payload(armored)

    outer.set_payload([control, data])
    return outer


def _encrypt(body: bytes, armored_public_key: str, binary: Path) -> str:
    if not shutil.which(str(binary)):
        raise ApplicationError(f"GnuPG ({binary}) ist nicht installiert.", code="gpg-missing")
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in armored_public_key:
        raise PgpKeyUnusable(
            "Der angegebene Schlüssel ist kein öffentlicher OpenPGP-Schlüssel.",
            code="pgp-key-invalid",
        )
    with tempfile.TemporaryDirectory(prefix="amtsbote-gpg-") as home:
        try:
            gpg = gnupg.GPG(gpgbinary=str(binary), gnupghome=home)
            fingerprint = _import_one(gpg, armored_public_key)
            result = gpg.encrypt(
                body,
                fingerprint,
                armor=True,
                always_trust=True,
                extra_args=["--no-auto-key-locate", "--no-auto-key-retrieve"],
            )
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise ApplicationError(
                "GnuPG konnte die Nachricht nicht verschlüsseln.", code="pgp-encryption-failed"
            ) from exc
        finally:
            _stop_agent(binary, home)
    if not result.ok:
        if result.status in {"invalid recipient", "key expired", "key revoked"}:
            raise PgpKeyUnusable(
                "Der angegebene OpenPGP-Schlüssel kann nicht verschlüsseln.",
                code="pgp-key-unusable",
            )
        raise ApplicationError(
            f"GnuPG konnte die Nachricht nicht verschlüsseln ({result.status}).",
            code="pgp-encryption-failed",
        )
    return str(result)


def _import_one(gpg: gnupg.GPG, armored_public_key: str) -> str:
    """Import the key into the private home; its fingerprint, when it can encrypt."""
    imported = gpg.import_keys(armored_public_key)
    keys: list[dict[str, Any]] = list(gpg.list_keys())
    if not imported.count or not keys:
        raise PgpKeyUnusable(
            "Der angegebene Schlüssel ist kein öffentlicher OpenPGP-Schlüssel.",
            code="pgp-key-invalid",
        )
    if len(keys) > 1:
        raise PgpKeyUnusable(
            "Der angegebene Text enthält mehrere OpenPGP-Schlüssel; erwartet wird genau einer.",
            code="pgp-key-ambiguous",
        )
    key = keys[0]
    if key.get("trust") in _DEAD or "E" not in str(key.get("cap", "")):
        raise PgpKeyUnusable(
            "Der angegebene OpenPGP-Schlüssel ist abgelaufen, widerrufen oder kann nicht "
            "verschlüsseln.",
            code="pgp-key-unusable",
        )
    return str(key["fingerprint"])


def _stop_agent(binary: Path, home: str) -> None:
    # Importing and encrypting to a public key needs no agent, but gpg may have started one
    # for the home; it must not outlive the home it sits in.
    gpgconf = binary.with_name("gpgconf")
    if not gpgconf.exists():
        return
    try:
        subprocess.run(
            [str(gpgconf), "--homedir", home, "--kill", "all"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        pass  # the home is removed right after; a stray agent exits when its socket goes
