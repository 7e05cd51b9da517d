"""Alembic environment of the work-item store.

The store runs migrations itself (`WorkItemStore.upgrade`) and hands over its open connection
in ``config.attributes["connection"]`` inside a transaction that holds the write lock (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: the advisory lock taken here), so all revisions apply as one
transaction and two processes upgrading at once run one after the other: the second finds
nothing to do. Without a connection (the ``alembic`` command line with ``sqlalchemy.url`` set)
it connects by itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, text

#: Key of the PostgreSQL advisory lock that serialises concurrent upgrades.
_LOCK_KEY = 0x616D7473  # "amts"


def _run(connection: Connection) -> None:
    """All revisions in the caller's one transaction, under the write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            _run(conn)
    finally:
        engine.dispose()


_main()
