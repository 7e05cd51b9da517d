"""A scaled-out Amtsbote on one machine: Prefect server on PostgreSQL, process workers, a town.

Used by the scale test and by ``tests/scale/measure.py``. Everything runs as in production:
the server is ``prefect server start`` on a fresh PostgreSQL database, the deployments come from
``deployments/prefect.yaml`` via ``prefect deploy``, and each worker is ``prefect worker start
--type process`` in its own process group with the town's ``AMTSBOTE_*`` environment.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

from demo import PREFECT_BIN, PrefectServer
from sandbox.seed import SeededApplication, generate_applications, seed_portal
from tests.fixtures.prefect import QUIET
from tests.flows.conftest import Musterstadt

REPO = Path(__file__).resolve().parents[2]
POOL = "amtsbote-process"  # as in deployments/prefect.yaml
SEAT_LIMIT = "fachverfahren-steuern-seats"
#: The maintenance database used to create and drop the test databases.
PG_ADMIN_DSN = os.environ.get(
    "AMTSBOTE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FINAL = {"Completed", "Failed", "Crashed", "Cancelled"}


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None if it can."""
    try:
        _run_async(_pg("SELECT 1"))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"no PostgreSQL reachable at {PG_ADMIN_DSN.split('@')[-1]}: {type(exc).__name__}"
    return None


def _run_async(coro: Any) -> Any:
    """asyncio.run in a thread of its own: the test thread may hold sync Playwright's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A uniquely named database for one run, dropped afterwards; yields the SQLAlchemy URL."""
    name = f"amtsbote_scale_{uuid.uuid4().hex[:12]}"
    _run_async(_pg(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        _run_async(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def postgres_prefect_server(home: Path, database_url: str) -> Iterator[PrefectServer]:
    """``prefect server start`` on `database_url`, with this process pointed at it."""
    settings = {
        **QUIET,
        # expired seat leases are reclaimed within seconds instead of 15 s
        "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "2",
    }
    with PrefectServer(home, database_url=database_url, settings=settings) as server:
        with server.use():
            yield server


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def prefect_cli(server: PrefectServer, env: dict[str, str], *args: str) -> str:
    """Run a ``prefect`` command against `server` from the repository root."""
    done = subprocess.run(
        [PREFECT_BIN, "--no-prompt", *args],
        env=server.environ(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"prefect {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def set_up_pool(server: PrefectServer, env: dict[str, str], seats: int) -> None:
    """Work pool, seats limit and the deployments of prefect.yaml, as the admin guide says."""
    prefect_cli(server, env, "work-pool", "create", POOL, "--type", "process")
    with get_client(sync_client=True) as client:  # = prefect gcl create <name> --limit <seats>
        client.upsert_global_concurrency_limit_by_name(SEAT_LIMIT, seats)
    prefect_cli(
        server,
        env,
        "deploy",
        "--prefect-file",
        "deployments/prefect.yaml",
        "--name",
        "hundesteuer",
        "--name",
        "intake",
    )


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def descendants(self) -> list[int]:
        """Pids of every process below the worker (flow-run subprocesses, browsers)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found: list[int] = []
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def flow_run_ids(self) -> set[str]:
        """Ids of the flow runs this worker's subprocesses execute right now."""
        ids: set[str] = set()
        for pid in self.descendants():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            for var in environ:
                if var.startswith(b"PREFECT__FLOW_RUN_ID="):
                    ids.add(var.split(b"=", 1)[1].decode())
        return ids

    def kill(self) -> None:
        """SIGKILL the worker, its process group and everything it started (a dead machine)."""
        pids = self.descendants()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@contextlib.contextmanager
def workers(
    server: PrefectServer,
    env: dict[str, str],
    count: int,
    log_dir: Path,
    limit: int = 1,
    first: int = 1,
) -> Iterator[list[Worker]]:
    """`count` process workers on the pool, each in its own process group.

    `limit` is the number of flow runs one worker runs at once (a machine's capacity); with
    the default of one, each batch run goes to a free worker.
    """
    started: list[Worker] = []
    try:
        for i in range(first, first + count):
            name = f"worker-{i}"
            log = log_dir / f"{name}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [PREFECT_BIN, "worker", "start", "--pool", POOL, "--type", "process"]
                    + ["--name", name, "--limit", str(limit)],
                    env=server.environ(env),
                    cwd=REPO,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(Worker(name, proc, log))
        yield started
    finally:
        for w in started:
            if w.proc.poll() is None:
                pids = w.descendants()
                _stop_group(w.proc)
                for pid in pids:  # flow-run subprocesses outside the worker's group
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)


def scale_env(town: Musterstadt, lease_s: float) -> dict[str, str]:
    """The environment every worker (and its flow runs) gets on top of the town's."""
    return {
        **town.env,
        "AMTSBOTE_HOME": str(REPO),
        "AMTSBOTE_HUNDESTEUER_SEAT_LEASE_S": str(lease_s),
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        "PREFECT_LOGGING_LEVEL": "INFO",  # the worker logs show what each run did
    }


def seed(town: Musterstadt, n: int, seed: int) -> list[SeededApplication]:
    """`n` applications, about a fifth of them bad; no Klärfall and no duplicate dog.

    (A duplicate's outcome would depend on which batch reaches the back office first.)
    """
    rng = random.Random(seed)
    apps = [a for a in generate_applications(n + n // 4, bad_share=0.2, rng=rng)]
    apps = [a for a in apps if a.label != "duplicate"][:n]
    return seed_portal(
        town.portal.base_url,
        len(apps),
        applications=apps,
        client_id=town.portal.sender.client_id,
        client_secret=town.portal.sender.client_secret,
        destination_id=town.portal.destination_id,
    )


def batch_runs() -> list[Any]:
    """Every flow run the intake started."""
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["intake"])), limit=200
        )


def wait_until(predicate: Any, timeout: float, what: str, step: float = 0.5) -> Any:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            states = sorted(f"{r.name}: {r.state.name if r.state else '-'}" for r in batch_runs())
            raise AssertionError(f"timed out waiting for {what}; batch runs: {states}")
        time.sleep(step)
