"""Rows to values and back: the one place that knows how a work item is read and checked.

Everything that enters the store is checked here first (bad input fails with a clear
`ValueError` before any SQL runs), and every row leaves it as a frozen `WorkItem`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, select

from amtsbote.store._model import HistoryEntry, ItemState, WorkItem
from amtsbote.store._schema import history, items, payloads

__all__ = [
    "item_select",
    "to_item",
    "to_history",
    "history_row",
    "check_name",
    "check_refs",
    "check_time",
    "key_filter",
    "claim_order",
]

_LIMITS = {"tenant": 64, "process": 100, "item_key": 200, "worker": 200, "error_code": 200}

_has_payload = exists().where(payloads.c.item_id == items.c.id).label("has_payload")


def item_select() -> Select[Any]:
    """SELECT of whole items, with whether their payload is still there."""
    return select(*items.c, _has_payload)


def to_item(row: Row[Any]) -> WorkItem:
    m = row._mapping
    return WorkItem(
        id=int(m["id"]),
        tenant=m["tenant"],
        process=m["process"],
        item_key=m["item_key"],
        state=ItemState(m["state"]),
        attempts=int(m["attempts"]),
        error_code=m["error_code"],
        priority=int(m["priority"]),
        deadline=m["deadline"],
        claimed_by=m["claimed_by"],
        lease_until=m["lease_until"],
        refs=dict(m["refs"] or {}),
        human_run=m["human_run"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        has_payload=bool(m["has_payload"]),
        ended_at=m["ended_at"],
    )


def to_history(row: Row[Any]) -> HistoryEntry:
    m = row._mapping
    return HistoryEntry(
        at=m["at"],
        from_state=ItemState(m["from_state"]) if m["from_state"] else None,
        to_state=ItemState(m["to_state"]),
        worker=m["worker"],
        error_code=m["error_code"],
        note=m["note"],
    )


def history_row(
    item_id: int,
    at: datetime,
    from_state: ItemState | str | None,
    to_state: ItemState | str,
    *,
    worker: str | None = None,
    error_code: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "at": at,
        "from_state": str(from_state) if from_state is not None else None,
        "to_state": str(to_state),
        "worker": worker,
        "error_code": error_code,
        "note": note,
    }


def check_name(kind: str, value: Any, *, optional: bool = False) -> None:
    """A non-empty string of bounded length (tenant, process, item key, worker, error code)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{kind} must be a non-empty string")
    if len(value) > _LIMITS[kind]:
        raise ValueError(f"{kind} longer than {_LIMITS[kind]} characters")


def check_refs(refs: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (refs or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("refs map strings to strings")
        out[key] = value
    return out


def check_time(kind: str, value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValueError(f"{kind} must be a timezone-aware datetime")


def key_filter(
    tenant: str, process: str | None, item_keys: Sequence[str] | None
) -> ColumnElement[bool]:
    """WHERE for one tenant, optionally one process and some item keys."""
    parts: list[ColumnElement[bool]] = [items.c.tenant == tenant]
    if process is not None:
        parts.append(items.c.process == process)
    if item_keys is not None:
        if isinstance(item_keys, str):
            raise ValueError("item_keys is a sequence of keys, not one string")
        parts.append(items.c.item_key.in_(list(item_keys)))
    return and_(*parts)


def claim_order() -> list[Any]:
    """Priority first (high to low), then the earliest deadline (none last), then the oldest."""
    return [
        items.c.priority.desc(),
        items.c.deadline.is_(None).asc(),
        items.c.deadline.asc(),
        items.c.created_at.asc(),
        items.c.id.asc(),
    ]


def history_select(item_id: int) -> Select[Any]:
    return select(history).where(history.c.item_id == item_id).order_by(history.c.at, history.c.id)
