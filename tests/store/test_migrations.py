"""Migrations: from an empty database, again (nothing to do), concurrently, from a wheel."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from amtsbote.store import ItemState, WorkItemStore
from amtsbote.store._engine import alembic_config, normalize_url
from amtsbote.store._schema import metadata
from tests.store._workers import upgrade_when_told
from tests.store.conftest import BACKENDS, fresh_pg_database

REPO = Path(__file__).resolve().parents[2]
TABLES = {"work_items", "work_item_payloads", "work_item_history", "alembic_version"}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
    else:
        with fresh_pg_database() as url:
            yield url


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head
    return head


def _version(url: str) -> set[str]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            assert TABLES <= set(inspect(conn).get_table_names())
            return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_again_changes_nothing(empty_url: str, key: str) -> None:
    with WorkItemStore(empty_url, [key]) as store:
        store.upgrade()
        assert _version(empty_url) == {_head()}
        store.add("p", "k1", b"payload")
        store.upgrade()  # second run: nothing to do, nothing lost
        assert _version(empty_url) == {_head()}
        assert store.counts("p")[ItemState.NEW] == 1
        assert store.payload(store.get("p", "k1")) == b"payload"  # type: ignore[arg-type]


def test_migrated_schema_is_what_the_code_expects(empty_url: str, key: str) -> None:
    with WorkItemStore(empty_url, [key]) as store:
        store.upgrade()
    engine = create_engine(normalize_url(empty_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_two_processes_upgrading_at_once_both_succeed(
    empty_url: str, key: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=spawn) as pool:
        runs = [pool.submit(upgrade_when_told, empty_url, key, str(go)) for _ in range(2)]
        go.touch()
        pids = {run.result(timeout=60) for run in runs}
    assert len(pids) == 2
    assert _version(empty_url) == {_head()}


def test_upgrade_from_the_installed_package(tmp_path: Path, key: str) -> None:
    """The wheel ships env.py and the revisions: migrate with only the installed copy."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(
        REPO / "amtsbote", src / "amtsbote", ignore=shutil.ignore_patterns("__pycache__")
    )
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(src)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if build.returncode and "No matching distribution" in build.stderr:
        pytest.skip("the build backend cannot be installed here (no package index)")
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("amtsbote-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("env.py", "script.py.mako", "versions/r0001_work_items.py"):
        assert f"amtsbote/store/migrations/{shipped}" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel installs by unpacking
    code = (
        "import sys, amtsbote.store as s\n"
        f"assert s.__file__.startswith({str(site)!r}), s.__file__\n"
        f"st = s.WorkItemStore(sys.argv[1], [{key!r}]); st.upgrade(); st.upgrade()\n"
        "print(st.add('p', 'k', b'x')[1])\n"
    )
    url = f"sqlite:///{tmp_path / 'installed.sqlite'}"
    run = subprocess.run(
        [sys.executable, "-c", code, url],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("True")
    assert _version(url) == {_head()}
