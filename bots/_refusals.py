"""Refused logins remembered: an account the back office refused is not tried again as it is.

Real back offices lock an account after a few failed logins (three is common). A bot that
never retries a refused login within a run still tries once per run, so a wrong password in
the settings locks the account on the third night. So the first refusal is written down, and
later runs stop before the back office sees another attempt, until the password setting
changes (as an RPA orchestrator parks a credential asset a robot failed to log in with).

One marker file per back office and account, ``<folder>/<system>-<account>.refused``
(``folder`` is ``<AMTSBOTE_DATA_DIR>/accounts`` by default), JSON with the system, the account,
the time and code of the refusal, and a salted scrypt fingerprint of the refused password,
never the password itself. A different password clears the marker and is tried; a successful
login removes it; an admin who unlocked the account without changing the password deletes the
file (or calls `RefusedLogins.clear`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import structlog
from pydantic import SecretStr

from amtsbote import LoginRefused

from ._evidence import safe_key

__all__ = ["RefusedLogins"]

log = structlog.get_logger(__name__)

SUFFIX = ".refused"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~16 MiB and some 50 ms: slow to guess from, once a run


def _fingerprint(secret: SecretStr, salt: bytes) -> str:
    value = secret.get_secret_value().encode()
    return hashlib.scrypt(value, salt=salt, dklen=32, **_SCRYPT).hex()


class RefusedLogins:
    """The refused accounts of one installation, as marker files in `folder`.

    Args:
        folder: Where the markers live (created on the first refusal).
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def path(self, system: str, account: str) -> Path:
        """The marker file of `account` in `system`."""
        return self.folder / f"{safe_key(system)}-{safe_key(account)}{SUFFIX}"

    def check(self, system: str, account: str, secret: SecretStr) -> None:
        """Stop before a login that the back office refused before with the same password.

        A marker written for another password is removed (the setting was changed: try it).

        Raises:
            LoginRefused: A marker holds this password's fingerprint (code of the refusal).
        """
        path = self.path(system, account)
        marker = self._read(path)
        if marker is None:
            return
        salt = marker.get("salt")
        if isinstance(salt, bytes) and not hmac.compare_digest(
            _fingerprint(secret, salt), marker["fingerprint"]
        ):
            log.info("bot.refusal_cleared", system=system, account=account, reason="new-password")
            path.unlink(missing_ok=True)
            return
        raise LoginRefused(
            f"Das Konto {account!r} ({system}) wurde nach einer abgelehnten Anmeldung am "
            f"{marker['refused_at']} ({marker['code']}) gesperrt, bis das Passwort geändert "
            f"wird: kein neuer Anmeldeversuch, damit das Fachverfahren das Konto nicht sperrt. "
            f"Passwort in den Einstellungen ändern oder, wenn das Konto im Fachverfahren "
            f"entsperrt wurde, den Vermerk {path} löschen.",
            account=account,
            system=system,
            code=marker["code"],
        )

    def record(self, system: str, account: str, secret: SecretStr, refusal: LoginRefused) -> Path:
        """Write down that `system` refused `account` with `secret` (atomically).

        Returns:
            The marker file.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        salt = secrets.token_bytes(16)
        marker = {
            "system": system,
            "account": account,
            "code": refusal.code,
            "refused_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "salt": salt.hex(),
            "fingerprint": _fingerprint(secret, salt),
            "kdf": {"name": "scrypt", **_SCRYPT, "dklen": 32},
        }
        path = self.path(system, account)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(json.dumps(marker, indent=1), encoding="utf-8")
        os.replace(tmp, path)
        log.warning("bot.refusal_recorded", system=system, account=account, code=refusal.code)
        return path

    def clear(self, system: str, account: str) -> bool:
        """Remove the marker of `account` (after a successful login, or by an admin).

        Returns:
            True if there was one.
        """
        path = self.path(system, account)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        log.info("bot.refusal_cleared", system=system, account=account, reason="cleared")
        return True

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        """The marker at `path`, None if there is none.

        A marker that cannot be read still means "refused" (fail safe: never try blindly);
        it comes back without a salt, so no password matches it and only deleting it helps.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            marker = {
                "salt": bytes.fromhex(data["salt"]),
                "fingerprint": str(data["fingerprint"]),
                "refused_at": str(data["refused_at"]),
                "code": str(data["code"]),
            }
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return {"salt": None, "fingerprint": "", "refused_at": "?", "code": "login-refused"}
        return marker
