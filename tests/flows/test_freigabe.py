"""Four eyes: notices wait for a clerk's Freigabe; a declined one becomes a Klärfall.

Real Prefect server, ``flows.serve`` runner, real Chromium and back office. With approval
``manual`` the batch enters the cases and stops each item in ``awaiting_approval`` with a
Freigabe run paused in the UI. An approved notice is filed and the item is done; a declined one
opens a Klärfall run (not a dead end); when the clerk has it tried again, the notice goes to
Freigabe again — never out without one — and is approved the second time.
"""

from __future__ import annotations

import random
import subprocess
import time
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.sorting import FlowRunSort
from prefect.flow_runs import resume_flow_run

from amtsbote.store import ItemState, WorkItemStore
from flows.engine import BatchParams
from flows.hundesteuer import hundesteuer
from sandbox.seed import generate_applications, seed_portal
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt


def _runs(item_key: str, kind: str) -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"item:{item_key}", kind])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )


def _paused(item_key: str, kind: str, count: int, timeout: float = 120) -> Any:
    """The item's `count`-th run of `kind`, once it waits for the clerk."""
    deadline = time.monotonic() + timeout
    while True:
        runs = _runs(item_key, kind)
        if len(runs) >= count:
            run = runs[count - 1]
            if run.state and run.state.name in {"Paused", "Suspended"}:
                return run
        assert time.monotonic() < deadline, f"no paused {kind} run #{count} for {item_key}"
        time.sleep(1)


def _ended(run_id: UUID, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            if run.state and run.state.is_final():
                return run.state.name
            assert time.monotonic() < deadline, f"run stuck in {run.state and run.state.name}"
            time.sleep(1)


def _state(store: WorkItemStore, key: str) -> ItemState:
    item = store.get("hundesteuer", key)
    assert item is not None, key
    return item.state


def test_approved_notice_is_done_and_a_declined_one_asks_a_clerk_then_approval_again(
    prefect_server: PrefectServer, musterstadt: Musterstadt, runner: subprocess.Popen[bytes]
) -> None:
    town = musterstadt
    apps = generate_applications(2, bad_share=0.0, rng=random.Random(23))
    seeded = seed_portal(
        town.portal.base_url,
        len(apps),
        applications=apps,
        client_id=town.portal.sender.client_id,
        client_secret=town.portal.sender.client_secret,
        destination_id=town.portal.destination_id,
    )
    approve, decline = (s.ref["submissionId"] for s in seeded)

    state = hundesteuer(BatchParams(max_items=10, approval="manual", sessions=1), return_state=True)
    report = state.result(_sync=True)
    outcomes = {row["Vorgang"]: row["Ergebnis"] for row in report["items"]}
    assert outcomes == {approve: "awaiting_approval", decline: "awaiting_approval"}
    store = WorkItemStore.from_settings()
    cases_before = len(town.steuer.export()["cases"])

    # Approved: filed and done, no second case in the back office.
    first = _paused(approve, "freigabe", 1)
    resume_flow_run(first.id, run_input={"freigeben": True, "anmerkung": ""}, _sync=True)
    assert _ended(first.id) == "Completed"
    assert _state(store, approve) == ItemState.DONE

    # Declined: the item is a Klärfall with a run waiting for a clerk, not a dead end.
    refused = _paused(decline, "freigabe", 1)
    resume_flow_run(refused.id, run_input={"freigeben": False, "anmerkung": ""}, _sync=True)
    assert _ended(refused.id) == "Completed"
    item = store.get("hundesteuer", decline)
    assert item is not None and item.state == ItemState.KLAERFALL
    assert item.error_code == "approval-declined"
    klaerfall = _paused(decline, "klaerfall", 1)
    assert item.human_run == str(klaerfall.id)
    assert _state(store, decline) == ItemState.KLAERFALL  # waiting did not send anything

    # Tried again after the correction: back to Freigabe, not out without one.
    resume_flow_run(
        klaerfall.id,
        run_input={"entscheidung": "erneut-versuchen", "begruendung": ""},
        _sync=True,
    )
    assert _ended(klaerfall.id) == "Completed"
    assert _state(store, decline) == ItemState.AWAITING_APPROVAL
    second = _paused(decline, "freigabe", 2)
    resume_flow_run(second.id, run_input={"freigeben": True, "anmerkung": ""}, _sync=True)
    assert _ended(second.id) == "Completed"
    assert _state(store, decline) == ItemState.DONE
    assert len(town.steuer.export()["cases"]) == cases_before  # each case entered once
