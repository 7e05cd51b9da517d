"""Encryption of payloads at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

Keys are given newest first; `MultiFernet` encrypts with the first and opens with any, so a key
rotation is: put a new key in front, run ``amtsbote store rotate-keys`` (re-encrypts every
payload with it), then drop the old key.

The plaintext is bound to its item: before encryption it is prefixed with the item's tenant,
process and item key, and opening checks that prefix, so a token copied onto another item's
row does not open there. Nothing here logs or raises with the plaintext in it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from amtsbote._errors import ApplicationError
from amtsbote._redact import register_secret

__all__ = ["Sealer", "new_key", "read_key_file", "ensure_key_file"]


def new_key() -> str:
    """A fresh Fernet key (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()


def _binding(tenant: str, process: str, item_key: str) -> bytes:
    return b"\0".join(part.encode() for part in (tenant, process, item_key)) + b"\0\0"


class Sealer:
    """Encrypts and opens payloads with a list of keys, newest first.

    Raises:
        ApplicationError: ``store-key`` when no key is given or a key is not a Fernet key.
    """

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ApplicationError(
                "Kein Schlüssel für den Arbeitsvorrat: AMTSBOTE_STORE_KEYS setzen "
                "(neuer Schlüssel: amtsbote store new-key)",
                code="store-key",
            )
        fernets = []
        for index, key in enumerate(keys):
            raw = key.encode() if isinstance(key, str) else bytes(key)
            register_secret(raw.decode("ascii", "replace"))
            try:
                fernets.append(Fernet(raw))
            except ValueError:
                raise ApplicationError(
                    f"Schlüssel Nr. {index + 1} des Arbeitsvorrats ist kein Fernet-Schlüssel "
                    "(32 Byte, url-safe Base64)",
                    code="store-key",
                ) from None
        self._fernet = MultiFernet(fernets)

    def seal(self, tenant: str, process: str, item_key: str, payload: bytes) -> bytes:
        return self._fernet.encrypt(_binding(tenant, process, item_key) + payload)

    def open(self, tenant: str, process: str, item_key: str, token: bytes, item_id: int) -> bytes:
        """The payload; ``ApplicationError(code="payload-key")`` if no key opens it here."""
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken:
            raise ApplicationError(
                f"Nutzdaten von Vorgang {item_id}: kein Schlüssel passt", code="payload-key"
            ) from None
        binding = _binding(tenant, process, item_key)
        if not plain.startswith(binding):
            raise ApplicationError(
                f"Nutzdaten von Vorgang {item_id} gehören zu einem anderen Vorgang",
                code="payload-key",
            )
        return plain[len(binding) :]

    def rotate(self, token: bytes, item_id: int) -> bytes:
        """The token re-encrypted with the newest key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise ApplicationError(
                f"Nutzdaten von Vorgang {item_id}: kein Schlüssel passt", code="payload-key"
            ) from None


def read_key_file(path: Path) -> list[str]:
    """The keys in a key file: one a line, newest first (empty lines and ``#`` comments skipped)."""
    keys = []
    for line in path.read_text(encoding="ascii").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            register_secret(line)
            keys.append(line)
    return keys


def ensure_key_file(path: Path) -> list[str]:
    """The keys in `path`, creating it with a fresh key (mode 0600) if it does not exist.

    Safe when several processes start at once: the file appears complete or not at all
    (written beside it, then hard-linked into place; the loser of a race reads the winner's).
    """
    if path.exists():
        return read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".store-key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(
                "# Fernet keys of the work-item store, newest first (see docs/operations.md)\n"
                f"{new_key()}\n"
            )
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return read_key_file(path)
