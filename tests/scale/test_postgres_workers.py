"""Scale-out on one machine: Prefect on PostgreSQL, two process workers, two seats, a worker dies.

What an admin relies on when running Amtsbote on several machines:

- the intake stores and accepts 30 applications as work items in a work-item store on
  PostgreSQL (technically broken ones rejected at the portal) and fans them out to batch runs;
  repeating it starts no second run;
- two workers share the runs, and the back office never sees more simultaneous bot sessions
  than the seats limit allows (its own counter, ``sessions.max_seen``);
- a worker killed with SIGKILL mid-run (with its flow-run process and browsers) leaves a run
  that Prefect's heartbeat detection marks ``Crashed``; its seats and its claimed work items
  come back when their leases expire; the next intake starts the batch's leftovers, another
  worker finishes them, and every application ends up entered, filed and answered (or
  rejected) exactly once.

Skipped only where no PostgreSQL is reachable (``AMTSBOTE_TEST_POSTGRES_DSN``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from amtsbote import verify_trail
from amtsbote.store import ItemState, WorkItemStore, new_key
from flows.engine import IntakeParams, crash_detection_automation
from flows.hundesteuer import hundesteuer_intake as intake
from tests.fixtures.prefect import PrefectServer
from tests.flows._town import EXPECTED
from tests.flows.conftest import Musterstadt, musterstadt_env
from tests.reliability._support import check_exactly_once, extra_env
from tests.scale._cluster import (
    FINAL,
    SEAT_LIMIT,
    batch_runs,
    fresh_database,
    postgres_prefect_server,
    postgres_unreachable,
    scale_env,
    seed,
    set_up_pool,
    wait_until,
    workers,
)

pytestmark = pytest.mark.timeout(900)  # a loaded machine is slow; a quiet one needs ~2 min

SEATS = 2
ITEMS = 30
BATCH = 10
#: Back-office sessions end this long after login (the bots log in again), shorter than what
#: is left of a lease when its holder dies, so a dead worker's sessions are gone before its
#: seats are handed out again.
SESSION_LIFETIME_S = 15.0
LEASE_S = 80.0
#: A claimed work item's lease (renewed every third of it while its run lives): a dead
#: worker's items come back well before Prefect marks its run crashed.
ITEM_LEASE_S = 15.0

_unreachable = postgres_unreachable()
if _unreachable:
    pytest.skip(f"scale test needs PostgreSQL: {_unreachable}", allow_module_level=True)


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    with (
        fresh_database() as url,
        postgres_prefect_server(tmp_path_factory.mktemp("prefect-pg"), url) as server,
    ):
        yield server


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Musterstadt]:
    with musterstadt_env(
        tmp_path_factory.mktemp("town-scale"),
        ["bot1", "bot2"],
        session_lifetime_s=SESSION_LIFETIME_S,
    ) as t:
        with fresh_database() as url:
            store_env = {
                "AMTSBOTE_STORE_URL": url.replace("+asyncpg", "+psycopg"),
                "AMTSBOTE_STORE_KEYS": new_key(),
                "AMTSBOTE_STORE_LEASE_S": str(ITEM_LEASE_S),
            }
            with extra_env(t.env, store_env):
                WorkItemStore.from_settings().upgrade()
                yield t


def _runs_by_id() -> dict[str, Any]:
    return {str(r.id): r for r in batch_runs()}


def _state(run: Any) -> str:
    return run.state.name if run.state else ""


def test_two_workers_seat_limit_and_a_dying_worker(
    pg_server: PrefectServer, town: Musterstadt, tmp_path: Path
) -> None:
    env = scale_env(town, LEASE_S)
    set_up_pool(pg_server, env, SEATS)
    crash_detection_automation(heartbeat_frequency_s=30)
    seeded = seed(town, ITEMS, seed=8)
    expected = {s.ref["submissionId"]: EXPECTED[s.label] for s in seeded}
    store = WorkItemStore.from_settings()

    def ended() -> set[str]:
        items = store.items("hundesteuer", states=[ItemState.DONE, ItemState.REJECTED])
        return {i.item_key for i in items}

    params = IntakeParams(batch_size=BATCH, approval="auto", sessions=2)

    started = time.monotonic()

    def phase(what: str) -> None:
        print(f"\n[{time.monotonic() - started:5.1f} s] {what}", flush=True)

    with workers(pg_server, env, 2, tmp_path) as (w1, w2):
        first = intake(params)
        # Broken business rules are accepted and refused by letter: every application is stored
        # (the seeder makes no technically broken ones; those are in tests/reliability).
        assert first["stored"] + first["rejected"] == ITEMS and first["rejected"] == 0
        assert first["new"] == first["stored"]
        n_batches = -(-first["new"] // BATCH)
        assert len(first["batches"]) == n_batches
        # A repeated intake finds every work item held by a batch run: no second run.
        assert intake(params)["new"] == 0
        assert len(batch_runs()) == n_batches

        # Kill a worker while its run is mid-batch: some of its items done, not all.
        def mid_run() -> tuple[Any, str] | None:
            runs = _runs_by_id()
            finished = ended()
            for w in (w1, w2):
                for rid in w.flow_run_ids():
                    batch = runs[rid].parameters["params"]["item_keys"]
                    done = len(set(batch) & finished)
                    if 2 <= done < len(batch) - 2:
                        return w, rid
            return None

        victim, _ = wait_until(mid_run, 300, "a run in the middle of its batch", 0.3)
        killed_runs = victim.flow_run_ids()
        victim.kill()
        phase(f"killed {victim.name} running {len(killed_runs)} batch run(s)")
        survivor = w2 if victim is w1 else w1
        killed_at = time.monotonic()
        runs = _runs_by_id()
        killed_batches = {
            sid for rid in killed_runs for sid in runs[rid].parameters["params"]["item_keys"]
        }

        # Prefect marks the dead run Crashed once its heartbeats stop (zombie detection).
        wait_until(
            lambda: all(_state(_runs_by_id()[rid]) == "Crashed" for rid in killed_runs),
            150,
            "the killed run crashed",
            2,
        )
        crash_detected_s = time.monotonic() - killed_at
        phase("killed run(s) marked Crashed")
        # The next intake starts the dead batch's leftovers (its claims' leases ran out), and a
        # replacement worker joins; the other batch runs go on meanwhile.
        leftovers = killed_batches - ended()
        time.sleep(ITEM_LEASE_S)  # a lease renewed just before the kill runs out
        rerun = intake(params)
        assert leftovers and rerun["new"] == len(leftovers)
        assert intake(params)["new"] == 0  # and once is enough
        with workers(pg_server, env, 1, tmp_path, first=3):
            wait_until(
                lambda: all(_state(r) in FINAL for r in batch_runs()),
                240,
                "all batch runs ended",
                1,
            )
            phase("all batch runs ended")
        assert survivor.proc.poll() is None
    elapsed = time.monotonic() - started

    # Every run but the killed one completed.
    states = {str(r.id): _state(r) for r in batch_runs()}
    assert {states.pop(rid) for rid in killed_runs} == {"Crashed"}
    assert set(states.values()) == {"Completed"}, states

    # Exactly once: back office, portal, e-Akte; the store says the same.
    check_exactly_once(town, expected).assert_ok()
    for sid, outcome in expected.items():
        item = store.get("hundesteuer", sid)
        assert (item.state.value if item else "rejected") == outcome, sid
    steuer = town.steuer.export()

    # The seats limit held across workers, and no slot leaked.
    max_seen = steuer["sessions"]["max_seen"]
    assert 1 <= max_seen <= SEATS
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(SEAT_LIMIT)
    assert limit.active_slots == 0
    assert verify_trail(town.audit_path()).ok

    print(
        f"\nscale: {ITEMS} items, 2 workers, {SEATS} seats, max sessions seen {max_seen}; "
        f"{len(killed_runs)} killed run(s) crashed after {crash_detected_s:.0f} s, "
        f"{len(leftovers)} leftovers redone; total {elapsed:.0f} s"
    )
