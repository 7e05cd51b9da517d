"""Code that runs in other processes during the store tests (spawned, or ``python -m``).

- `claim_all`: several threads claim from one process until nothing is left, finishing each
  item, and report what they claimed (the concurrency test starts several of these);
- ``python -m tests.store._workers hold URL KEY TENANT PROCESS LEASE_S``: claims one item,
  prints its key and then sleeps, to be SIGKILLed like a crashed worker.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

import structlog

from amtsbote.store import ItemState, WorkItemStore


def _quiet() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def upgrade_when_told(url: str, key: str, go: str) -> str:
    """Wait for the file `go`, then migrate; returns the pid (two of these race)."""
    _quiet()
    with WorkItemStore(url, [key]) as store:
        while not Path(go).exists():
            time.sleep(0.005)
        store.upgrade()
    return str(os.getpid())


def claim_all(
    url: str, key: str, tenant: str, process: str, threads: int, ready: str, go: str
) -> list[tuple[str, str]]:
    """Claim in `threads` threads until the queue is empty; returns (item_key, worker) pairs."""
    _quiet()
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    with WorkItemStore(url, [key], tenant=tenant) as store:

        def work(n: int) -> None:
            worker = f"p{os.getpid()}-t{n}"
            try:
                while True:
                    batch = store.claim(process, worker, limit=3)
                    if not batch:
                        return
                    with lock:
                        claimed.extend((item.item_key, worker) for item in batch)
                    for item in batch:
                        store.transition(item, ItemState.DONE, worker=worker)
            except BaseException as exc:  # reported to the test below
                errors.append(exc)

        store.counts()  # connect before the start signal
        Path(ready).touch()
        while not Path(go).exists():
            time.sleep(0.005)
        pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    if errors:
        raise errors[0]
    return claimed


def _hold(url: str, key: str, tenant: str, process: str, lease_s: str) -> None:
    _quiet()
    store = WorkItemStore(url, [key], tenant=tenant)
    items = store.claim(process, f"doomed-{os.getpid()}", lease_s=float(lease_s))
    print(" ".join(item.item_key for item in items) or "-", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        _hold(*sys.argv[2:7])
