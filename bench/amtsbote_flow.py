"""Variants 4 and 5, the full flow: ``hundesteuer`` on a local Prefect server, 1, 2 or 4 sessions.

Per item the flow does far more than the bot: portal fetch + decrypt + validate, the bot's
registration, notice rendering, archive, reply, accept, audit events, one Prefect task run.
Each round seeds a batch into the portal (not timed) and runs one flow run over exactly that
batch; per-item time is the flow run's wall time / batch size (start, canary and logins
included), and Prefect's task durations give the per-item distribution.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench._data import AKTENZEICHEN, Applications
from bench._town import Town
from sandbox.seed import seed_portal

__all__ = ["FlowRound", "FlowWorker"]


@dataclass
class FlowRound:
    """One flow run: wall time, per-item task times and the Aktenzeichen per submission."""

    sessions: int
    run_s: float
    task_ms: list[float]
    aktenzeichen: dict[str, str]


class FlowWorker:
    """Drives the flow process (`bench._flow_worker`) and seeds its batches."""

    def __init__(self, town: Town, env: dict[str, str], log: Path) -> None:
        self.town = town
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self._log = open(self.log, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench._flow_worker"],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def seed(self, apps: Applications, n: int) -> list[str]:
        """File `n` fresh applications to the portal; their submission ids."""
        p = self.town.info["portal"]
        seeded = seed_portal(
            p["url"],
            n,
            applications=apps.generated(n),
            client_id=p["sender_id"],
            client_secret=p["sender_secret"],
            destination_id=p["destination_id"],
        )
        return [s.ref["submissionId"] for s in seeded]

    def run(self, submission_ids: list[str], sessions: int) -> FlowRound:
        """One flow run over `submission_ids`; every item must end accepted with an Aktenzeichen."""
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"sessions": sessions, "submission_ids": submission_ids}))
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            tail = self.log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"flow process ended:\n{tail}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"flow run {answer['state']}: {answer['error']}")
        rows = {r["Vorgang"]: r for r in answer["items"]}
        bad = [sid for sid in submission_ids if rows.get(sid, {}).get("Ergebnis") != "done"]
        if bad:
            raise RuntimeError(f"{len(bad)} items not accepted, e.g. {rows.get(bad[0])}")
        akz = {sid: rows[sid]["Aktenzeichen"] for sid in submission_ids}
        assert all(AKTENZEICHEN.match(a) for a in akz.values()), "no Aktenzeichen"
        return FlowRound(sessions, answer["run_s"], answer["task_ms"], akz)

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
