"""``make demo``: Musterstadt, a Prefect server and a worker on this machine, and one real run.

Why a script and not a page of instructions: the demo is the first thing anyone tries, on a
fresh machine, and it must show the whole walk (portal → bot → back office → notice → e-Akte →
reply, a Klärfall waiting for a clerk, a verifiable audit trail) with one command. It runs the
same pieces production uses — ``prefect deploy`` from ``deployments/prefect.yaml``, a process
work pool with a worker, the seats concurrency limit — only all on 127.0.0.1.

    python -m demo          stop an earlier demo, start fresh, run the process once
    python -m demo stop     stop the demo (the process groups in var/demo/demo.json)

Everything lives under ``var/demo/`` (sandbox data, Prefect home with its SQLite database, the
Amtsbote data dir, logs). Sandbox, Prefect server and worker keep running after the run, so the
Klärfall can be decided in the Prefect UI; ``make demo-stop`` ends them. Wiring the sandbox to
the framework is allowed here (and in tests and benchmarks) only.

Modules: ``_processes`` (start, record and stop the background processes), ``_setup`` (work
pool, seats limit, deployments, the run — and the one place naming the process), ``_seed``
(the applications), ``_report`` (what is printed at the end), ``_prefect_server`` (the
`PrefectServer` launcher, also used by tests, benchmarks and the scale tests).
"""

from __future__ import annotations

from demo._common import DemoError, DemoLayout
from demo._main import main
from demo._prefect_server import PREFECT_BIN, PrefectServer, PrefectServerError, free_port
from demo._processes import stop_demo

__all__ = [
    "PREFECT_BIN",
    "DemoError",
    "DemoLayout",
    "PrefectServer",
    "PrefectServerError",
    "free_port",
    "main",
    "stop_demo",
]
