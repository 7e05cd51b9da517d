"""Sealing a submission: metadata with hashes, and one JWE per part.

The web form and `SenderClient` both seal through `seal_submission`, so the two paths produce
byte-for-byte the same kind of submission the receiver has to open.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.portal._codes import HUNDESTEUER_SCHEMA_URI
from sandbox.portal._crypto import encrypt_part, sha512_hex

__all__ = [
    "Attachment",
    "SealedSubmission",
    "build_metadata",
    "email_reply_channel",
    "seal_submission",
]

#: (filename, MIME type, content)
Attachment = tuple[str, str, bytes]


@dataclass
class SealedSubmission:
    """The ciphertext parts of one submission, ready to send."""

    attachment_ids: list[str]
    encrypted_attachments: dict[str, str]
    encrypted_metadata: str
    encrypted_data: str
    metadata: dict[str, Any] = field(repr=False)


def email_reply_channel(address: str, pgp_public_key: str | None = None) -> dict[str, Any]:
    """The metadata's ``replyChannel`` for an answer by e-mail (optionally PGP-encrypted)."""
    channel: dict[str, Any] = {"address": address}
    if pgp_public_key:
        channel["pgpPublicKey"] = pgp_public_key
    return {"eMail": channel}


def build_metadata(
    data: bytes,
    attachments: Sequence[tuple[str, str, str, bytes]],
    schema_uri: str = HUNDESTEUER_SCHEMA_URI,
    reply_channel: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """FIT-Connect metadata for `data` and `attachments` (``(id, filename, mime, content)``).

    `reply_channel` (exactly one of ``eMail``, ``deMail``, ``fink``, ``elster``) says how the
    citizen wants the answer; without it the authority answers by post.
    """
    metadata: dict[str, Any] = {
        "contentStructure": {
            "data": {
                "submissionSchema": {"schemaUri": schema_uri, "mimeType": "application/json"},
                "hash": {"type": "sha512", "content": sha512_hex(data)},
            },
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
    data: bytes,
    attachments: Sequence[Attachment],
    public_jwk: dict[str, Any],
    *,
    schema_uri: str = HUNDESTEUER_SCHEMA_URI,
    tamper_metadata: Callable[[dict[str, Any]], None] | None = None,
    reply_channel: Mapping[str, Any] | None = None,
) -> SealedSubmission:
    """Encrypt data, attachments and metadata to the destination's key.

    Args:
        data: The plaintext data (JSON bytes).
        attachments: ``(filename, mime type, content)`` per attachment.
        public_jwk: The destination's public encryption JWK.
        schema_uri: The data schema named in the metadata.
        tamper_metadata: Test hook: changes the metadata dict in place before it is encrypted
            (e.g. a wrong hash), so tests can build submissions a receiver must refuse.
        reply_channel: The metadata's ``replyChannel`` (see `build_metadata`).
    """
    ids = [str(uuid.uuid4()) for _ in attachments]
    parts = [
        (aid, fn, mime, content) for aid, (fn, mime, content) in zip(ids, attachments, strict=True)
    ]
    metadata = build_metadata(data, parts, schema_uri, reply_channel)
    if tamper_metadata is not None:
        tamper_metadata(metadata)
    return SealedSubmission(
        attachment_ids=ids,
        encrypted_attachments={
            aid: encrypt_part(content, public_jwk, mime) for aid, _, mime, content in parts
        },
        encrypted_metadata=encrypt_part(
            json.dumps(metadata, ensure_ascii=False).encode(), public_jwk, "application/json"
        ),
        encrypted_data=encrypt_part(data, public_jwk, "application/json"),
        metadata=metadata,
    )
