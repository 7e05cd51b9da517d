"""The Prefect-server launcher the demo, the tests, the benchmark and the scale tests share.

What its users rely on: it answers on the URLs it names, a client pointed at it by `use()` or
by `environ()` really talks to it (and to its database: SQLite under its home, or PostgreSQL),
stopping it leaves no process of its group behind, and a failed start says why and leaves
nothing running — a taken fixed port is never mistaken for a healthy server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from demo import PrefectServer, PrefectServerError
from tests.fixtures.prefect import QUIET
from tests.scale._cluster import _run_async, fresh_database, postgres_unreachable

_CHILD = """
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    print(client.api_url, len(client.read_work_pools()))
"""


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _create_pool(server: PrefectServer, name: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    with server.use(), get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        return [p.name for p in client.read_work_pools()]


def test_sqlite_server_serves_its_clients_and_stops_its_whole_group(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    with PrefectServer(home, settings=QUIET) as server:
        assert server.healthy()
        assert server.api_url == f"{server.ui_url}/api"
        assert httpx.get(server.ui_url, timeout=10).status_code == 200  # the UI
        assert server.env["PREFECT_HOME"] == str(home)
        assert server.env["PREFECT_API_URL"] == server.api_url
        assert server.env["PREFECT_LOGGING_LEVEL"] == "WARNING"
        assert _create_pool(server, "launcher-pool") == ["launcher-pool"]
        # A child process finds the server (and the pool) from the environment alone.
        child = subprocess.run(
            [sys.executable, "-c", _CHILD],
            env=server.environ({"PREFECT_HOME": str(tmp_path / "child-home")}),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert child.stdout.split() == [f"{server.api_url}/", "1"]
        assert (home / "prefect.db").stat().st_size > 0
        pgid = server.pid
    assert server.process is not None and server.process.returncode is not None
    assert _group_gone(pgid)
    assert not server.healthy()
    assert server.log.exists()
    server.stop()  # a second stop is harmless


def test_a_taken_fixed_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        server = PrefectServer(tmp_path / "prefect", port=port)
        with pytest.raises(PrefectServerError, match=rf"127\.0\.0\.1:{port} is taken"):
            server.start()
    assert server.process is None


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    unopenable = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/prefect.db"
    server = PrefectServer(tmp_path / "prefect", database_url=unopenable, start_timeout=90)
    with pytest.raises(PrefectServerError, match=r"exited with code \d+(.|\n)*unable to open"):
        server.start()
    assert server.process is not None and server.process.returncode is not None


@pytest.mark.postgres
def test_postgres_server_on_a_throwaway_database(tmp_path: Path) -> None:
    unreachable = postgres_unreachable()
    if unreachable:
        pytest.skip(unreachable)

    async def pools(url: str) -> list[str]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [r["name"] for r in await conn.fetch("SELECT name FROM work_pool")]
        finally:
            await conn.close()

    with fresh_database() as url:
        with PrefectServer(tmp_path / "prefect", database_url=url, settings=QUIET) as server:
            assert server.env["PREFECT_API_DATABASE_CONNECTION_URL"] == url
            assert _create_pool(server, "pg-pool") == ["pg-pool"]
            assert _run_async(pools(url)) == ["pg-pool"]  # in PostgreSQL, not in a file
            pgid = server.pid
        assert _group_gone(pgid)
        assert not (tmp_path / "prefect" / "prefect.db").exists()
