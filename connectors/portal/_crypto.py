"""JOSE for the receiver: decrypt submission parts, check hashes, sign and verify event tokens.

FIT-Connect encrypts each part of a submission (metadata, data, every attachment) as its own
compact JWE, RSA-OAEP-256 key wrapping with A256GCM content encryption, and signs events as
Security Event Tokens (RFC 8417, JWS PS512). We accept exactly these algorithms and refuse any
other header before touching the ciphertext, so a sender cannot downgrade us.

joserfc checks a JWK's ``key_ops`` with its own operation names (``decrypt``/``sign``) while
FIT-Connect keys say ``unwrapKey``/``wrapKey``; keys are imported with ``key_ops`` dropped.

Failures of a submission's parts are the *sender's* problem: they become `Problem`s of the
FIT-Connect types ``encryption-issue``, ``hash-mismatch`` and ``syntax-violation``.

Senders may compress a part before encrypting it (JWE header ``zip: "DEF"``, raw DEFLATE, RFC 7516
§4.1.3); joserfc's own inflater stops at 250 KiB, far below a scanned certificate, so the
receiver inflates with its own bound (`decrypt_part`'s ``max_plaintext``) instead: a small
ciphertext that would inflate to gigabytes is refused, not unpacked.

A receiver holds several private encryption keys during a key rotation (the new one published,
the old ones kept until no submission uses them): `decrypt_part` picks the key by the JWE's
``kid``; an unknown ``kid`` is the sender's technical problem (``encryption-issue``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
import zlib
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwe, jws
from joserfc.errors import ExceededSizeError, JoseError
from joserfc.jwa import JWEZipModel
from joserfc.jwk import RSAKey

from connectors.records import Problem, problem

__all__ = [
    "EVENT_BASE",
    "KeyUnavailable",
    "SET_SCHEMA",
    "auth_tag",
    "build_set",
    "decrypt_part",
    "import_rsa",
    "jose_header",
    "sha512_hex",
    "verify_hash",
    "verify_set",
]

JWE_ALG: Final = "RSA-OAEP-256"
JWE_ENC: Final = "A256GCM"
SET_ALG: Final = "PS512"
EVENT_BASE: Final = "https://schema.fitko.de/fit-connect/events/"
#: The SET payload schema the delivery service validates a SET against when it names one.
SET_SCHEMA: Final = "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json"
#: Default bound for one inflated (``zip: "DEF"``) part.
MAX_PLAINTEXT: Final = 64 * 1024 * 1024

_JWE_REGISTRY = jwe.JWERegistry(algorithms=[JWE_ALG, JWE_ENC])
# joserfc refuses ciphertexts over 64 KiB by default, far less than a scanned certificate: every
# larger attachment failed as "cannot be decrypted". The client bounds sizes itself
# (`PortalSettings.max_attachment_bytes`, checked on the token before decrypting).
_JWE_REGISTRY.max_ciphertext_length = 1 << 31
_JWS_REGISTRY = jws.JWSRegistry(algorithms=[SET_ALG])


class _BoundedDeflate(JWEZipModel):
    """``zip: "DEF"`` with an inflate bound of our choosing (raw DEFLATE, RFC 1951)."""

    name = "DEF"
    description = "DEFLATE"

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def compress(self, s: bytes) -> bytes:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return packer.compress(s) + packer.flush()

    def decompress(self, s: bytes) -> bytes:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        value = inflater.decompress(s, self.limit)
        if inflater.unconsumed_tail:
            raise ExceededSizeError(f"inflated part exceeds {self.limit} bytes")
        return value


class _Registry(jwe.JWERegistry):
    """The pinned JWE algorithms plus ``DEF`` inflated with `_BoundedDeflate`."""

    def __init__(self, limit: int) -> None:
        super().__init__(algorithms=[JWE_ALG, JWE_ENC, "DEF"])
        self.max_ciphertext_length = _JWE_REGISTRY.max_ciphertext_length
        self._zip = _BoundedDeflate(limit)

    def get_zip(self, name: str) -> JWEZipModel:
        super().get_zip(name)  # the allow-list check
        return self._zip


_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class PartError(Exception):
    """A submission part could not be used; carries the `Problem` to reject it with."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


class KeyUnavailable(Exception):
    """A part is encrypted to a key this receiver does not hold (or not as configured).

    Not a fault the sender can be blamed for with certainty: the key file may lack a key still
    in use (dropped too early in a rotation, a new key not yet installed) or hold a wrong one
    under the right ``kid``. The submission is held at the portal for an administrator,
    never rejected on this alone.

    Attributes:
        code: ``jwe-unknown-kid`` (no key with that ``kid``) or ``jwe-key-unwrap`` (the key
            with that ``kid`` does not unwrap the content key).
        instance: The part (``metadata``, ``data``, ``attachment:<id>``).
        kid: The ``kid`` of the part's header (a public key id, no secret).
    """

    def __init__(self, code: str, instance: str, kid: str | None) -> None:
        super().__init__(code)
        self.code = code
        self.instance = instance
        self.kid = kid


def import_rsa(jwk: dict[str, Any]) -> RSAKey:
    """Import an RSA JWK (public or private) for joserfc, ignoring ``key_ops``."""
    return RSAKey.import_key({k: v for k, v in jwk.items() if k != "key_ops"})


def sha512_hex(data: bytes) -> str:
    """The SHA-512 hex digest, as FIT-Connect metadata carries it for data and attachments."""
    return hashlib.sha512(data).hexdigest()


def auth_tag(token: str) -> str:
    """The authentication tag of a compact JWE (its last segment), as accept events carry it."""
    return token.rsplit(".", 1)[-1]


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jose_header(token: str, *, segments: int) -> dict[str, Any] | None:
    """The protected header of a compact JWE (5 segments) or JWS (3), None if malformed."""
    parts = token.split(".")
    if len(parts) != segments or not parts[0] or not all(_B64URL.match(p) for p in parts):
        return None
    try:
        header = json.loads(_b64decode(parts[0]))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def _encryption_issue(message: str, instance: str, code: str) -> PartError:
    return PartError(problem("encryption-issue", message, instance=instance, code=code))


def decrypt_part(
    token: str,
    keys: RSAKey | Mapping[str, RSAKey],
    *,
    instance: str,
    max_plaintext: int = MAX_PLAINTEXT,
) -> tuple[bytes, dict[str, Any]]:
    """Decrypt one part of a submission, inflating it when the header says ``zip: "DEF"``.

    Args:
        token: The compact JWE.
        keys: The receiver's private encryption keys by ``kid`` (or one key).
        instance: ``"metadata"``, ``"data"`` or ``"attachment:<id>"`` (for the problem).
        max_plaintext: Refuse a compressed part that inflates beyond this many bytes.

    Returns:
        The plaintext and the protected header.

    Raises:
        PartError: ``encryption-issue`` for a malformed token, another algorithm or
            compression, tampered ciphertext (the content key unwraps, the content does not
            decrypt) or a part that inflates beyond the bound.
        KeyUnavailable: A ``kid`` none of our keys has, or our key of that ``kid`` does not
            unwrap the content key.
    """
    header = jose_header(token, segments=5)
    if header is None:
        raise _encryption_issue(
            "Ein Teil des Antrags ist nicht korrekt verschlüsselt (ungültiges Format).",
            instance,
            "jwe-malformed",
        )
    if header.get("alg") != JWE_ALG or header.get("enc") != JWE_ENC:
        raise _encryption_issue(
            "Ein Teil des Antrags ist mit einem nicht zulässigen Verfahren verschlüsselt.",
            instance,
            "jwe-algorithm",
        )
    if header.get("zip", "DEF") != "DEF":
        raise _encryption_issue(
            "Ein Teil des Antrags ist mit einem nicht zulässigen Verfahren komprimiert.",
            instance,
            "jwe-compression",
        )
    key = _pick_key(keys, header.get("kid"), instance)
    registry = _Registry(max_plaintext) if "zip" in header else _JWE_REGISTRY
    try:
        obj = jwe.decrypt_compact(token, key, registry=registry)
    except ExceededSizeError as exc:
        raise _encryption_issue(
            f"Ein Teil des Antrags ist entpackt zu groß (höchstens {max_plaintext} Bytes).",
            instance,
            "jwe-too-large",
        ) from exc
    except (JoseError, ValueError, TypeError, zlib.error) as exc:
        if not _unwraps(token, key):
            raise KeyUnavailable("jwe-key-unwrap", instance, _kid(header)) from exc
        raise _encryption_issue(
            "Ein Teil des Antrags konnte nicht entschlüsselt werden.", instance, "jwe-decrypt"
        ) from exc
    return bytes(obj.plaintext or b""), header


def _kid(header: Mapping[str, Any]) -> str | None:
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _pick_key(keys: RSAKey | Mapping[str, RSAKey], kid: Any, instance: str) -> RSAKey:
    if isinstance(keys, RSAKey):
        if kid is not None and keys.kid is not None and kid != keys.kid:
            raise KeyUnavailable("jwe-unknown-kid", instance, str(kid))
        return keys
    if isinstance(kid, str) and kid in keys:
        return keys[kid]
    if len(keys) == 1 and (kid is None or "" in keys):  # one key without kid: the old setup
        return next(iter(keys.values()))
    raise KeyUnavailable("jwe-unknown-kid", instance, kid if isinstance(kid, str) else None)


def _unwraps(token: str, key: RSAKey) -> bool:
    """Whether `key` unwraps the part's content key (RSA-OAEP-256), the content aside.

    Tells a key we lack (held) from a part damaged after encryption (rejected): a tampered
    ciphertext or tag still has a content key our key unwraps.
    """
    try:
        wrapped = _b64decode(token.split(".")[1])
        private = key.private_key
        if private is None:
            return False
        private.decrypt(
            wrapped,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
    except (ValueError, TypeError, IndexError):
        return False
    return True


def verify_hash(plaintext: bytes, hash_spec: Any, *, instance: str) -> str:
    """Compare `plaintext` with the metadata's ``{"type": "sha512", "content": <hex>}``.

    Returns:
        The verified hex digest.

    Raises:
        PartError: ``hash-mismatch`` (also when the metadata gives no usable hash).
    """
    digest = sha512_hex(plaintext)
    expected = hash_spec.get("content") if isinstance(hash_spec, dict) else None
    if not isinstance(hash_spec, dict) or hash_spec.get("type") != "sha512":
        raise PartError(
            problem(
                "hash-mismatch",
                "Für einen Teil des Antrags fehlt die Prüfsumme (SHA-512).",
                instance=instance,
                code="hash-missing",
            )
        )
    if not isinstance(expected, str) or not hmac.compare_digest(expected.lower(), digest):
        raise PartError(
            problem(
                "hash-mismatch",
                "Ein Teil des Antrags wurde bei der Übertragung verändert (Prüfsumme falsch).",
                instance=instance,
                code="hash-mismatch",
            )
        )
    return digest


def build_set(
    *,
    event: str,
    payload: dict[str, Any],
    issuer: str,
    submission_id: str,
    case_id: str,
    signing_key: RSAKey,
    now: float | None = None,
    jti: str | None = None,
) -> str:
    """Build and sign a Security Event Token for one event (PS512, ``typ: secevent+jwt``).

    Args:
        event: The event name (``accept-submission``) or its full URI.
        payload: The event's content (authentication tags, problems …).
        issuer: ``iss`` — the destination id when the receiver signs.
        submission_id: Becomes ``sub = submission:<id>``.
        case_id: Becomes ``txn = case:<id>``.
        signing_key: The receiver's private signing key (must have a ``kid``).
        now: ``iat`` (Unix seconds; default: now).
        jti: The token id (default: a fresh UUID).

    Returns:
        The SET in compact serialization; its claims name the SET payload schema
        (``$schema``), which the delivery service then validates.
    """
    uri = event if event.startswith("https://") else EVENT_BASE + event
    claims = {
        "$schema": SET_SCHEMA,
        "jti": jti or str(uuid.uuid4()),
        "iss": issuer,
        "iat": int(time.time() if now is None else now),
        "sub": f"submission:{submission_id}",
        "txn": f"case:{case_id}",
        "events": {uri: payload},
    }
    header = {"typ": "secevent+jwt", "alg": SET_ALG, "kid": signing_key.kid}
    body = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, body, signing_key, registry=_JWS_REGISTRY)


def verify_set(token: str, key: RSAKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a SET's PS512 signature and return ``(header, claims)``.

    Raises:
        ValueError: Malformed, another algorithm or type, or the signature does not verify.
    """
    header = jose_header(token, segments=3)
    if header is None or header.get("alg") != SET_ALG:
        raise ValueError("not a PS512 JWS")
    if header.get("typ") != "secevent+jwt":
        raise ValueError("not a security event token")
    try:
        obj = jws.deserialize_compact(token, key, registry=_JWS_REGISTRY)
        claims = json.loads(obj.payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(type(exc).__name__) from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("events"), dict):
        raise ValueError("claims without events")
    return header, claims
