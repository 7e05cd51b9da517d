"""`WorkItemStore`: the framework's durable queue of work items.

One object per process, shared by all its threads (one engine, one connection pool). Every
public method is one transaction and translates "database down or locked too long" into
``ApplicationError(code="store-unavailable")``; logs carry ids, states and codes only, never a
payload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from amtsbote._errors import ApplicationError
from amtsbote._logging import get_logger
from amtsbote.store import _claims, _transition, _upkeep
from amtsbote.store._crypto import Sealer
from amtsbote.store._engine import build_engine, read, translate_errors, upgrade, write
from amtsbote.store._model import (
    HistoryEntry,
    ItemState,
    WorkItem,
)
from amtsbote.store._rows import (
    check_name,
    check_refs,
    check_time,
    history_row,
    history_select,
    item_select,
    key_filter,
    to_history,
    to_item,
)
from amtsbote.store._schema import history, items, payloads, utcnow

if TYPE_CHECKING:
    from amtsbote._settings import AmtsboteSettings
    from amtsbote.store._settings import StoreSettings

__all__ = ["WorkItemStore"]

log = get_logger("amtsbote.store")
_DEFAULT_STATES = (ItemState.NEW, ItemState.FAILED)
_ROTATE_BATCH = 200


class WorkItemStore:
    """Work items of one tenant in an SQL database (SQLite file or PostgreSQL).

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://…``; psycopg 3 is used).
        keys: Fernet keys, newest first; the first encrypts, any opens.
        tenant: The Mandant whose items this object sees.
        lease_s: Default lease of a claim, in seconds.
        retention_days: Payloads of done or rejected items are deleted this long after the end.
        busy_timeout_s: SQLite only: how long a writer waits for the file's lock.

    Raises:
        ApplicationError: ``store-key`` when no key is given or a key is malformed.
        ValueError: An unsupported URL (not SQLite or PostgreSQL, or in-memory SQLite).
    """

    def __init__(
        self,
        url: str,
        keys: Sequence[str | bytes],
        *,
        tenant: str = "default",
        lease_s: float = 300,
        retention_days: float = 30,
        busy_timeout_s: float = 30,
    ) -> None:
        check_name("tenant", tenant)
        if lease_s <= 0 or retention_days < 0:
            raise ValueError("lease_s must be positive and retention_days not negative")
        self._sealer = Sealer(keys)
        self._engine = build_engine(url, busy_timeout_s=busy_timeout_s)
        self.tenant = tenant
        self.lease_s = float(lease_s)
        self.retention = timedelta(days=retention_days)

    @classmethod
    def from_settings(
        cls, settings: StoreSettings | None = None, core: AmtsboteSettings | None = None
    ) -> WorkItemStore:
        """The store the settings describe (``AMTSBOTE_STORE_*``; data dir from ``AMTSBOTE_*``).

        Raises:
            ApplicationError: ``store-key`` when a database URL is set but no key.
        """
        from amtsbote._settings import AmtsboteSettings
        from amtsbote.store._settings import StoreSettings

        settings = settings or StoreSettings()
        core = core or AmtsboteSettings()
        return cls(
            settings.resolved_url(core),
            settings.resolved_keys(core),
            lease_s=settings.lease_s,
            retention_days=settings.retention_days,
            busy_timeout_s=settings.busy_timeout_s,
        )

    def __repr__(self) -> str:
        return f"WorkItemStore({self._engine.url!r}, tenant={self.tenant!r})"

    def __enter__(self) -> WorkItemStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def upgrade(self) -> None:
        """Migrate the database to the newest schema (idempotent; safe from several processes)."""
        with translate_errors("upgrade"):
            upgrade(self._engine)

    def close(self) -> None:
        """Close all pooled connections."""
        self._engine.dispose()

    # -- items -----------------------------------------------------------------------------

    def add(
        self,
        process: str,
        item_key: str,
        payload: bytes,
        *,
        priority: int = 0,
        deadline: datetime | None = None,
        refs: Mapping[str, str] | None = None,
    ) -> tuple[WorkItem, bool]:
        """Store a new item (state ``new``), or return the one already stored under its key.

        Returns:
            The item and whether it was created; an existing item is returned unchanged (its
            payload is not overwritten), also when several processes add it at once.
        """
        check_name("process", process)
        check_name("item_key", item_key)
        check_time("deadline", deadline)
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise ValueError("payload must be bytes")
        clean_refs = check_refs(refs)
        token = self._sealer.seal(self.tenant, process, item_key, bytes(payload))
        now = utcnow()
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        row: dict[str, Any] = {
            "tenant": self.tenant,
            "process": process,
            "item_key": item_key,
            "state": ItemState.NEW.value,
            "attempts": 0,
            "priority": int(priority),
            "deadline": deadline,
            "refs": clean_refs,
            "created_at": now,
            "updated_at": now,
        }
        stmt = (
            dialect_insert(items)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["tenant", "process", "item_key"])
            .returning(items.c.id)
        )
        with translate_errors("add"), write(self._engine) as conn:
            new_id = conn.execute(stmt).scalar()
            if new_id is not None:
                conn.execute(insert(payloads).values(item_id=new_id, token=token))
                conn.execute(
                    insert(history).values(
                        history_row(new_id, now, None, ItemState.NEW, note="added")
                    )
                )
            found = conn.execute(
                item_select().where(key_filter(self.tenant, process, [item_key]))
            ).one()
        item = to_item(found)
        if new_id is not None:
            log.info("work-item-added", process=process, item_id=item.id, item_key=item_key)
        return item, new_id is not None

    def get(self, process: str, item_key: str) -> WorkItem | None:
        """The item, or None when there is none under this key."""
        with translate_errors("get"), read(self._engine) as conn:
            row = conn.execute(
                item_select().where(key_filter(self.tenant, process, [item_key]))
            ).first()
        return to_item(row) if row is not None else None

    def payload(self, item: WorkItem) -> bytes:
        """The item's payload, decrypted.

        Raises:
            ApplicationError: ``payload-purged`` once it was deleted after the retention
                period; ``payload-key`` when none of the keys opens it.
        """
        with translate_errors("payload"), read(self._engine) as conn:
            token = conn.execute(
                select(payloads.c.token)
                .join(items, items.c.id == payloads.c.item_id)
                .where(items.c.id == item.id, items.c.tenant == self.tenant)
            ).scalar()
        if token is None:
            raise ApplicationError(
                f"Nutzdaten von Vorgang {item.id} sind nicht mehr gespeichert "
                "(nach Ablauf der Aufbewahrungsfrist gelöscht)",
                code="payload-purged",
            )
        return self._sealer.open(item.tenant, item.process, item.item_key, bytes(token), item.id)

    def items(
        self,
        process: str,
        *,
        states: Sequence[ItemState] | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[WorkItem]:
        """Items of a process (optionally in some states), oldest first, a page at a time."""
        query = item_select().where(key_filter(self.tenant, process, None))
        if states is not None:
            query = query.where(items.c.state.in_([str(ItemState(s)) for s in states]))
        query = query.order_by(items.c.id).limit(limit).offset(offset)
        with translate_errors("items"), read(self._engine) as conn:
            return [to_item(row) for row in conn.execute(query)]

    def counts(self, process: str | None = None) -> dict[str, int]:
        """How many items are in each state (every state present, zeros included)."""
        query = (
            select(items.c.state, func.count())
            .where(key_filter(self.tenant, process, None))
            .group_by(items.c.state)
        )
        with translate_errors("counts"), read(self._engine) as conn:
            found = {state: int(n) for state, n in conn.execute(query)}
        return {state.value: found.get(state.value, 0) for state in ItemState}

    def history(self, process: str, item_key: str) -> list[HistoryEntry]:
        """The item's state changes, oldest first (empty when there is no such item)."""
        with translate_errors("history"), read(self._engine) as conn:
            item_id = conn.execute(
                select(items.c.id).where(key_filter(self.tenant, process, [item_key]))
            ).scalar()
            if item_id is None:
                return []
            return [to_history(row) for row in conn.execute(history_select(item_id))]

    # -- leases ----------------------------------------------------------------------------

    def claim(
        self,
        process: str,
        worker: str,
        *,
        limit: int = 1,
        lease_s: float | None = None,
        item_keys: Sequence[str] | None = None,
        states: Sequence[ItemState] = _DEFAULT_STATES,
    ) -> list[WorkItem]:
        """Take up to `limit` items to work on, under a lease for `worker`.

        Takes items in `states` and items whose lease ran out (a killed worker's), highest
        priority first, then the earliest deadline (none last), then the oldest; moves them to
        ``in_progress`` and counts an attempt. Two workers never get the same item.

        Returns:
            The claimed items in that order (fewer than `limit`, or none, when no more wait).
        """
        with translate_errors("claim"):
            return _claims.claim(
                self._engine,
                self.tenant,
                process,
                worker,
                limit=limit,
                lease_s=self.lease_s if lease_s is None else lease_s,
                item_keys=item_keys,
                states=states,
            )

    def renew(
        self,
        worker: str,
        *,
        lease_s: float | None = None,
        item_keys: Sequence[str] | None = None,
        process: str | None = None,
    ) -> int:
        """Extend the lease of the ``in_progress`` items `worker` holds; returns how many."""
        with translate_errors("renew"):
            return _claims.renew(
                self._engine,
                self.tenant,
                worker,
                lease_s=self.lease_s if lease_s is None else lease_s,
                item_keys=item_keys,
                process=process,
            )

    def release(
        self, worker: str, *, item_keys: Sequence[str] | None = None, process: str | None = None
    ) -> int:
        """Give back items `worker` claimed but did not start (for a run that stops early).

        Each goes back to the state it was claimed from, and the claim's attempt is not
        counted. Returns how many were released.
        """
        with translate_errors("release"):
            return _claims.release(
                self._engine, self.tenant, worker, item_keys=item_keys, process=process
            )

    # -- state changes ---------------------------------------------------------------------

    def transition(
        self,
        item: WorkItem | tuple[str, str],
        state: ItemState,
        *,
        worker: str | None = None,
        error_code: str | None = None,
        refs: Mapping[str, str] | None = None,
        human_run: str | None = None,
        note: str | None = None,
    ) -> WorkItem:
        """Move an item to `state` and record it in its history.

        Args:
            item: The item (best the one `claim` returned) or ``(process, item_key)``.
            state: The new state (the same state is allowed: a history note).
            worker: Who acts; must hold the lease of an ``in_progress`` item.
            error_code: The item's error code from now on (None clears it).
            refs: Merged into the item's references.
            human_run: The Klärfall or Freigabe flow run (None keeps the one recorded).
            note: A note for the history (ids and codes, no personal data).

        Raises:
            LeaseLost: The item is ``in_progress`` under another worker; or `item` is a
                claimed item whose claim is over (another worker re-claimed it, even if it
                has finished it since).
            ItemNotFound: No such item.
        """
        with translate_errors("transition"):
            return _transition.transition(
                self._engine,
                self.tenant,
                self.lease_s,
                item,
                state,
                worker=worker,
                error_code=error_code,
                refs=refs,
                human_run=human_run,
                note=note,
            )

    # -- retention and keys ----------------------------------------------------------------

    def purge_payloads(self, *, now: datetime | None = None) -> int:
        """Delete payloads of items done or rejected longer than the retention period ago.

        Ids, states, codes, references and history stay. Returns how many were deleted.
        """
        check_time("now", now)
        with translate_errors("purge"):
            return _upkeep.purge_payloads(
                self._engine, self.tenant, self.retention, now or utcnow()
            )

    def rotate_keys(self) -> int:
        """Re-encrypt every payload with the newest key; returns how many.

        Raises:
            ApplicationError: ``payload-key`` when a payload opens with none of the keys (the
                payloads before it are rotated already; running it again is safe).
        """
        with translate_errors("rotate-keys"):
            return _upkeep.rotate_keys(self._engine, self.tenant, self._sealer)
