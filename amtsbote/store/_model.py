"""The values the store hands out: item states, work items, history entries, its two errors.

Plain frozen dataclasses rather than rows, so a caller never holds a database object (nor a
connection) and may pass items between threads freely. States are a `StrEnum` whose values are
the strings kept in the database, so reports and SQL read the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from amtsbote._errors import AmtsboteError

__all__ = ["ItemState", "WorkItem", "HistoryEntry", "LeaseLost", "ItemNotFound", "ENDING_STATES"]


class ItemState(StrEnum):
    """Where a work item is; the values are the strings stored in the database.

    ``new → in_progress → done | rejected | failed``, plus ``klaerfall`` (a clerk must decide)
    and ``awaiting_approval`` (a notice waits for the four-eyes Freigabe).
    """

    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"
    KLAERFALL = "klaerfall"
    AWAITING_APPROVAL = "awaiting_approval"


#: States that end an item: they stamp ``ended_at``, from which the payload's retention counts.
ENDING_STATES: frozenset[ItemState] = frozenset({ItemState.DONE, ItemState.REJECTED})


@dataclass(frozen=True)
class WorkItem:
    """One item of one process, as the store last saw it.

    Attributes:
        id: The store's own id (stable, for logs and audit).
        tenant: Mandant; ``"default"`` until several municipalities share an installation.
        process: The process the item belongs to (e.g. ``"hundesteuer"``).
        item_key: The business key, unique per tenant and process (e.g. the submission id).
        state: Where the item is.
        attempts: How often it was claimed (a released claim does not count).
        error_code: The last error code, None when the last step went well.
        priority: Higher is claimed first.
        deadline: When it must be decided (earlier is claimed first among equal priorities).
        claimed_by: The worker holding the lease while ``in_progress``.
        lease_until: When that lease runs out; after it another worker may claim the item.
        refs: Result and source references, e.g. ``{"aktenzeichen": "…"}`` (ids, no data).
        human_run: The flow-run id of the Klärfall or Freigabe run, if any.
        created_at: When the item was added.
        updated_at: When it last changed.
        has_payload: False once the payload was deleted after the retention period.
        ended_at: When it reached ``done`` or ``rejected`` (None while it is open).
    """

    id: int
    tenant: str
    process: str
    item_key: str
    state: ItemState
    attempts: int
    error_code: str | None
    priority: int
    deadline: datetime | None
    claimed_by: str | None
    lease_until: datetime | None
    refs: dict[str, str]
    human_run: str | None
    created_at: datetime
    updated_at: datetime
    has_payload: bool
    ended_at: datetime | None = field(default=None)


@dataclass(frozen=True)
class HistoryEntry:
    """One state change of an item (``from_state`` is None for the item's creation)."""

    at: datetime
    from_state: ItemState | None
    to_state: ItemState
    worker: str | None
    error_code: str | None
    note: str | None


class LeaseLost(AmtsboteError):
    """The item is no longer ours: our lease ran out and another worker claimed it.

    Not an `ApplicationError`: retrying cannot help, the other worker carries the item on.
    """

    default_code = "lease-lost"


class ItemNotFound(AmtsboteError):
    """There is no item with this process and item key (in this tenant)."""

    default_code = "item-not-found"
