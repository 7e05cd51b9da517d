"""Fixtures of the store tests: each test on an SQLite file and on PostgreSQL.

PostgreSQL tests get one fresh database per test module (created through the maintenance
database ``AMTSBOTE_TEST_POSTGRES_DSN``, dropped afterwards) and a tenant of their own inside
it, so tests of one module never see each other's items. Where no PostgreSQL is reachable they
are skipped; the SQLite half runs everywhere.
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from amtsbote.store import WorkItemStore, new_key

PG_ADMIN_DSN = os.environ.get(
    "AMTSBOTE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@functools.cache
def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None if it can."""
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at {PG_ADMIN_DSN.split('@')[-1]}: {type(exc).__name__}"
    return None


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty database; yields its URL and drops it afterwards."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"amtsbote_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An SQLite file of this test, or this module's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store(db_url: str, key: str, tenant: str) -> Iterator[WorkItemStore]:
    """A migrated store with a tenant of its own."""
    with WorkItemStore(db_url, [key], tenant=tenant) as s:
        s.upgrade()
        yield s
