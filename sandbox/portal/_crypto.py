"""JOSE helpers shared by the portal, its sender client and tests.

FIT-Connect encrypts every part of a submission as its own compact JWE (RSA-OAEP-256 + A256GCM)
and signs events as Security Event Tokens (JWS, PS512). joserfc only allows these algorithms
through explicit registries, and it checks ``key_ops`` with its own operation names
(``encrypt``/``decrypt``) while FIT-Connect keys say ``wrapKey``/``unwrapKey`` — so keys are
imported here with ``key_ops`` dropped after the caller has checked them (`check_wrap_key`).

Senders may compress a part before encrypting it (``zip: "DEF"``, raw DEFLATE, RFC 7516 §4.1.3);
`encrypt_part` does so on request, so the receiver under test meets both kinds.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from typing import Any

from joserfc import jwe, jws
from joserfc.jwk import RSAKey

__all__ = [
    "JWE_REGISTRY",
    "JWS_REGISTRY",
    "SET_SCHEMA",
    "auth_tag",
    "check_wrap_key",
    "decrypt_part",
    "encrypt_part",
    "import_rsa",
    "jwe_header",
    "sha512_hex",
    "sign_set",
    "verify_set",
]

JWE_REGISTRY = jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM", "DEF"])
JWE_REGISTRY.max_ciphertext_length = 1 << 31
JWS_REGISTRY = jws.JWSRegistry(algorithms=["PS512"])
#: The SET payload schema every SET names in its ``$schema`` claim.
SET_SCHEMA = "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json"

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def import_rsa(jwk: dict[str, Any]) -> RSAKey:
    """Import an RSA JWK (public or private) for use with joserfc, ignoring ``key_ops``.

    Imports are cached: loading a private RSA-4096 key runs cryptography's key check, which
    costs far more than the decryption or signature itself.
    """
    return _import_cached(json.dumps(jwk, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _import_cached(serialized: str) -> RSAKey:
    jwk = json.loads(serialized)
    return RSAKey.import_key({k: v for k, v in jwk.items() if k != "key_ops"})


def sha512_hex(data: bytes) -> str:
    """SHA-512 hex digest, the hash FIT-Connect metadata carries for data and attachments."""
    return hashlib.sha512(data).hexdigest()


def check_wrap_key(public_jwk: dict[str, Any]) -> None:
    """Refuse a destination key a sender must not encrypt to.

    FIT-Connect's encryption keys are RSA keys with ``key_ops: ["wrapKey"]`` and
    ``alg: RSA-OAEP-256``; a signing key or a key without ``wrapKey`` is a wrong key.

    Raises:
        ValueError: Not an RSA key, no ``kid``, or ``key_ops`` without ``wrapKey``.
    """
    ops = public_jwk.get("key_ops")
    if public_jwk.get("kty") != "RSA" or not isinstance(public_jwk.get("kid"), str):
        raise ValueError("destination key is no RSA key with kid")
    if not isinstance(ops, list) or "wrapKey" not in ops:
        raise ValueError("destination key is not for key wrapping (key_ops without wrapKey)")
    if public_jwk.get("alg", "RSA-OAEP-256") != "RSA-OAEP-256":
        raise ValueError("destination key is not for RSA-OAEP-256")


def encrypt_part(
    plaintext: bytes, public_jwk: dict[str, Any], cty: str, *, compress: bool = False
) -> str:
    """Encrypt one submission part to the destination's key.

    Args:
        plaintext: The bytes to encrypt.
        public_jwk: The destination's public encryption JWK (must carry ``kid``).
        cty: Content type of the plaintext (``application/json`` or the attachment MIME type).
        compress: DEFLATE the plaintext first (header ``zip: "DEF"``).

    Returns:
        The JWE in compact serialization.
    """
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": public_jwk["kid"], "cty": cty}
    if compress:
        header["zip"] = "DEF"
    return jwe.encrypt_compact(header, plaintext, import_rsa(public_jwk), registry=JWE_REGISTRY)


def decrypt_part(token: str, private_jwk: dict[str, Any]) -> bytes:
    """Decrypt one compact JWE with the receiver's private encryption JWK."""
    obj = jwe.decrypt_compact(token, import_rsa(private_jwk), registry=JWE_REGISTRY)
    return bytes(obj.plaintext or b"")


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwe_header(token: str) -> dict[str, Any] | None:
    """The protected header of a compact JWE, or None if `token` is not shaped like one.

    Only the shape is checked (five base64url segments, a JSON header with ``alg`` and ``enc``,
    non-empty IV, ciphertext and tag): the portal cannot decrypt, so a well-shaped JWE around
    garbage passes, as it does in the real service.
    """
    parts = token.split(".")
    if len(parts) != 5 or not all(_B64URL.match(p) for p in parts):
        return None
    if not parts[0] or not parts[2] or not parts[3] or not parts[4]:
        return None
    try:
        header = json.loads(_b64decode(parts[0]))
    except ValueError:
        return None
    if not isinstance(header, dict) or "alg" not in header or "enc" not in header:
        return None
    return header


def auth_tag(token: str) -> str:
    """The authentication tag of a compact JWE (its last segment), as accept events carry it."""
    return token.rsplit(".", 1)[-1]


def sign_set(claims: dict[str, Any], private_jwk: dict[str, Any]) -> str:
    """Sign a Security Event Token (PS512, ``typ: secevent+jwt``) with `private_jwk`."""
    header = {"typ": "secevent+jwt", "alg": "PS512", "kid": private_jwk["kid"]}
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, payload, import_rsa(private_jwk), registry=JWS_REGISTRY)


def verify_set(token: str, public_jwk: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a SET's signature and return ``(header, claims)``.

    Raises:
        ValueError: The token is malformed, not PS512, or the signature does not verify.
    """
    try:
        obj = jws.deserialize_compact(token, import_rsa(public_jwk), registry=JWS_REGISTRY)
    except Exception as exc:  # joserfc raises several unrelated types for bad input
        raise ValueError(type(exc).__name__) from exc
    claims = json.loads(obj.payload)
    if not isinstance(claims, dict):
        raise ValueError("claims are not an object")
    return dict(obj.headers()), claims
