"""CPU seconds of a process tree, for the CPU per item of each variant.

On a machine of two cores the CPU an item costs, not its wall time, limits how many sessions
run side by side. Each variant is metered while it alone works: the benchmark process (the
Python side of the in-process variants) plus its child processes (Playwright's driver, the
browsers, chromedriver) without the trees that belong to the back office (the sandbox) or to the
flow variants; a flow variant is metered as its flow process with its browsers plus the Prefect
server. Idle processes of the other variants add a little noise (a few ms per second).
"""

from __future__ import annotations

from collections.abc import Iterable

import psutil

__all__ = ["tree_cpu_s"]


def _cpu(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
    except psutil.Error:  # exited in between: its CPU is no longer readable
        return 0.0
    # children_*: the CPU of descendants that have exited and been waited for (a flow run's
    # browser closes before the run ends); live descendants are counted on their own.
    return float(times.user + times.system + times.children_user + times.children_system)


def tree_cpu_s(roots: Iterable[int], *, exclude: Iterable[int] = ()) -> float:
    """User + system CPU seconds of `roots` and their descendants, without `exclude`'s trees."""
    skip: set[int] = set()
    for pid in exclude:
        try:
            proc = psutil.Process(pid)
            skip |= {pid, *(c.pid for c in proc.children(recursive=True))}
        except psutil.Error:
            continue
    total = 0.0
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        total += sum(_cpu(p) for p in procs if p.pid not in skip)
    return total
