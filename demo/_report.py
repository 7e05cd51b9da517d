"""The report at the end of ``make demo``: what the run did, where to look, how to log in.

It reads what a process owner would read — the run's summary artifact, the Klärfall runs in
Prefect, ``amtsbote audit verify`` — never the framework's internals. How the run's items are
counted is one function, `count_outcomes`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo._common import (
    EAKTE_PORT,
    HOST,
    MAIL_PORT,
    PORTAL_PORT,
    PREFECT_URL,
    ROOT,
    STEUER_PORT,
    DemoLayout,
    say,
)
from demo._setup import FLOW as PROCESS
from demo._setup import KLAERFALL_TAG, RESULT_COLUMN, SUMMARY_ARTIFACT

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

#: Outcomes of the summary artifact and how the report names them, in print order.
_OUTCOMES = {"done": "verarbeitet (Bescheid)", "rejected": "abgelehnt", "klaerfall": "Klärfall"}


@dataclass(frozen=True)
class RunCounts:
    """What a run did, as the report prints it.

    Attributes:
        rows: (label, value) in print order, e.g. ``("abgelehnt", "3")``.
        klaerfall: How many items wait for a clerk (their runs are listed with links).
    """

    rows: list[tuple[str, str]]
    klaerfall: int


def count_outcomes(run: FlowRun) -> RunCounts | None:
    """Count the items of a completed `run` by outcome (None if the run did not complete).

    Args:
        run: The flow run, as it ended.
    """
    if not (run.state and run.state.is_completed()):
        return None
    results = _summary_rows(run.id)
    counts = Counter(str(r.get(RESULT_COLUMN)) for r in results)
    rows = [("Anträge gesamt", str(len(results)))]
    rows += [(label, str(counts.get(key, 0))) for key, label in _OUTCOMES.items()]
    others = {k: v for k, v in counts.items() if k not in _OUTCOMES}
    if others:
        rows.append(("sonstige", str(others)))
    return RunCounts(rows, counts.get("klaerfall", 0))


def _summary_rows(run_id: Any) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                key=ArtifactFilterKey(any_=[SUMMARY_ARTIFACT]),
            )
        )
    if not artifacts:
        return []
    data = artifacts[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    return list(rows or [])


def _klaerfall_runs() -> list[FlowRun]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[KLAERFALL_TAG]))
            )
        )


def _wait_klaerfall_paused(expected: int, timeout: float = 90) -> list[FlowRun]:
    """The Klärfall runs, once `expected` of them wait for a clerk (or after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = _klaerfall_runs()
        paused = [r for r in runs if r.state and r.state.name in {"Paused", "Suspended"}]
        if len(paused) >= expected or time.monotonic() > deadline:
            return runs
        time.sleep(2)


def _audit_verify(env: dict[str, str]) -> tuple[bool, str]:
    result = subprocess.run(
        [sys.executable, "-m", "flows", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def _queue_counts(env: dict[str, str]) -> str:
    """The work queue per state, as an admin reads it (``amtsbote store counts``)."""
    result = subprocess.run(
        [sys.executable, "-m", "flows", "store", "counts", "--process", PROCESS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return (result.stdout + result.stderr).rstrip()


def _clerk_login() -> str:
    from sandbox.steuer import SteuerConfig

    accounts = SteuerConfig().accounts
    user = "sachbearbeiter" if "sachbearbeiter" in accounts else next(iter(accounts))
    return f"Benutzer {user}, Passwort {accounts[user]}"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def report(layout: DemoLayout, run: FlowRun, env: dict[str, str], started: float) -> int:
    """Print what `run` did, the URLs with logins, evidence, audit trail and logs.

    Args:
        layout: Where the demo lives.
        run: The demo's run, as it ended.
        env: The flow runs' environment (``amtsbote audit verify`` reads the same data dir).
        started: ``time.monotonic()`` when the demo began.

    Returns:
        0 when the run completed and the audit trail verifies, 1 otherwise.
    """
    counts = count_outcomes(run)
    klaerfall = _wait_klaerfall_paused(counts.klaerfall) if counts else []
    ok_audit, audit_text = _audit_verify(env)
    queue = _queue_counts(env)
    steuer_login = _clerk_login()
    elapsed = time.monotonic() - started

    say()
    say(f"Lauf {run.name}: {run.state.name if run.state else 'unbekannt'}")
    if counts:
        for label, value in counts.rows:
            say(f"  {label + ':':<22} {value}")
    elif run.state and run.state.message:
        say(f"  {run.state.message}")
    say()
    say("Arbeitsvorrat (amtsbote store counts):")
    for line in queue.splitlines():
        say(f"  {line}")
    say()
    say(f"Prefect-UI:          {PREFECT_URL}")
    say(f"  dieser Lauf:       {PREFECT_URL}/runs/flow-run/{run.id}")
    for r in klaerfall:
        st = r.state.name if r.state else "?"
        say(f"  Klärfall ({st}): {PREFECT_URL}/runs/flow-run/{r.id}")
    say(f"Fachverfahren:       http://{HOST}:{STEUER_PORT}/login  ({steuer_login})")
    say(f"Serviceportal:       http://{HOST}:{PORTAL_PORT}/hundesteuer  (Bürgerformular)")
    say(f"e-Akte (API):        http://{HOST}:{EAKTE_PORT}")
    say(f"Webmail (Bürger):    http://{HOST}:{MAIL_PORT}  (Bescheide per E-Mail)")
    say(f"Belege (Evidence):   {_rel(layout.data_dir / 'evidence')}")
    say(f"Audit-Trail:         {_rel(layout.data_dir / 'audit' / 'audit.jsonl')}")
    say(f"amtsbote audit verify: {audit_text}")
    say(f"Logs:                {_rel(layout.logs)}")
    say()
    say(f"Fertig nach {elapsed:.0f} s. Portal, Fachverfahren, e-Akte, Prefect-Server und Worker")
    say("laufen weiter (der Klärfall wartet in der UI). Beenden mit: make demo-stop")
    return 0 if counts is not None and ok_audit else 1
