"""``python -m demo [up|stop]``: the demo's steps in order, and its command line."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import demo
from demo._common import PREFECT_URL, ROOT, DemoError, DemoLayout, say, step
from demo._processes import (
    Processes,
    check_ports_free,
    demo_processes,
    demo_server,
    start_prefect_server,
    start_sandbox,
    start_worker,
    stop_demo,
)
from demo._report import report
from demo._seed import APPLICATIONS, seed
from demo._setup import FLOW, POOL, SEAT_LIMIT, SEATS, amtsbote_env, create_pool_and_seats, deploy
from demo._setup import run_once as run_process


def up(layout: DemoLayout) -> int:
    """Stop an earlier demo, start everything fresh, run the process once and report.

    Returns:
        0 when the run completed, 1 otherwise (the services keep running for a look).
    """
    started = time.monotonic()
    if layout.pid_file.exists() or demo_processes(layout):
        say("Beende die laufende Demo …")
        stop_demo(layout, quiet=True)
    check_ports_free()
    if layout.base.exists():
        shutil.rmtree(layout.base)
    for d in (layout.logs, layout.sandbox, layout.prefect_home, layout.data_dir):
        d.mkdir(parents=True, exist_ok=True)

    server = demo_server(layout)
    # This process talks to the demo server too; Prefect reads its settings at import. Every
    # process started from here carries PREFECT_HOME, which is how `stop_demo` finds them.
    os.environ.update(server.env)
    os.environ["AMTSBOTE_HOME"] = str(ROOT)
    base_env = {**os.environ}
    run_env = {**base_env, **amtsbote_env(layout)}
    procs = Processes(layout)
    try:
        with step("1/6 Musterstadt starten (Portal, Fachverfahren Steuern, e-Akte)"):
            start_sandbox(layout, procs, base_env)
        with step(f"2/6 Prefect-Server starten ({PREFECT_URL})"):
            start_prefect_server(server, procs)
        with step(f"3/6 {APPLICATIONS + 1} Hundesteuer-Anträge einreichen"):
            labels = seed()
        say("    " + ", ".join(f"{k}: {v}" for k, v in sorted(labels.items())))
        with step(f"4/6 Work-Pool '{POOL}', Sitzplatz-Limit '{SEAT_LIMIT}' ({SEATS}), Deployments"):
            create_pool_and_seats()
            deploy(layout, run_env)
        with step("5/6 Worker starten"):
            start_worker(procs, {**run_env, "PREFECT_WORKER_QUERY_SECONDS": "3"})
    except BaseException:
        say("Start fehlgeschlagen; beende die gestarteten Dienste …")
        stop_demo(layout, quiet=True)
        raise

    with step(f"6/6 Lauf '{FLOW}' mit Freigabe=auto, bis zum Ende"):
        run = run_process()
    return report(layout, run, run_env, started)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m demo [up|stop]``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m demo", description=demo.__doc__)
    parser.add_argument("command", nargs="?", choices=("up", "stop"), default="up")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "demo", help="demo state")
    args = parser.parse_args(argv)
    layout = DemoLayout(args.dir.resolve())
    if args.command == "stop":
        stop_demo(layout)
        return 0
    try:
        return up(layout)
    except DemoError as exc:
        print(f"Demo fehlgeschlagen: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130
