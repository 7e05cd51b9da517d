"""The database underneath: one SQLAlchemy engine, write transactions, migrations, errors.

SQLite is set up so several processes can share one file: WAL journal (readers never block
the writer), a busy timeout (a writer waits for the lock instead of failing at once), and every
write transaction opened with ``BEGIN IMMEDIATE``, which takes the write lock before the first
read, so a read-then-write (a claim, a transition) cannot be overtaken by another process.
PostgreSQL needs none of that: writes lock the rows they touch (``FOR UPDATE``, claims with
``SKIP LOCKED``).

`translate_errors` is the store's edge: an unreachable or locked database becomes
``ApplicationError(code="store-unavailable")`` (retryable), a database without the tables
``ApplicationError(code="store-schema")``; statement parameters are never
put into error messages (``hide_parameters``), so no payload or key reaches a log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from amtsbote._errors import ApplicationError
from amtsbote._logging import get_logger

__all__ = ["build_engine", "normalize_url", "write", "read", "translate_errors", "upgrade"]

log = get_logger("amtsbote.store")

#: Execution option read by the SQLite ``begin`` hook: how to open the transaction.
_BEGIN = "amtsbote_begin"

_SYNC_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}


def normalize_url(url: str) -> URL:
    """The URL with a synchronous driver the package ships (psycopg 3 for PostgreSQL)."""
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"work-item store: unsupported database {parsed.get_backend_name()!r}")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError("work-item store: SQLite needs a file (several connections share it)")
    return parsed


def build_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An engine with a connection pool, shared by all threads of the process."""
    parsed = normalize_url(url)
    common: dict[str, Any] = {"hide_parameters": True, "pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed, pool_size=10, max_overflow=20, connect_args={"connect_timeout": 10}, **common
        )
    engine = create_engine(
        parsed,
        pool_size=10,
        max_overflow=20,
        connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
        **common,
    )
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver's own BEGIN handling off: we emit ours
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextlib.contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes: committed at the end, rolled back on an error."""
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN: "IMMEDIATE"})
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A transaction that only reads (one consistent snapshot)."""
    with engine.connect() as conn, conn.begin():
        yield conn


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Turn "the database is not there or too busy" into a retryable `ApplicationError`."""
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        if _missing_table(exc.orig):
            log.warning("store-not-migrated", action=action)
            raise ApplicationError(
                "Der Arbeitsvorrat hat noch keine Tabellen: amtsbote store upgrade ausführen",
                code="store-schema",
            ) from exc
        if isinstance(exc, ProgrammingError):
            raise
        _unavailable(action, exc)
    except (InterfaceError, PoolTimeout) as exc:
        _unavailable(action, exc)


def _missing_table(orig: BaseException | None) -> bool:
    # SQLite says so in words, PostgreSQL by SQLSTATE 42P01 (undefined_table)
    return "no such table" in str(orig) or getattr(orig, "sqlstate", None) == "42P01"


def _unavailable(action: str, exc: Exception) -> NoReturn:
    cause = getattr(exc, "orig", None) or exc
    log.warning("store-unavailable", action=action, error=type(cause).__name__)
    raise ApplicationError(
        f"Arbeitsvorrat nicht erreichbar ({action}: {type(cause).__name__})",
        code="store-unavailable",
    ) from exc


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration pointing at the migrations inside this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision (nothing happens when it is there)."""
    with write(engine) as conn:
        command.upgrade(alembic_config(conn), "head")
