"""The store's tables, as SQLAlchemy Core metadata (the migrations create them; see migrations/).

Three tables: ``work_items`` (one row per item, unique per tenant, process and item key),
``work_item_payloads`` (the encrypted payload, in a table of its own so deleting it after the
retention period leaves the item's row, states and codes for reporting) and
``work_item_history`` (one row per state change).

Times are stored in UTC and always come back timezone-aware (`UTCDateTime`): SQLite keeps
them as fixed-width text, which sorts and compares like the times themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = ["metadata", "items", "payloads", "history", "UTCDateTime", "utcnow"]

#: An id column: BIGINT on PostgreSQL, SQLite's INTEGER (the rowid alias that autoincrements).
_Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store takes timezone-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

items = Table(
    "work_items",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("process", String(100), nullable=False),
    Column("item_key", String(200), nullable=False),
    Column("state", String(32), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error_code", String(200)),
    Column("priority", Integer, nullable=False),
    Column("deadline", UTCDateTime()),
    Column("claimed_by", String(200)),
    Column("lease_until", UTCDateTime()),
    # the state a claim took the item from, so a release can give it back there
    Column("claimed_from", String(32)),
    Column("refs", JSON, nullable=False),
    Column("human_run", String(100)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    UniqueConstraint("tenant", "process", "item_key", name="uq_work_items_key"),
    Index("ix_work_items_queue", "tenant", "process", "state", "priority"),
    Index("ix_work_items_claimed_by", "claimed_by"),
    Index("ix_work_items_ended_at", "ended_at"),
)

payloads = Table(
    "work_item_payloads",
    metadata,
    Column("item_id", _Id, ForeignKey("work_items.id"), primary_key=True),
    Column("token", LargeBinary, nullable=False),
)

history = Table(
    "work_item_history",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("item_id", _Id, ForeignKey("work_items.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("from_state", String(32)),
    Column("to_state", String(32), nullable=False),
    Column("worker", String(200)),
    Column("error_code", String(200)),
    Column("note", Text),
    Index("ix_work_item_history_item", "item_id"),
)
