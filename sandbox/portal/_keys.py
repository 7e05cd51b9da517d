"""Key material of the portal: generated on first start, loaded from ``data_dir`` afterwards.

In real life the authority generates its encryption and signing keys and only uploads the
public halves. The sandbox generates them for the authority and writes the private JWKs to
``receiver-keys.json`` (``{"encryption": {...}, "signing": {...}}``) so the framework, demo and
tests can decrypt and sign. The portal itself only ever uses the public halves of those, plus
its own signing key (``portal-keys.json``) for the events it writes.

Key rotation (as a destination rotates its encryption key in FIT-Connect): `rotate_encryption`
makes a new key the published one (``encryption``, the destination's ``encryptionKid``) and
moves the old one to ``previousEncryption``: its public half stays retrievable by kid and the
receiver keeps the private half, so submissions already encrypted to it still open.
`retire_encryption` drops an old key once no submission uses it any more.

Every published encryption key carries an ``x5c`` chain issued by the sandbox test CA
(`sandbox.portal._pki`), so a sender can check it against ``trust-anchor.pem``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey

from sandbox.portal._pki import TestCA, load_or_create_ca

__all__ = ["KeyMaterial", "load_or_create_keys", "retire_encryption", "rotate_encryption"]

RECEIVER_KEYS_FILE = "receiver-keys.json"
PORTAL_KEYS_FILE = "portal-keys.json"
_PRIVATE_FIELDS = ("d", "p", "q", "dp", "dq", "qi")


@dataclass(frozen=True)
class KeyMaterial:
    """Public keys the portal publishes and the private key it signs its own events with."""

    encryption_public: dict[str, Any]
    receiver_signing_public: dict[str, Any]
    portal_signing_private: dict[str, Any]
    portal_signing_public: dict[str, Any]
    receiver_private: dict[str, Any]
    #: Public halves of earlier encryption keys, still answered by kid (newest first).
    encryption_previous: tuple[dict[str, Any], ...] = ()

    def public_key(self, kid: str) -> dict[str, Any] | None:
        """The destination's public JWK with this kid (current, earlier or signing key)."""
        for jwk in (
            self.encryption_public,
            *self.encryption_previous,
            self.receiver_signing_public,
        ):
            if jwk["kid"] == kid:
                return dict(jwk)
        return None


def _generate(size: int, alg: str, use: str) -> dict[str, Any]:
    key = RSAKey.generate_key(size, private=True)
    jwk = key.as_dict(private=True)
    jwk.update({"kid": key.thumbprint(), "alg": alg, "use": use})
    return jwk


def _public(jwk: dict[str, Any], key_ops: list[str]) -> dict[str, Any]:
    pub = {k: v for k, v in jwk.items() if k not in _PRIVATE_FIELDS}
    pub["key_ops"] = key_ops
    return pub


def _write_private(path: Path, content: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(content, fh, indent=2)
    tmp.replace(path)


def _certified(jwk: dict[str, Any], ca: TestCA) -> dict[str, Any]:
    pub = _public(jwk, ["wrapKey"])
    pub["x5c"] = ca.x5c(pub, f"Zustellpunkt-Verschlüsselung {pub['kid'][:16]}")
    return pub


def _material(receiver: dict[str, Any], portal: dict[str, Any], ca: TestCA) -> KeyMaterial:
    return KeyMaterial(
        encryption_public=_certified(receiver["encryption"], ca),
        receiver_signing_public=_public(receiver["signing"], ["verify"]),
        portal_signing_private=portal["signing"],
        portal_signing_public=_public(portal["signing"], ["verify"]),
        receiver_private=receiver,
        encryption_previous=tuple(
            _certified(k, ca) for k in receiver.get("previousEncryption") or []
        ),
    )


def load_or_create_keys(data_dir: Path, key_size: int) -> KeyMaterial:
    """Load the keys from `data_dir`, generating whichever file is missing.

    Args:
        data_dir: The portal's data directory.
        key_size: RSA modulus size for newly generated keys.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    receiver_file = data_dir / RECEIVER_KEYS_FILE
    portal_file = data_dir / PORTAL_KEYS_FILE
    if receiver_file.exists():
        receiver = json.loads(receiver_file.read_text(encoding="utf-8"))
    else:
        receiver = {
            "encryption": _generate(key_size, "RSA-OAEP-256", "enc"),
            "signing": _generate(key_size, "PS512", "sig"),
        }
        _write_private(receiver_file, receiver)
    if portal_file.exists():
        portal = json.loads(portal_file.read_text(encoding="utf-8"))
    else:
        portal = {"signing": _generate(key_size, "PS512", "sig")}
        _write_private(portal_file, portal)
    return _material(receiver, portal, load_or_create_ca(data_dir, key_size))


def rotate_encryption(data_dir: Path, key_size: int, keys: KeyMaterial) -> KeyMaterial:
    """Publish a new encryption key; the current one becomes a previous (still valid) one."""
    receiver = dict(keys.receiver_private)
    receiver["previousEncryption"] = [
        receiver["encryption"],
        *(receiver.get("previousEncryption") or []),
    ]
    receiver["encryption"] = _generate(key_size, "RSA-OAEP-256", "enc")
    _write_private(data_dir / RECEIVER_KEYS_FILE, receiver)
    ca = load_or_create_ca(data_dir, key_size)
    return _material(receiver, {"signing": keys.portal_signing_private}, ca)


def retire_encryption(data_dir: Path, kid: str, keys: KeyMaterial) -> KeyMaterial:
    """Drop the earlier encryption key `kid` (the caller checked that nothing uses it).

    Raises:
        KeyError: `kid` is not an earlier encryption key (the current one cannot be retired).
    """
    receiver = dict(keys.receiver_private)
    previous = list(receiver.get("previousEncryption") or [])
    kept = [k for k in previous if k["kid"] != kid]
    if len(kept) == len(previous):
        raise KeyError(kid)
    receiver["previousEncryption"] = kept
    _write_private(data_dir / RECEIVER_KEYS_FILE, receiver)
    ca = load_or_create_ca(data_dir, 2048)  # exists already: the size is not used
    return _material(receiver, {"signing": keys.portal_signing_private}, ca)
