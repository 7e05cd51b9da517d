"""The work-item store: Amtsbote's durable queue of work items (SQLAlchemy Core + Alembic).

An item is one case of one process (``hundesteuer``, …), unique per tenant, process and
``item_key``, with its encrypted payload, a state, a lease while a worker holds it, and a
history of its state changes::

    store = WorkItemStore.from_settings()          # AMTSBOTE_STORE_* (default: SQLite file)
    store.upgrade()                                # migrate (idempotent)
    item, created = store.add("hundesteuer", submission_id, payload)
    for item in store.claim("hundesteuer", worker="run-42", limit=10):
        data = store.payload(item)
        ...
        store.transition(item, ItemState.DONE, worker="run-42", refs={"aktenzeichen": az})

States: ``new → in_progress → done | rejected | failed``, plus ``klaerfall`` and
``awaiting_approval``. An embedded SQLite file by default, PostgreSQL (``AMTSBOTE_STORE_URL``)
for several workers on several machines. Payloads are encrypted with Fernet keys (newest
first; rotation: `WorkItemStore.rotate_keys`) and deleted `StoreSettings.retention_days` after
an item was done or rejected; ids, states, codes and history stay. No Prefect, no Playwright.
"""

from __future__ import annotations

from amtsbote.store._crypto import new_key
from amtsbote.store._model import (
    ENDING_STATES,
    HistoryEntry,
    ItemNotFound,
    ItemState,
    LeaseLost,
    WorkItem,
)
from amtsbote.store._settings import StoreSettings
from amtsbote.store._store import WorkItemStore

__all__ = [
    "ENDING_STATES",
    "HistoryEntry",
    "ItemNotFound",
    "ItemState",
    "LeaseLost",
    "StoreSettings",
    "WorkItem",
    "WorkItemStore",
    "new_key",
]
