"""``<process>-intake``: poll the source, then fan the claimable work items out to batch runs.

One batch run works one batch in one process, so more load needs more runs on more workers,
not a bigger run. The intake stores and acknowledges new items (`flows.engine._intake`), then
cuts the claimable work items into batches and starts one ``<process>`` deployment run per
batch (``run_deployment``, not as a subflow: any worker of the pool may take it). The back
office's licensed seats, a global concurrency limit every bot session holds, bound how many
of them log in at once.

Exactly once across intakes, in three layers:

1. Items a waiting batch run already names are left out (scheduled, pending, running runs).
2. Each batch run is created with an idempotency key derived from its item keys and the
   number of its earlier runs that ended, so a repeated intake gets the existing run, and a
   batch whose run crashed is started afresh.
3. A batch run *claims* its items in the work-item store with a lease: never two workers on
   one item, and a killed worker's items come back when its lease runs out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.automations import Automation
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

from amtsbote.store import ItemState
from flows._bridge import setup_logging
from flows.engine._intake import poll
from flows.engine._params import BatchParams, IntakeParams
from flows.engine._process import Process
from flows.engine._services import Services
from flows.engine._watch import watch

__all__ = [
    "BATCH_TAG_PREFIX",
    "INTAKE_TAG",
    "batch_key",
    "claimable",
    "crash_detection_automation",
    "plan_batches",
    "run_intake",
]

INTAKE_TAG = "intake"
BATCH_TAG_PREFIX = "batch:"
CRASH_DETECTION_NAME = "amtsbote-crash-zombie-flow-runs"
_UNFINISHED = [
    StateType.SCHEDULED,
    StateType.PENDING,
    StateType.RUNNING,
    StateType.PAUSED,
    StateType.CANCELLING,
]
_ENDED = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
_PAGE = 200


def batch_key(item_keys: Iterable[str]) -> str:
    """A stable digest of a batch: the same items give the same key, in any order."""
    return hashlib.sha256("\n".join(sorted(item_keys)).encode()).hexdigest()[:24]


def plan_batches(item_keys: Sequence[str], batch_size: int) -> list[list[str]]:
    """Cut the items (oldest first) into batches of at most `batch_size`.

    Raises:
        ValueError: `batch_size` is below 1.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [list(item_keys[i : i + batch_size]) for i in range(0, len(item_keys), batch_size)]


def claimable(services: Services, limit: int) -> list[str]:
    """Keys of items a batch may claim: new, failed, or held under a lease that ran out."""
    store, name = services.store, services.process.name
    now = datetime.now(UTC)
    keys = [
        i.item_key for i in store.items(name, states=[ItemState.NEW, ItemState.FAILED], limit=limit)
    ]
    keys += [
        i.item_key
        for i in store.items(name, states=[ItemState.IN_PROGRESS], limit=limit)
        if i.lease_until is None or i.lease_until < now
    ]
    return keys[:limit]


def _read_runs(flt: FlowRunFilter) -> list[Any]:
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_flow_runs(flow_run_filter=flt, limit=_PAGE, offset=len(runs))
            runs.extend(page)
            if len(page) < _PAGE:
                return runs


def _held_by_batch_runs(process: str) -> set[str]:
    runs = _read_runs(
        FlowRunFilter(
            tags=FlowRunFilterTags(all_=[INTAKE_TAG, f"process:{process}"]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_UNFINISHED)),
        )
    )
    held: set[str] = set()
    for run in runs:
        params = (run.parameters or {}).get("params") or {}
        held.update(params.get("item_keys") or [])
    return held


def _ended_runs(digest: str) -> int:
    with get_client(sync_client=True) as client:
        return client.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[BATCH_TAG_PREFIX + digest]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_ENDED)),
            )
        )


@task(name="start-batch", task_run_name="stapel-{digest}", cache_policy=NO_CACHE)
def start_batch(
    process: str, digest: str, batch: list[str], params: IntakeParams
) -> dict[str, Any]:
    """Start (or find, by idempotency key) the run of one batch; does not wait for it."""
    attempt = _ended_runs(digest)
    run_params = BatchParams(
        max_items=len(batch),
        approval=params.approval,
        sessions=params.sessions,
        item_keys=batch,
        poll_source=False,
    )
    run = cast(
        FlowRun,
        run_deployment(
            params.deployment or f"{process}/{process}",
            parameters={"params": run_params.model_dump(mode="json")},
            timeout=0,
            as_subflow=False,
            idempotency_key=f"{process}-batch-{digest}-{attempt}",
            tags=[INTAKE_TAG, f"process:{process}", BATCH_TAG_PREFIX + digest],
        ),
    )
    return {
        "Stapel": digest,
        "Versuch": attempt + 1,
        "Vorgänge": len(batch),
        "Lauf": run.name,
        "Lauf-ID": str(run.id),
        "Status": run.state.name if run.state else "",
    }


def run_intake(process: Process[Any, Any], params: IntakeParams, run_id: str) -> dict[str, Any]:
    """Body of ``<process>-intake`` (see module docstring).

    Returns:
        ``{"stored", "rejected", "held_at_source": <waiting for a key>, "new": <claimable
        items fanned out>, "batches": [rows], "queue": {state: count}}``.
    """
    setup_logging()
    logger = get_run_logger()
    services = Services.from_env(process)
    try:
        report = poll(services, run_id, params.max_items)
        watch(services, list(report.held.values()))
        held = _held_by_batch_runs(process.name)
        keys = [k for k in claimable(services, params.max_items) if k not in held]
        rows = [
            start_batch(process.name, batch_key(batch), batch, params)
            for batch in plan_batches(keys, params.batch_size)
        ]
        logger.info("%d Vorgänge in %d Stapel(n)", len(keys), len(rows))
        if rows:
            create_table_artifact(
                key=f"{process.name}-intake",
                table=rows,
                description=f"## {process.title}: Eingang {len(keys)} Vorgänge, {len(rows)} Stapel",
            )
        return {
            "stored": len(report.stored),
            "rejected": len(report.rejected),
            "held_at_source": len(report.held),
            "new": len(keys),
            "batches": rows,
            "queue": services.store.counts(process.name),
        }
    finally:
        services.close()


def crash_detection_automation(heartbeat_frequency_s: int = 30) -> Automation:
    """Create (once) the automation that marks flow runs without heartbeats as ``Crashed``.

    Workers must run flows with ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` = `heartbeat_frequency_s`
    (at least 30). A run that misses heartbeats for twice that long (a killed worker, a lost
    machine) is crashed, which frees its batch for the next intake.
    """
    try:
        # _sync: the caller's thread may hold an event loop (e.g. sync Playwright's)
        found = Automation.read(name=CRASH_DETECTION_NAME, _sync=True)  # type: ignore[call-overload]
        return cast(Automation, found)
    except ValueError:
        pass
    automation = Automation(
        name=CRASH_DETECTION_NAME,
        description="Flow-Läufe ohne Herzschlag (Worker verloren) als Crashed markieren.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=2 * heartbeat_frequency_s),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message="Keine Herzschläge mehr: Worker oder Rechner ausgefallen.",
            )
        ],
    )
    return cast(Automation, automation.create(_sync=True))  # type: ignore[call-arg]
