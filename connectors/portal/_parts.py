"""The parts of a submission: attachments decrypted and checked, JSON parsed, tag problems.

Helpers of the inbox (`connectors.portal._inbox`); every failure is a FIT-Connect `Problem`.
"""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Mapping
from typing import Any, Final

from joserfc.jwk import RSAKey

from connectors.portal._crypto import PartError, decrypt_part, verify_hash
from connectors.portal._models import PDF, ReceivedAttachment
from connectors.records import Problem, problem

__all__ = ["INVALID", "is_pdf", "open_attachment", "parse_json", "tag_problem"]


def is_pdf(content: bytes) -> bool:
    """True if `content` starts like a PDF and pypdf can open it and count its pages."""
    if not content.startswith(b"%PDF-"):
        return False
    from pypdf import PdfReader  # local: only needed for attachments

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=False)
            return len(reader.pages) >= 1
    except Exception:  # pypdf raises many unrelated types for broken files: all mean "not a PDF"
        return False
    finally:
        pypdf_log.setLevel(level)


def open_attachment(
    aid: str, token: str, spec: dict[str, Any] | None, keys: Mapping[str, RSAKey], limit: int
) -> ReceivedAttachment | Problem:
    """Decrypt and check one attachment: the attachment, or the problem to reject it with.

    Raises:
        KeyUnavailable: It is encrypted to a key we do not hold.
    """
    instance = f"attachment:{aid}"
    if spec is None:
        return problem(
            "incorrect-attachment",
            "Eine Anlage ist in den Metadaten nicht beschrieben.",
            instance=instance,
            code="attachment-undescribed",
        )
    too_large = problem(
        "incorrect-attachment",
        f"Eine Anlage ist zu groß (höchstens {limit // (1024 * 1024)} MiB).",
        instance=instance,
        code="attachment-too-large",
    )
    # base64url inflates by 4/3; refuse before decrypting far too large ciphertext
    if len(token) > limit * 4 // 3 + 64 * 1024:
        return too_large
    try:
        content, _ = decrypt_part(token, keys, instance=instance, max_plaintext=limit)
        digest = verify_hash(content, spec.get("hash"), instance=instance)
    except PartError as exc:
        # a compressed attachment that inflates beyond the limit is too large, not broken
        return too_large if exc.problem.code == "jwe-too-large" else exc.problem
    if len(content) > limit:
        return too_large
    mime = str(spec.get("mimeType", "application/octet-stream"))
    if mime == PDF and not is_pdf(content):
        return problem(
            "incorrect-attachment",
            "Die Anlage ist keine lesbare PDF-Datei.",
            instance=instance,
            code="attachment-not-pdf",
        )
    return ReceivedAttachment(
        attachment_id=aid,
        filename=str(spec.get("filename", aid)),
        mime_type=mime,
        purpose=str(spec.get("purpose", "attachment")),
        sha512=digest,
        content=content,
    )


INVALID: Final = object()


def tag_problem(instance: str) -> Problem:
    return problem(
        "encryption-issue",
        "Ein Teil des Antrags stimmt nicht mit dem beim Zustelldienst eingereichten überein "
        "(Authentication-Tag abweichend).",
        instance=instance,
        code="auth-tag-mismatch",
    )


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return INVALID
