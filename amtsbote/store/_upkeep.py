"""Upkeep of stored payloads: deletion after the retention period, re-encryption on rotation.

Both leave the items' rows (ids, states, codes, references) and their history alone: reports
and the audit keep working after the payloads are gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from amtsbote._logging import get_logger
from amtsbote.store._crypto import Sealer
from amtsbote.store._engine import write
from amtsbote.store._model import ENDING_STATES
from amtsbote.store._schema import items, payloads

__all__ = ["purge_payloads", "rotate_keys"]

log = get_logger("amtsbote.store")
_ROTATE_BATCH = 200


def purge_payloads(engine: Engine, tenant: str, retention: timedelta, now: datetime) -> int:
    cutoff = now - retention
    ended = select(items.c.id).where(
        items.c.tenant == tenant,
        items.c.state.in_([s.value for s in ENDING_STATES]),
        items.c.ended_at < cutoff,
    )
    with write(engine) as conn:
        result = conn.execute(payloads.delete().where(payloads.c.item_id.in_(ended)))
    count = int(result.rowcount)
    log.info("work-item-payloads-purged", count=count, cutoff=cutoff.isoformat())
    return count


def rotate_keys(engine: Engine, tenant: str, sealer: Sealer) -> int:
    """Re-encrypt in batches, one transaction each (a second run after a failure is safe)."""
    count, last = 0, -1
    while True:
        with write(engine) as conn:
            batch = conn.execute(
                select(payloads.c.item_id, payloads.c.token)
                .join(items, items.c.id == payloads.c.item_id)
                .where(items.c.tenant == tenant, payloads.c.item_id > last)
                .order_by(payloads.c.item_id)
                .limit(_ROTATE_BATCH)
            ).all()
            for item_id, token in batch:
                conn.execute(
                    update(payloads)
                    .where(payloads.c.item_id == item_id)
                    .values(token=sealer.rotate(bytes(token), item_id))
                )
        if not batch:
            break
        count += len(batch)
        last = batch[-1].item_id
    log.info("work-item-keys-rotated", count=count)
    return count
