"""Hard kills: the process running the flow dies (SIGKILL) at the worst moments, and so does its
browser; reruns must complete the batch with every effect exactly once.

The kill points are found by watching what the outside systems show (no hooks in product code):
an item stored as a work item (``received``) but not yet ``acknowledged`` at the portal (the
intake between store and accept), a taxpayer created but no case yet (before the submit), a case
in the back office whose item has no ``entered`` audit event (after the submit, before the
confirmation was read), an item ``archived`` but not ``done`` (after the archive, during the
delivery). Latency knobs widen the windows. The browser crash kills the run's own Chromium
(found among the flow process's descendants), never a browser of anyone else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from flows.engine import BatchParams
from flows.hundesteuer import hundesteuer
from sandbox.seed import generate_applications
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt, musterstadt_env
from tests.reliability._support import (
    FAST_BOT_ENV,
    audit_events,
    check_exactly_once,
    extra_env,
    run_until_drained,
    snapshot,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

N_ITEMS = 10
#: A killed run's items come back when their lease runs out: short here, renewed while alive.
LEASE_S = 3
FLOW = (
    "from flows.engine import BatchParams\n"
    "from flows.hundesteuer import hundesteuer\n"
    "hundesteuer(BatchParams(max_items=100, sessions=1))\n"
)


@dataclass
class Kill:
    point: str
    fired: bool
    confirmed: bool
    pids: int


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", FLOW],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill_tree(proc: subprocess.Popen[bytes]) -> int:
    """SIGKILL the flow process and everything it started (as a dying machine would)."""
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for p in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    proc.wait(timeout=30)
    psutil.wait_procs(tree, timeout=10)
    return len(tree)


def _browser_of(proc: subprocess.Popen[bytes]) -> psutil.Process | None:
    """The run's Chromium main process (a descendant without ``--type=``)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    for child in children:
        with contextlib.suppress(psutil.Error):
            cmd = child.cmdline()
            if cmd and "chromium" in cmd[0] and not any(a.startswith("--type=") for a in cmd):
                return child
    return None


def _wait_for(
    proc: subprocess.Popen[bytes], condition: Callable[[], bool], timeout: float = 240
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _steps(town: Musterstadt) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in audit_events(town):
        out.setdefault(e["step"], set()).add(e["item_key"])
    return out


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Musterstadt]:
    with musterstadt_env(tmp_path_factory.mktemp("kills"), ["bot1"]) as t:
        with extra_env(t.env, {**FAST_BOT_ENV, "AMTSBOTE_STORE_LEASE_S": str(LEASE_S)}):
            yield t


def test_hard_kills_and_browser_crash_keep_exactly_once(
    prefect_server: PrefectServer, town: Musterstadt, tmp_path: Path
) -> None:
    apps = generate_applications(N_ITEMS, bad_share=0.0)
    with town.portal.sender_client() as sender:
        ids = [sender.submit_application(a.data, a.attachments)["submissionId"] for a in apps]
    env = prefect_server.environ(town.env)
    log = tmp_path / "flow.log"
    kills: list[Kill] = []

    # 0. the intake between storing the work item and accepting the submission
    def stored_not_acknowledged() -> set[str]:
        steps = _steps(town)
        return steps.get("received", set()) - steps.get("acknowledged", set())

    town.portal.set_faults(latency_ms=800)
    proc = _start(env, log)
    fired = _wait_for(proc, lambda: bool(stored_not_acknowledged()))
    n = _kill_tree(proc)
    kills.append(Kill("intake-store-before-accept", fired, bool(stored_not_acknowledged()), n))
    town.portal.set_faults(latency_ms=0)

    # 1. before the submit: a taxpayer exists whose case is not there yet
    def orphan_taxpayers() -> set[int]:
        export = town.steuer.export()
        return {t["id"] for t in export["taxpayers"]} - {c["taxpayer_id"] for c in export["cases"]}

    town.steuer.set_faults(latency_ms=300)
    proc = _start(env, log)
    fired = _wait_for(proc, lambda: bool(orphan_taxpayers()))
    n = _kill_tree(proc)
    kills.append(Kill("before-submit", fired, bool(orphan_taxpayers()), n))

    # 2. after the submit, before the confirmation was read: a case without `registered`
    def unconfirmed_cases() -> set[str]:
        refs = {c["fremdreferenz"] for c in town.steuer.export()["cases"]}
        return refs - _steps(town).get("entered", set())

    town.steuer.set_faults(latency_ms=800)
    proc = _start(env, log)
    fired = _wait_for(proc, lambda: bool(unconfirmed_cases()))
    n = _kill_tree(proc)
    kills.append(Kill("after-submit-before-confirmation", fired, bool(unconfirmed_cases()), n))
    town.steuer.set_faults(latency_ms=0)

    # 3. after the archive, before the item is done (the delivery is slow)
    def archived_not_done() -> set[str]:
        steps = _steps(town)
        return steps.get("archived", set()) - steps.get("done", set())

    town.smtp.delay_s = 0.8  # the letter's mail is slow: the kill lands while it is sent
    proc = _start(env, log)
    fired = _wait_for(proc, lambda: bool(archived_not_done()))
    n = _kill_tree(proc)
    kills.append(Kill("after-archive-before-done", fired, bool(archived_not_done()), n))
    town.smtp.delay_s = 0.0

    # 4. the browser dies mid-item; the run itself goes on
    town.steuer.set_faults(latency_ms=300)
    before = _steps(town).get("entered", set())
    proc = _start(env, log)
    browser_pid = None

    def mid_item() -> bool:
        nonlocal browser_pid
        started = _steps(town).get("entered", set()) - before
        chromium = _browser_of(proc)
        if started and chromium is not None:
            browser_pid = chromium.pid
            return True
        return False

    fired = _wait_for(proc, mid_item)
    if browser_pid is not None:
        os.kill(browser_pid, signal.SIGKILL)
    town.steuer.set_faults(latency_ms=0)
    try:
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
    kills.append(Kill("browser-crash", fired and browser_pid is not None, code == 0, 1))

    for k in kills:
        assert k.fired and k.confirmed, (k, log.read_text()[-3000:])

    # Reruns complete the batch once the killed runs' leases ran out; every effect exactly once.
    time.sleep(LEASE_S + 1)
    drained = run_until_drained(lambda: hundesteuer(BatchParams(max_items=100)), 3)
    assert drained.failed_runs == []
    check_exactly_once(town, dict.fromkeys(ids, "done")).assert_ok()
    snap = snapshot(town)
    owners = {(a.data["owner"]["familyName"], a.data["owner"]["birthDate"]) for a in apps}
    assert len(snap.taxpayers) == len(owners), "a killed run left a second taxpayer behind"
    before_rerun = snap.key()
    assert hundesteuer(BatchParams(max_items=100))["total"] == 0
    assert snapshot(town).key() == before_rerun
    print(f"\nkills: {[(k.point, k.pids) for k in kills]}")
