"""What every source of work items offers the process engine, whatever the channel.

A source is where items come from (a FIT-Connect destination, an IMAP folder) and how their
receipt is acknowledged. The engine's intake lists new items, fetches each one (decrypt,
verify, parse into the process's record), stores it as a work item and only then acknowledges
it. Items the source cannot deliver intact (bad crypto, hash mismatch, schema violation) are
rejected at the source with its own problem types and never become work items. An item that
arrived intact but breaks a business rule (a wrong IBAN, a missing proof) is acknowledged like
any other and carries the `refusal`: the engine refuses it by letter, as a clerk would.

The engine keeps the item's payload in its store (encrypted) because the source forgets it:
FIT-Connect deletes a submission days after pickup. `Source.encode` / `Source.decode` turn a
received item into those bytes and back, so a later step, a Klärfall a week on included, has
the record and the attachments without asking the source again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from amtsbote import BusinessRuleError

__all__ = [
    "Delivered",
    "Delivery",
    "Document",
    "Receipt",
    "Received",
    "Source",
    "SourceItem",
]

R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class SourceItem:
    """A new item as the source lists it: its business key and the source's references.

    Attributes:
        item_key: The business key (FIT-Connect: the submission id). One name everywhere.
        refs: Ids the source needs later (FIT-Connect: ``case_id``); ids only, never data.
    """

    item_key: str
    refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    """A file that travels with an item: an attachment, a notice, a rejection letter.

    Attributes:
        key: Stable name of the document within its item (``antrag``, ``bescheid``,
            ``anlage-<id>``): the archive files it under ``<item_key>-<key>``.
        filename: File name shown to people.
        mime_type: Its media type.
        content: The bytes (kept out of every repr).
        title: What a letter is called in a reply ("Hundesteuerbescheid 2026/0042").
    """

    key: str
    filename: str
    mime_type: str
    content: bytes = field(repr=False)
    title: str = ""


@dataclass(frozen=True)
class Received(Generic[R]):
    """One item, fetched and verified: the typed record and its attachments.

    Attributes:
        item_key: The business key.
        record: The parsed record (the process trusts it from here on).
        attachments: The documents that came with it.
        refs: Source references to keep with the work item (ids only).
        handle: What the source needs to acknowledge this item (FIT-Connect: the decrypted
            submission with its authentication tags); ``None`` for a decoded payload.
        refusal: The business rules the item breaks, found while parsing it (its `record`
            was then validated without them). The engine turns it into the rejection letter
            (state ``rejected``); ``None`` for an item to be worked.
    """

    item_key: str
    record: R = field(repr=False)
    attachments: tuple[Document, ...] = ()
    refs: Mapping[str, str] = field(default_factory=dict)
    handle: Any = field(default=None, repr=False)
    refusal: BusinessRuleError | None = None


@dataclass(frozen=True)
class Receipt:
    """A source's signed proof of an acknowledgement or a rejection (kept by the audit)."""

    kind: str
    token: str = field(repr=False)


class Source(Protocol[R]):
    """Where a process's items come from (see module docstring).

    Errors: a technically broken item raises ``connectors.portal.SubmissionInvalid`` (a
    `BusinessRuleError` carrying the source's problems) from `fetch`; a misbehaving source
    raises `ApplicationError` (the intake retries, the item waits at the source).
    """

    name: str

    def list_new(self, limit: int | None = None) -> list[SourceItem]:
        """Every new item, oldest first, each once (all pages read before returning)."""
        ...

    def fetch(self, item: SourceItem) -> Received[R]:
        """Fetch, decrypt, verify and parse one item."""
        ...

    def acknowledge(self, received: Any) -> Receipt | None:
        """Confirm receipt to the source (idempotent): the item leaves its list of new ones."""
        ...

    def reject(self, item: SourceItem, error: Any) -> Receipt | None:
        """Reject a technically broken item at the source with its problems (idempotent)."""
        ...

    def encode(self, received: Any) -> bytes:
        """The payload to store for the item (the store encrypts it)."""
        ...

    def decode(self, payload: bytes) -> Received[R]:
        """The item back from its stored payload."""
        ...

    def close(self) -> None:
        """Free connections."""
        ...


@dataclass(frozen=True)
class Delivered:
    """How a letter went out: what the item's references and audit show a user.

    Attributes:
        route: ``mail`` (sent over SMTP) or ``print`` (into the print-and-post outbox).
        channel: The reply channel the submission named (``eMail``, ``deMail``, ``fink``,
            ``elster``) or ``none``.
        reference: The Message-ID of the mail, or the outbox folder of the print job.
        created: False when an earlier attempt had already put the print job there.
        reason: Why a letter went to print instead of the named channel (a code).
    """

    route: str
    channel: str
    reference: str
    created: bool = True
    reason: str | None = None

    @property
    def outcome(self) -> str:
        """The audit outcome: ``mailed`` or ``posted-for-print``."""
        return "mailed" if self.route == "mail" else "posted-for-print"


class Delivery(Protocol):
    """Carries a letter (notice, rejection) to the person who filed the item."""

    def deliver(
        self, received: Received[Any], reply_id: str, letters: Sequence[Document]
    ) -> Delivered:
        """Send `letters` for the item over the way it names; idempotent by `reply_id`."""
        ...
