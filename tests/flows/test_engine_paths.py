"""The engine's harder paths, on a real Musterstadt and a real Prefect server.

- The intake reads more new submissions than one listing page while it accepts them (offset
  paging shifts under removals), and more arrive meanwhile: none skipped, none twice.
- A `ReviewRequired` after the entry (the e-Akte holds another document under the item's key)
  reaches a clerk as a Klärfall with the engine's own German form — not a failure that
  repeats on every run.
- A refused login stops the run at once with the account's name, never retried: three runs
  with a wrong password against a back office that locks after three failures leave the
  account unlocked, having cost one failed login.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.flow_runs import resume_flow_run
from prefect.input.run_input import keyset_from_paused_state

from amtsbote.store import ItemState, WorkItemStore
from connectors.archive import EakteClient, EakteSettings
from flows.engine import BatchParams, Services
from flows.engine._intake import poll
from flows.hundesteuer import PROCESS, hundesteuer
from sandbox.seed import generate_applications
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt
from tests.reliability._support import closed_port_url, extra_env


def _file(town: Musterstadt, n: int, seed: int) -> list[str]:
    import random

    apps = generate_applications(n, bad_share=0.0, rng=random.Random(seed))
    with town.portal.sender_client() as sender:
        return [sender.submit_application(a.data, a.attachments)["submissionId"] for a in apps]


def test_intake_pages_under_removals_and_new_arrivals(
    prefect_server: PrefectServer, musterstadt: Musterstadt
) -> None:
    town = musterstadt
    first = _file(town, 23, seed=71)
    late: list[str] = []
    store = WorkItemStore.from_settings()
    store.upgrade()

    def file_late() -> None:  # more arrive once the intake has accepted its first ones
        deadline = time.monotonic() + 60
        while store.counts("hundesteuer")["new"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        late.extend(_file(town, 4, seed=72))

    later = threading.Thread(target=file_late)
    with extra_env(town.env, {"AMTSBOTE_PORTAL_PAGE_SIZE": "5"}):
        services = Services.from_env(PROCESS)
        try:
            later.start()
            report = poll.fn(services, "intake-test", 1000)
            later.join()
            again = poll.fn(services, "intake-test", 1000)  # picks up what came after the last list
        finally:
            services.close()
    ids = first + late
    stored = report.stored + again.stored
    assert Counter(stored) == Counter(ids), "every submission stored exactly once"
    subs = {s["submissionId"]: s for s in town.portal.export()["submissions"]}
    for sid in ids:
        assert subs[sid]["state"] == "accepted"
        assert subs[sid]["eventCounts"].get("accept-submission") == 1
        assert store.get("hundesteuer", sid).state == ItemState.NEW
    assert poll.fn(Services.from_env(PROCESS), "intake-test", 1000).stored == []
    # the batch then claims and finishes them (leaves the town clean for the next tests)
    done = hundesteuer(BatchParams(max_items=100, sessions=1, poll_source=False))
    assert {r["Vorgang"] for r in done["items"]} == set(ids)


def _human_run(sid: str) -> Any:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"item:{sid}"]))
        )
    return runs[0] if runs else None


def _wait(fn: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := fn():
            return found
        time.sleep(1)
    raise AssertionError("timed out")


def _paused_form(run_id: Any, pauses: int) -> str:
    def paused() -> Any:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
        if run.state and run.state.name in {"Paused", "Suspended"}:
            key = keyset_from_paused_state(run.state)
            if key["description"].endswith(f"-{pauses}-description"):
                return run
        return None

    run = _wait(paused)
    keyset = keyset_from_paused_state(run.state)
    with get_client(sync_client=True) as client:
        return str(client.read_flow_run_input(run.id, keyset["description"]))


def test_review_required_after_the_entry_reaches_a_clerk(
    prefect_server: PrefectServer, musterstadt: Musterstadt, runner: subprocess.Popen[bytes]
) -> None:
    town = musterstadt
    (sid,) = _file(town, 1, seed=73)
    with extra_env(town.env, {"AMTSBOTE_EAKTE_BASE_URL": closed_port_url()}):
        first = hundesteuer(BatchParams(max_items=10, sessions=1))
    assert {r["Vorgang"]: r["Ergebnis"] for r in first["items"]}[sid] == "failed"
    (case,) = [c for c in town.steuer.export()["cases"] if c["fremdreferenz"] == sid]
    with EakteClient(EakteSettings()) as eakte:  # someone filed another paper under its key
        eakte.put_document(case["aktenzeichen"], f"{sid}-antrag", "x.txt", "text/plain", b"x")

    second = hundesteuer(BatchParams(max_items=10, sessions=1))
    row = {r["Vorgang"]: r for r in second["items"]}[sid]
    assert (row["Ergebnis"], row["Fehlercode"]) == ("klaerfall", "archive-conflict")
    store = WorkItemStore.from_settings()
    item = store.get("hundesteuer", sid)
    assert item.state == ItemState.KLAERFALL and item.human_run
    run = _wait(lambda: _human_run(sid))
    form = _paused_form(run.id, 1)
    assert "bereits ein anderes Dokument" in form and "e-Akte" in form
    assert hundesteuer(BatchParams(max_items=10))["total"] == 0  # held by the clerk's run
    # Not cleared up yet: "erneut versuchen" ends in the same question, not in a failure.
    resume_flow_run(run.id, run_input={"entscheidung": "erneut-versuchen"}, _sync=True)
    assert "bereits ein anderes Dokument" in _paused_form(run.id, 2)
    assert store.get("hundesteuer", sid).state == ItemState.KLAERFALL
    events = [json.loads(x) for x in town.audit_path().read_text().splitlines()]
    assert [e["outcome"] for e in events if e["item_key"] == sid and e["step"] == "klaerfall"][
        :2
    ] == ["opened", "decided:enter"]


def test_a_refused_login_is_never_retried_and_locks_nothing(
    prefect_server: PrefectServer, musterstadt: Musterstadt
) -> None:
    town = musterstadt
    _file(town, 2, seed=74)
    town.steuer.unlock("bot1")
    town.steuer.set_faults(lockout_after=3)
    before = town.steuer.account_state("bot1")["failed_total"]
    wrong = {"AMTSBOTE_HUNDESTEUER_ACCOUNTS": json.dumps({"bot1": "falsch-123"})}
    try:
        with extra_env(town.env, wrong):
            states = [
                hundesteuer(BatchParams(max_items=10, sessions=1), return_state=True)
                for _ in range(3)
            ]
        for state in states:
            assert state.is_failed()
            assert "bot1" in str(state.message) and "falsch-123" not in str(state.message)
        account = town.steuer.account_state("bot1")
        assert not account["locked"]
        assert account["failed_total"] - before == 1, "one failed login over three runs"
        # the right password works again at once (its fingerprint differs: the mark is gone)
        ok = hundesteuer(BatchParams(max_items=10, sessions=1))
        assert ok["done"] == 2
    finally:
        town.steuer.set_faults(lockout_after=0)
        town.steuer.unlock("bot1")


@pytest.fixture(autouse=True)
def _quiet_faults(musterstadt: Musterstadt) -> Any:
    yield
    town = musterstadt
    town.portal.reset_faults()
    town.eakte.reset_faults()
