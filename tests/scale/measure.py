"""Throughput of the scaled-out set-up with 1 and with 2 workers (run by hand, not by pytest).

    .venv/bin/python -m tests.scale.measure --items 40 --batch 10 --seats 2 --sessions 1

Each round gets a fresh town, a fresh PostgreSQL database and Prefect server, seeds the
applications, runs the intake and times until every batch run has ended. Prints items per
minute per worker count and the back office's highest number of simultaneous sessions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from flows.intake import IntakeParams, intake
from tests.flows.conftest import musterstadt_env
from tests.scale._cluster import (
    FINAL,
    batch_runs,
    fresh_database,
    postgres_prefect_server,
    scale_env,
    seed,
    set_up_pool,
    wait_until,
    workers,
)


def measure(worker_count: int, items: int, batch: int, seats: int, sessions: int) -> None:
    with tempfile.TemporaryDirectory(prefix="amtsbote-measure-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "prefect").mkdir()
        with (
            musterstadt_env(tmp / "town", ["bot1", "bot2", "bot3", "bot4"]) as town,
            fresh_database() as url,
            postgres_prefect_server(tmp / "prefect", url) as server,
        ):
            env = scale_env(town, lease_s=60)
            set_up_pool(server, env, seats)
            seed(town, items, seed=3)
            with workers(server, env, worker_count, tmp) as _:
                started = time.monotonic()
                intake(IntakeParams(batch_size=batch, approval="auto", sessions=sessions))
                wait_until(
                    lambda: all(r.state and r.state.name in FINAL for r in batch_runs()),
                    1800,
                    "all batch runs ended",
                    1,
                )
                elapsed = time.monotonic() - started
            states = [r.state.name for r in batch_runs() if r.state]
            max_seen = town.steuer.export()["sessions"]["max_seen"]
            print(
                f"{worker_count} worker(s): {items} items in {elapsed:.1f} s = "
                f"{items / elapsed * 60:.1f} items/min; runs {states}; "
                f"max sessions {max_seen} (seats {seats})",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seats", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    for count in args.workers:
        measure(count, args.items, args.batch, args.seats, args.sessions)


if __name__ == "__main__":
    main()
