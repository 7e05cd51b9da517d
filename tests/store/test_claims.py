"""Claims: order, a SIGKILLed worker's lease running out, many processes claiming at once."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amtsbote.store import ItemState, WorkItemStore
from tests.store._workers import claim_all

REPO = Path(__file__).resolve().parents[2]


def test_claim_order_priority_then_deadline_then_age(store: WorkItemStore) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    later = soon + timedelta(days=5)
    store.add("p", "old-plain", b"x")
    store.add("p", "late-deadline", b"x", deadline=later)
    store.add("p", "urgent", b"x", priority=10)
    store.add("p", "young-plain", b"x")
    store.add("p", "soon-deadline", b"x", deadline=soon)
    store.add("p", "urgent-with-deadline", b"x", priority=10, deadline=later)
    store.add("q", "other-process", b"x", priority=99)
    first = store.claim("p", "w", limit=2)
    rest = store.claim("p", "w", limit=10)
    assert [i.item_key for i in first + rest] == [
        "urgent-with-deadline",
        "urgent",
        "soon-deadline",
        "late-deadline",
        "old-plain",
        "young-plain",
    ]
    assert store.claim("p", "w") == []
    assert {i.deadline for i in first + rest if i.item_key.endswith("deadline")} == {soon, later}


def test_claim_takes_only_the_asked_states_and_keys(store: WorkItemStore) -> None:
    for key in ("a", "b", "c"):
        store.add("p", key, b"x")
    store.transition(("p", "c"), ItemState.KLAERFALL)
    assert [i.item_key for i in store.claim("p", "w", limit=5, item_keys=["b", "c"])] == ["b"]
    assert store.claim("p", "w", states=[ItemState.DONE]) == []
    (review,) = store.claim("p", "w", states=[ItemState.KLAERFALL])
    assert review.item_key == "c"
    assert store.claim("p", "w", limit=0) == []


def test_a_killed_workers_item_comes_back_when_its_lease_runs_out(
    store: WorkItemStore, db_url: str, key: str
) -> None:
    store.add("p", "k", b"x")
    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.store._workers", "hold", db_url, key, store.tenant, "p", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert doomed.stdout is not None
        assert doomed.stdout.readline().strip() == "k"
        held = store.get("p", "k")
        assert held is not None and held.claimed_by == f"doomed-{doomed.pid}"
        assert store.claim("p", "survivor") == []  # the lease still runs
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        doomed.stdout.close()  # type: ignore[union-attr]
    assert held.lease_until is not None
    time.sleep(max(0.0, (held.lease_until - datetime.now(UTC)).total_seconds()) + 0.05)
    (item,) = store.claim("p", "survivor")
    assert (item.claimed_by, item.attempts) == ("survivor", 2)
    done = store.transition(item, ItemState.DONE, worker="survivor")
    assert done.state is ItemState.DONE
    notes = [h.note for h in store.history("p", "k")]
    assert notes[-2] == f"claimed after the lease of doomed-{doomed.pid} ran out"


def test_many_processes_and_threads_never_claim_one_item_twice(
    store: WorkItemStore, db_url: str, key: str, tmp_path: Path
) -> None:
    total, processes, threads = 300, 3, 4
    for n in range(total):
        store.add("p", f"item-{n:03d}", b"x")
    go = tmp_path / "go"
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=spawn) as pool:
        runs = [
            pool.submit(
                claim_all, db_url, key, store.tenant, "p", threads, str(tmp_path / f"r{n}"), str(go)
            )
            for n in range(processes)
        ]
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("r*"))) < processes and time.monotonic() < deadline:
            time.sleep(0.02)
        go.touch()  # all start claiming at once
        claimed = [pair for run in runs for pair in run.result(timeout=120)]
    per_item = Counter(item_key for item_key, _ in claimed)
    assert len(per_item) == total
    assert per_item.most_common(1)[0][1] == 1, "an item was claimed twice"
    workers = {worker for _, worker in claimed}
    assert len({w.split("-")[0] for w in workers}) == processes  # every process took part
    counts = store.counts("p")
    assert counts["done"] == total and counts["in_progress"] == 0
    assert {i.attempts for i in store.items("p")} == {1}
