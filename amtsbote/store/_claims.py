"""Claiming with leases: who works on which item, until when.

A claim moves items to ``in_progress`` under a lease (``claimed_by``, ``lease_until``). A worker
renews its lease while it works; a killed worker simply stops renewing, and once the lease has
run out its items are claimable again (the next claim counts a new attempt). Never two workers
on one item:

- PostgreSQL: the candidates are selected ``FOR UPDATE SKIP LOCKED``, so concurrent claimers
  lock disjoint rows without waiting for each other, and updated in the same transaction;
- SQLite: the transaction starts with ``BEGIN IMMEDIATE`` (the database's write lock), so
  select and update run as one step that no other process can interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine, and_, case, func, insert, or_, select, update

from amtsbote._logging import get_logger
from amtsbote.store._engine import write
from amtsbote.store._model import ItemState, WorkItem
from amtsbote.store._rows import (
    check_name,
    claim_order,
    history_row,
    item_select,
    key_filter,
    to_item,
)
from amtsbote.store._schema import history, items, utcnow

__all__ = ["claim", "renew", "release"]

log = get_logger("amtsbote.store")


def claim(
    engine: Engine,
    tenant: str,
    process: str,
    worker: str,
    *,
    limit: int,
    lease_s: float,
    item_keys: Sequence[str] | None,
    states: Sequence[ItemState],
) -> list[WorkItem]:
    check_name("process", process)
    check_name("worker", worker)
    if limit <= 0:
        return []
    now = utcnow()
    plain = [str(ItemState(s)) for s in states if ItemState(s) is not ItemState.IN_PROGRESS]
    expired = and_(
        items.c.state == ItemState.IN_PROGRESS.value,
        or_(items.c.lease_until.is_(None), items.c.lease_until < now),
    )
    candidates = (
        select(items.c.id, items.c.state, items.c.claimed_by)
        .where(key_filter(tenant, process, item_keys), or_(items.c.state.in_(plain), expired))
        .order_by(*claim_order())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with write(engine) as conn:
        picked = conn.execute(candidates).all()
        if not picked:
            return []
        ids = [row.id for row in picked]
        conn.execute(
            update(items)
            .where(items.c.id.in_(ids))
            .values(
                state=ItemState.IN_PROGRESS.value,
                claimed_by=worker,
                lease_until=now + timedelta(seconds=lease_s),
                attempts=items.c.attempts + 1,
                # a re-claimed item keeps the state it was first claimed from
                claimed_from=case(
                    (items.c.state == ItemState.IN_PROGRESS.value, items.c.claimed_from),
                    else_=items.c.state,
                ),
                updated_at=now,
            )
        )
        conn.execute(
            insert(history),
            [
                history_row(
                    row.id,
                    now,
                    row.state,
                    ItemState.IN_PROGRESS,
                    worker=worker,
                    note=(
                        f"claimed after the lease of {row.claimed_by} ran out"
                        if row.state == ItemState.IN_PROGRESS.value
                        else "claimed"
                    ),
                )
                for row in picked
            ],
        )
        by_id = {
            item.id: item
            for item in map(to_item, conn.execute(item_select().where(items.c.id.in_(ids))))
        }
    reclaimed = sum(1 for row in picked if row.state == ItemState.IN_PROGRESS.value)
    log.info(
        "work-items-claimed",
        process=process,
        worker=worker,
        count=len(ids),
        reclaimed=reclaimed,
        item_ids=ids,
    )
    return [by_id[i] for i in ids]


def renew(
    engine: Engine,
    tenant: str,
    worker: str,
    *,
    lease_s: float,
    item_keys: Sequence[str] | None,
    process: str | None,
) -> int:
    check_name("worker", worker)
    now = utcnow()
    with write(engine) as conn:
        result = conn.execute(
            update(items)
            .where(
                key_filter(tenant, process, item_keys),
                items.c.state == ItemState.IN_PROGRESS.value,
                items.c.claimed_by == worker,
            )
            .values(lease_until=now + timedelta(seconds=lease_s), updated_at=now)
        )
    count = int(result.rowcount)
    log.debug("work-item-leases-renewed", worker=worker, count=count)
    return count


def release(
    engine: Engine,
    tenant: str,
    worker: str,
    *,
    item_keys: Sequence[str] | None,
    process: str | None,
) -> int:
    check_name("worker", worker)
    now = utcnow()
    held = (
        key_filter(tenant, process, item_keys)
        & (items.c.state == ItemState.IN_PROGRESS.value)
        & (items.c.claimed_by == worker)
    )
    with write(engine) as conn:
        rows = conn.execute(
            select(items.c.id, items.c.claimed_from).where(held).with_for_update()
        ).all()
        if not rows:
            return 0
        ids = [row.id for row in rows]
        conn.execute(
            update(items)
            .where(items.c.id.in_(ids))
            .values(
                state=func.coalesce(items.c.claimed_from, ItemState.NEW.value),
                attempts=case((items.c.attempts > 0, items.c.attempts - 1), else_=0),
                claimed_by=None,
                lease_until=None,
                claimed_from=None,
                updated_at=now,
            )
        )
        conn.execute(
            insert(history),
            [
                history_row(
                    row.id,
                    now,
                    ItemState.IN_PROGRESS,
                    row.claimed_from or ItemState.NEW,
                    worker=worker,
                    note="released unstarted",
                )
                for row in rows
            ],
        )
    log.info("work-items-released", worker=worker, count=len(ids), item_ids=ids)
    return len(ids)
