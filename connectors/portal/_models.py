"""The values the portal client hands out: submission refs, received submissions, events.

Frozen dataclasses, so a value can travel between threads and steps unchanged. The personal
data of a submission (metadata, data, attachment contents) is kept out of every repr, so it
cannot slip into a log line or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from pydantic import BaseModel

from amtsbote import ItemHeld, get_logger
from connectors.portal._crypto import EVENT_BASE
from connectors.records import (
    Envelope,
    RulesBroken,
    SubmissionInvalid,
    parse_record,
    problem,
    record_type,
)

__all__ = [
    "ACCEPT",
    "PDF",
    "REJECT",
    "SubmissionHeld",
    "AuthenticationTags",
    "EventResult",
    "PortalEvent",
    "ReceivedAttachment",
    "ReceivedSubmission",
    "SubmissionRef",
]

log = get_logger(__name__)

ACCEPT: Final = EVENT_BASE + "accept-submission"
REJECT: Final = EVENT_BASE + "reject-submission"
PDF: Final = "application/pdf"


class SubmissionHeld(ItemHeld):
    """A submission encrypted to a key this receiver does not hold: held at the portal.

    Neither stored nor rejected: it stays ``submitted`` at the portal until an administrator
    installs the missing key (the next poll takes it) or rejects it (``amtsbote portal
    reject``). The service rejects it by itself 14 days after submission, so the intake's watch
    reports it with its age.

    Attributes:
        submission_id: The submission.
        case_id: Its case.
        kid: The key id the part names (public).
        since: When it was submitted (``iat`` of the service's signed submit-submission
            event); ``None`` when the event log could not tell.
        part: The part that could not be opened (``metadata``, ``data``, ``attachment:<id>``).
    """

    default_code = "jwe-unknown-kid"

    def __init__(
        self,
        *,
        code: str,
        submission_id: str,
        case_id: str,
        instance: str,
        kid: str | None,
        submitted_at: datetime | None,
    ) -> None:
        super().__init__(
            "Der Antrag ist für einen Schlüssel verschlüsselt, den diese Stelle nicht (mehr) "
            "oder nicht passend hat; er wartet am Portal.",
            code=code,
            since=submitted_at,
            part=instance,
        )
        self.submission_id = submission_id
        self.case_id = case_id
        self.kid = kid


@dataclass(frozen=True)
class SubmissionRef:
    """A submission waiting in the portal (state ``submitted``)."""

    submission_id: str
    case_id: str
    destination_id: str


@dataclass(frozen=True)
class AuthenticationTags:
    """The last segment of each part's JWE; the accept event proves receipt with them."""

    metadata: str
    data: str
    attachments: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``authenticationTags`` object of an accept event (no ``data`` without data)."""
        out: dict[str, Any] = {"metadata": self.metadata}
        if self.data:
            out["data"] = self.data
        out["attachments"] = self.attachments
        return out


@dataclass(frozen=True)
class ReceivedAttachment:
    """A decrypted, hash-checked attachment (`content` is never shown in a repr)."""

    attachment_id: str
    filename: str
    mime_type: str
    purpose: str
    sha512: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Size of the plaintext in bytes."""
        return len(self.content)


@dataclass(frozen=True)
class ReceivedSubmission:
    """A fetched submission: decrypted, every hash verified, data parsed if it is JSON.

    The personal data (`metadata`, `data`, `data_json`, attachment contents) stays out of
    the repr so it cannot slip into a log line or a traceback.
    """

    submission_id: str
    case_id: str
    destination_id: str
    service_type: dict[str, Any]
    schema_uri: str
    data_mime_type: str
    data_sha512: str
    auth_tags: AuthenticationTags
    attachments: list[ReceivedAttachment]
    metadata: dict[str, Any] = field(repr=False)
    data: bytes = field(repr=False)
    data_json: Any = field(repr=False, default=None)
    #: False for an attachment-only submission (no ``encryptedData``; `data` is empty).
    has_data: bool = True

    def envelope(self) -> Envelope:
        """What the record may take from the submission besides its data."""
        return Envelope(
            item_key=self.submission_id,
            case_id=self.case_id,
            attachment_types=tuple(a.mime_type for a in self.attachments),
        )

    def record(self, *, today: date | None = None) -> BaseModel:
        """Validate the data into the record registered for its schema (`connectors.records`).

        Args:
            today: Day to check dates against (default: today).

        Returns:
            The typed record of the submission's service, as registered for its schema.

        Raises:
            SubmissionInvalid: An attachment-only submission (``data-missing``: the record
                needs data), no record for the schema (``schema-unsupported``), data that is
                no JSON, or data that breaks the schema; carries `submission_id` and
                `case_id`, ready for `PortalClient.reject`.
            RulesBroken: The data is sound but breaks business rules: accept the submission
                (the receipt is technical) and refuse it by letter; carries the record.
        """
        try:
            if not self.has_data:
                raise SubmissionInvalid(
                    [
                        problem(
                            "missing-data",
                            "Der Antrag enthält nur Anlagen, keine Antragsdaten.",
                            code="data-missing",
                        )
                    ]
                )
            record_type(self.schema_uri)  # an unknown form first, whatever its data
            if self.data_json is None:
                raise SubmissionInvalid(
                    [
                        problem(
                            "syntax-violation",
                            "Die Antragsdaten sind kein JSON.",
                            code="data-syntax",
                        )
                    ]
                )
            return parse_record(
                self.schema_uri, self.data_json, envelope=self.envelope(), today=today
            )
        except RulesBroken as exc:
            log.info(
                "portal.business_rules_broken", submission_id=self.submission_id, codes=exc.codes
            )
            raise
        except SubmissionInvalid as exc:
            exc.submission_id = self.submission_id
            exc.case_id = self.case_id
            log.warning(
                "portal.submission_invalid", submission_id=self.submission_id, codes=exc.codes
            )
            raise


@dataclass(frozen=True)
class EventResult:
    """Outcome of `accept` / `reject`.

    Attributes:
        set_token: The signed SET now in the portal's event log (store it: proof of the
            decision). When the decision was already there, this is the stored one.
        created: False when the portal already had this decision (nothing was sent or stored).
    """

    set_token: str
    created: bool
    event_type: str
    jti: str


@dataclass(frozen=True)
class PortalEvent:
    """One verified SET of a case's event log."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def event_type(self) -> str:
        """The full event URI (the SET carries exactly one)."""
        return str(next(iter(self.claims["events"])))

    @property
    def payload(self) -> dict[str, Any]:
        """The event's content (authentication tags, problems …)."""
        value = self.claims["events"][self.event_type]
        return value if isinstance(value, dict) else {}

    @property
    def submission_id(self) -> str | None:
        """The submission the event is about (from ``sub``)."""
        sub = self.claims.get("sub")
        return sub.removeprefix("submission:") if isinstance(sub, str) else None

    @property
    def jti(self) -> str:
        """The token id."""
        return str(self.claims.get("jti", ""))
