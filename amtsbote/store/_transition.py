"""State changes of one item: the lease rule, reference merging, ending stamps, history.

The lease rule keeps a worker whose lease ran out from overwriting what another worker does
with the item now: an item ``in_progress`` under another worker is not ours (`LeaseLost`); and
a caller that passes the claimed `WorkItem` it got from `claim` is also refused once that claim
is over (re-claimed, even if the other worker has finished the item since). Ids and states
only are logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from amtsbote._logging import get_logger
from amtsbote.store._engine import write
from amtsbote.store._model import ENDING_STATES, ItemNotFound, ItemState, LeaseLost, WorkItem
from amtsbote.store._rows import (
    check_name,
    check_refs,
    history_row,
    item_select,
    key_filter,
    to_item,
)
from amtsbote.store._schema import history, items, utcnow

__all__ = ["transition"]

log = get_logger("amtsbote.store")


def transition(
    engine: Engine,
    tenant: str,
    lease_s: float,
    item: WorkItem | tuple[str, str],
    state: ItemState,
    *,
    worker: str | None,
    error_code: str | None,
    refs: Mapping[str, str] | None,
    human_run: str | None,
    note: str | None,
) -> WorkItem:
    state = ItemState(state)
    check_name("worker", worker, optional=True)
    check_name("error_code", error_code, optional=True)
    new_refs = check_refs(refs)
    process, item_key = (item.process, item.item_key) if isinstance(item, WorkItem) else item
    with write(engine) as conn:
        row = conn.execute(
            select(items).where(key_filter(tenant, process, [item_key])).with_for_update()
        ).first()
        if row is None:
            raise ItemNotFound(f"Kein Vorgang {process}/{item_key}", code="item-not-found")
        current = ItemState(row.state)
        _check_lease(item, row, current, worker)
        now = utcnow()
        values: dict[str, Any] = {
            "state": state.value,
            "error_code": error_code,
            "refs": {**(row.refs or {}), **new_refs},
            "updated_at": now,
        }
        if human_run is not None:
            values["human_run"] = human_run
        if state is not ItemState.IN_PROGRESS:
            values.update(claimed_by=None, lease_until=None, claimed_from=None)
        elif current is not ItemState.IN_PROGRESS:
            values.update(
                claimed_by=worker,
                lease_until=now + timedelta(seconds=lease_s) if worker else None,
                claimed_from=current.value,
            )
        if state in ENDING_STATES:
            values["ended_at"] = row.ended_at if current is state else now
        else:
            values["ended_at"] = None
        conn.execute(update(items).where(items.c.id == row.id).values(**values))
        conn.execute(
            insert(history).values(
                history_row(
                    row.id, now, current, state, worker=worker, error_code=error_code, note=note
                )
            )
        )
        updated = to_item(conn.execute(item_select().where(items.c.id == row.id)).one())
    log.info(
        "work-item-transition",
        process=process,
        item_id=updated.id,
        from_state=current.value,
        to_state=state.value,
        worker=worker,
        error_code=error_code,
    )
    return updated


def _check_lease(
    item: WorkItem | tuple[str, str], row: Any, current: ItemState, worker: str | None
) -> None:
    """Raise `LeaseLost` unless `worker` may change the item now."""
    if current is ItemState.IN_PROGRESS and row.claimed_by not in (None, worker):
        log.warning("work-item-lease-lost", item_id=row.id, worker=worker)
        raise LeaseLost(
            f"Vorgang {row.id} wird von einem anderen Worker bearbeitet", code="lease-lost"
        )
    if isinstance(item, WorkItem) and item.state is ItemState.IN_PROGRESS:
        same_claim = (
            current is ItemState.IN_PROGRESS
            and row.claimed_by == item.claimed_by
            and row.attempts == item.attempts
        )
        if not same_claim:
            log.warning("work-item-lease-lost", item_id=row.id, worker=worker)
            raise LeaseLost(
                f"Vorgang {row.id}: die Bearbeitung wurde inzwischen neu vergeben",
                code="lease-lost",
            )
