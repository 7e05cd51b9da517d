"""Sealing a submission: metadata with hashes, and one JWE per part.

The web form and `SenderClient` both seal through `seal_submission`, so the two paths produce
byte-for-byte the same kind of submission the receiver has to open.

Real senders compress some parts (``zip: "DEF"``) and not others; `seal_submission` compresses
a share of the parts (`DEFAULT_COMPRESS_SHARE`), chosen by a hash of the part's name and
content, so the same part is always sealed the same way and a receiver under test meets both.
The data part is optional in v1: ``data=None`` seals an attachment-only submission.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.portal._codes import HUNDESTEUER_SCHEMA_URI
from sandbox.portal._crypto import check_wrap_key, encrypt_part, sha512_hex
from sandbox.portal._pki import verify_x5c

__all__ = [
    "DEFAULT_COMPRESS_SHARE",
    "Attachment",
    "SealedSubmission",
    "build_metadata",
    "compresses",
    "email_reply_channel",
    "seal_submission",
]

#: Share of parts the sandbox sender compresses (``zip: "DEF"``).
DEFAULT_COMPRESS_SHARE = 0.3

#: (filename, MIME type, content)
Attachment = tuple[str, str, bytes]


@dataclass
class SealedSubmission:
    """The ciphertext parts of one submission, ready to send."""

    attachment_ids: list[str]
    encrypted_attachments: dict[str, str]
    encrypted_metadata: str
    encrypted_data: str | None
    metadata: dict[str, Any] = field(repr=False)


def compresses(name: str, content: bytes, share: float) -> bool:
    """Whether the part `name` with `content` is compressed at `share` (deterministic)."""
    if share <= 0:
        return False
    digest = hashlib.sha256(name.encode() + b"\0" + content).digest()
    return int.from_bytes(digest[:4], "big") < share * 2**32


def email_reply_channel(address: str, pgp_public_key: str | None = None) -> dict[str, Any]:
    """The metadata's ``replyChannel`` for an answer by e-mail (optionally PGP-encrypted)."""
    channel: dict[str, Any] = {"address": address}
    if pgp_public_key:
        channel["pgpPublicKey"] = pgp_public_key
    return {"eMail": channel}


def build_metadata(
    data: bytes | None,
    attachments: Sequence[tuple[str, str, str, bytes]],
    schema_uri: str = HUNDESTEUER_SCHEMA_URI,
    reply_channel: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """FIT-Connect metadata for `data` and `attachments` (``(id, filename, mime, content)``).

    Without `data` (an attachment-only submission) the metadata has no ``data`` entry.
    `reply_channel` (exactly one of ``eMail``, ``deMail``, ``fink``, ``elster``) says how the
    citizen wants the answer; without it the authority answers by post.
    """
    structure: dict[str, Any] = {}
    if data is not None:
        structure["data"] = {
            "submissionSchema": {"schemaUri": schema_uri, "mimeType": "application/json"},
            "hash": {"type": "sha512", "content": sha512_hex(data)},
        }
    metadata: dict[str, Any] = {
        "contentStructure": {
            **structure,
            "attachments": [
                {
                    "attachmentId": aid,
                    "purpose": "attachment",
                    "filename": filename,
                    "mimeType": mime,
                    "hash": {"type": "sha512", "content": sha512_hex(content)},
                }
                for aid, filename, mime, content in attachments
            ],
        }
    }
    if reply_channel is not None:
        metadata["replyChannel"] = dict(reply_channel)
    return metadata


def seal_submission(
    data: bytes | None,
    attachments: Sequence[Attachment],
    public_jwk: dict[str, Any],
    *,
    schema_uri: str = HUNDESTEUER_SCHEMA_URI,
    tamper_metadata: Callable[[dict[str, Any]], None] | None = None,
    compress_share: float = DEFAULT_COMPRESS_SHARE,
    trust_anchor: bytes | None = None,
    reply_channel: Mapping[str, Any] | None = None,
) -> SealedSubmission:
    """Encrypt data, attachments and metadata to the destination's key.

    Args:
        data: The plaintext data (JSON bytes); None for an attachment-only submission.
        attachments: ``(filename, mime type, content)`` per attachment.
        public_jwk: The destination's public encryption JWK.
        schema_uri: The data schema named in the metadata.
        tamper_metadata: Test hook: changes the metadata dict in place before it is encrypted
            (e.g. a wrong hash), so tests can build submissions a receiver must refuse.
        compress_share: Share of parts sealed with ``zip: "DEF"`` (0 never, 1 always).
        trust_anchor: PEM certificate the key's ``x5c`` chain must lead to (checked if given).
        reply_channel: The metadata's ``replyChannel`` (see `build_metadata`).

    Raises:
        ValueError: `public_jwk` is not a key to encrypt to (see `check_wrap_key`), or its
            certificate chain does not lead to `trust_anchor`.
    """
    check_wrap_key(public_jwk)
    if trust_anchor is not None:
        verify_x5c(public_jwk, trust_anchor)
    ids = [str(uuid.uuid4()) for _ in attachments]
    parts = [
        (aid, fn, mime, content) for aid, (fn, mime, content) in zip(ids, attachments, strict=True)
    ]
    metadata = build_metadata(data, parts, schema_uri, reply_channel)
    if tamper_metadata is not None:
        tamper_metadata(metadata)
    meta_bytes = json.dumps(metadata, ensure_ascii=False).encode()

    def seal(name: str, content: bytes, cty: str) -> str:
        zipped = compresses(name, content, compress_share)
        return encrypt_part(content, public_jwk, cty, compress=zipped)

    return SealedSubmission(
        attachment_ids=ids,
        encrypted_attachments={aid: seal(aid, content, mime) for aid, _, mime, content in parts},
        encrypted_metadata=seal("metadata", meta_bytes, "application/json"),
        encrypted_data=None if data is None else seal("data", data, "application/json"),
        metadata=metadata,
    )
