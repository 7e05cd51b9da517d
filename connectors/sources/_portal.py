"""`PortalSource`: a FIT-Connect destination as a source of work items.

Intake order (see `connectors.sources`): list → fetch (decrypt, hashes, record) → the engine
stores the work item → `acknowledge` sends accept-submission, the technical receipt. A
submission that cannot be decrypted, verified or validated against its schema is rejected here
with FIT-Connect's documented problems (reject-submission) and never becomes a work item.

A submission whose data is sound but breaks a business rule (IBAN check digits, a listed breed
without the insurance certificate, implausible dates) is *accepted*: FIT-Connect's accept and
reject are technical receipts that say nothing about the content. Its `Received.refusal` holds
the `RulesBroken`, and the engine answers with a rejection letter over the reply channel.

The stored payload holds everything of the decrypted submission (metadata, data,
attachments, authentication tags): the portal deletes a submission some days after pickup,
and later steps (the reply channel in the metadata, the attachments for the e-Akte) need it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from amtsbote import ApplicationError, get_logger
from connectors.portal import (
    AuthenticationTags,
    PortalClient,
    ReceivedAttachment,
    ReceivedSubmission,
    SubmissionInvalid,
)
from connectors.records import RulesBroken

from ._reply import ReplyChannels
from ._source import Delivered, Document, Receipt, Received, SourceItem

__all__ = ["PortalSource"]

log = get_logger(__name__)
R = TypeVar("R", bound=BaseModel)
_VERSION = 1

Parse = Callable[[ReceivedSubmission, date], R]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class PortalSource(Generic[R]):
    """Submissions of one destination, parsed into the process's record.

    Args:
        client: The portal client (owned: `close` closes it).
        parse: Turns a decrypted submission into the record, validating it against the
            service's schema and rules; raises `SubmissionInvalid` (technical: rejected at the
            portal) or `RulesBroken` carrying the record (business: accepted, refused by
            letter). Called with the day of receipt, so a payload decoded weeks later is judged
            as on the day it came in.
            Default: the record registered for the submission's schema (`connectors.records`).
        name: Name of the source in logs and the audit trail.
        replies: How letters reach the citizen (the reply channel of the metadata); default
            `ReplyChannels.from_env`, built on the first letter.
    """

    def __init__(
        self,
        client: PortalClient,
        parse: Parse[R] | None = None,
        *,
        name: str = "portal",
        replies: ReplyChannels | None = None,
    ) -> None:
        self.client = client
        self.parse: Parse[R] = parse or _registered
        self.name = name
        self._replies = replies

    # -- listing and fetching ----------------------------------------------------------------
    def list_new(self, limit: int | None = None) -> list[SourceItem]:
        return [
            SourceItem(r.submission_id, {"case_id": r.case_id}) for r in self.client.list_new(limit)
        ]

    def fetch(self, item: SourceItem) -> Received[R]:
        submission = self.client.fetch(item.item_key)
        return self._received(submission, date.today())

    def _received(self, submission: ReceivedSubmission, on: date) -> Received[R]:
        refusal: RulesBroken | None = None
        try:
            record = self.parse(submission, on)
        except RulesBroken as exc:
            if exc.record is None:
                # Without the record no letter can be addressed: a fault of the parser, not
                # of the citizen. The item waits at the portal and the intake reports it.
                raise ApplicationError(
                    "Abgelehnter Antrag ohne lesbaren Datensatz.", code="refusal-without-record"
                ) from exc
            record, refusal = exc.record, exc
        return Received(
            item_key=submission.submission_id,
            record=record,
            attachments=tuple(
                Document(
                    key=f"anlage-{a.attachment_id}",
                    filename=a.filename,
                    mime_type=a.mime_type,
                    content=a.content,
                )
                for a in submission.attachments
            ),
            refs={"case_id": submission.case_id, "received_on": on.isoformat()},
            handle=submission,
            refusal=refusal,
        )

    # -- receipts ----------------------------------------------------------------------------
    def acknowledge(self, received: Received[R]) -> Receipt | None:
        submission = received.handle
        if not isinstance(submission, ReceivedSubmission):
            raise ApplicationError(
                "Eingang kann nur für frisch abgerufene Anträge bestätigt werden.",
                code="acknowledge-without-submission",
            )
        result = self.client.accept(submission)
        return Receipt("accept", result.set_token) if result.set_token else None

    def reject(self, item: SourceItem, error: SubmissionInvalid) -> Receipt | None:
        case_id = item.refs.get("case_id") or getattr(error, "case_id", None) or ""
        result = self.client.reject(item.item_key, case_id, error.problems)
        return Receipt("reject", result.set_token) if result.set_token else None

    # -- payload -----------------------------------------------------------------------------
    def encode(self, received: Received[R]) -> bytes:
        s = received.handle
        if not isinstance(s, ReceivedSubmission):
            raise ApplicationError(
                "Nur frisch abgerufene Anträge können gespeichert werden.",
                code="encode-without-submission",
            )
        body = {
            "v": _VERSION,
            "submission_id": s.submission_id,
            "case_id": s.case_id,
            "destination_id": s.destination_id,
            "service_type": s.service_type,
            "schema_uri": s.schema_uri,
            "data_mime_type": s.data_mime_type,
            "data_sha512": s.data_sha512,
            "auth_tags": s.auth_tags.as_dict(),
            "metadata": s.metadata,
            "data": _b64(s.data),
            "has_data": s.has_data,
            "received_on": received.refs.get("received_on") or date.today().isoformat(),
            "attachments": [
                {
                    "attachment_id": a.attachment_id,
                    "filename": a.filename,
                    "mime_type": a.mime_type,
                    "purpose": a.purpose,
                    "sha512": a.sha512,
                    "content": _b64(a.content),
                }
                for a in s.attachments
            ],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, payload: bytes) -> Received[R]:
        try:
            body = json.loads(payload)
            if body.get("v") != _VERSION:
                raise ValueError("payload version")
            data = base64.b64decode(body["data"])
            tags = body["auth_tags"]
            submission = ReceivedSubmission(
                submission_id=body["submission_id"],
                case_id=body["case_id"],
                destination_id=body["destination_id"],
                service_type=body["service_type"],
                schema_uri=body["schema_uri"],
                data_mime_type=body["data_mime_type"],
                data_sha512=body["data_sha512"],
                auth_tags=AuthenticationTags(
                    tags["metadata"], tags.get("data", ""), dict(tags.get("attachments") or {})
                ),
                attachments=[
                    ReceivedAttachment(
                        attachment_id=a["attachment_id"],
                        filename=a["filename"],
                        mime_type=a["mime_type"],
                        purpose=a["purpose"],
                        sha512=a["sha512"],
                        content=base64.b64decode(a["content"]),
                    )
                    for a in body["attachments"]
                ],
                metadata=body["metadata"],
                data=data,
                data_json=_json_or_none(data),
                has_data=bool(body.get("has_data", True)),  # False: attachments only
            )
            on = date.fromisoformat(body["received_on"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ApplicationError(
                "Gespeicherter Antrag ist nicht lesbar.", code="payload-unreadable"
            ) from exc
        return self._received(submission, on)

    # -- delivery: over the reply channel the metadata names, never the Submission API -----
    @property
    def replies(self) -> ReplyChannels:
        if self._replies is None:
            self._replies = ReplyChannels.from_env()
        return self._replies

    def deliver(
        self, received: Received[R], reply_id: str, letters: Sequence[Document]
    ) -> Delivered:
        submission = received.handle
        metadata = submission.metadata if isinstance(submission, ReceivedSubmission) else None
        return self.replies.send(received.item_key, metadata, reply_id, letters)

    def close(self) -> None:
        self.client.close()


def _registered(submission: ReceivedSubmission, on: date) -> Any:
    return submission.record(today=on)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
