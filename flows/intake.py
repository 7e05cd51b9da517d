"""Flow ``hundesteuer-intake``: split the new applications into batches and fan them out.

Why a separate intake: one ``hundesteuer`` run works one batch in one process, so more load
needs more runs on more workers, not a bigger run. The intake lists the portal's new
submissions, cuts them into batches and starts one ``hundesteuer`` deployment run per batch
(``run_deployment``, not as a subflow: the runs belong to the work pool and any worker may
take them). The back office's licensed seats, a global concurrency limit every bot session
holds, bound how many of them log in at once, whichever worker runs them.

Exactly-once across intakes, in three layers:

1. Submissions that a waiting run already holds are left out: those of unfinished batch runs
   (scheduled, pending, running, paused) and those a clerk holds (Klärfall, Freigabe).
2. Each batch run is created with an idempotency key derived from its submission ids, so a
   repeated or concurrent intake for the same batch gets the existing run, not a second one.
   The key carries the number of earlier runs of that batch that have ended, so a batch whose
   run crashed or failed is started afresh by the next intake.
3. Every step of an item is idempotent by business key (see ``flows._item``): even two runs
   on one item would enter, file and answer it once.

A worker that dies mid-run leaves its run ``Running`` until Prefect's zombie detection (flow
run heartbeats + the automation `crash_detection_automation` sets up) marks it ``Crashed``; its
seat frees itself when its lease runs out. The next intake then finds the batch's leftover
submissions, still new in the portal because accepting is the last step, and starts them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, Literal, cast

from prefect import flow, get_run_logger, task
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
from pydantic import BaseModel, Field

from connectors.portal import PortalClient, PortalSettings
from flows._bridge import setup_logging
from flows._human import open_human_tasks
from flows.hundesteuer import HundesteuerParams

__all__ = [
    "BATCH_TAG_PREFIX",
    "INTAKE_TAG",
    "IntakeParams",
    "batch_key",
    "crash_detection_automation",
    "intake",
    "plan_batches",
]

#: Tag on every batch run the intake starts.
INTAKE_TAG = "intake"
#: Prefix of the tag naming a batch run's batch (``batch:<digest>``).
BATCH_TAG_PREFIX = "batch:"
#: Name of the automation that marks flow runs without heartbeats as crashed.
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


class IntakeParams(BaseModel):
    """What a process owner or the schedule sets for one intake."""

    batch_size: int = Field(
        10,
        ge=1,
        le=500,
        title="Anträge je Stapel",
        description="So viele Anträge bearbeitet ein Lauf von hundesteuer (ein Worker).",
    )
    max_items: int = Field(
        1000,
        ge=1,
        le=50_000,
        title="Höchstzahl Anträge",
        description="Je Abruf höchstens so viele.",
    )
    approval: Literal["auto", "manual"] = Field(
        "auto",
        title="Freigabe der Bescheide",
        description="Wird an jeden Stapel weitergegeben (siehe hundesteuer).",
    )
    sessions: int = Field(
        1,
        ge=1,
        le=8,
        title="Bot-Sitzungen je Stapel",
        description="Die Lizenzen (Sitze) begrenzen die Summe über alle Worker.",
    )
    deployment: str = Field(
        "hundesteuer/hundesteuer",
        title="Deployment der Verarbeitung",
        description="flow/deployment, das die Stapel bearbeitet.",
    )


def batch_key(submission_ids: Iterable[str]) -> str:
    """A stable digest of a batch: the same submissions give the same key, in any order."""
    joined = "\n".join(sorted(submission_ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:24]


def plan_batches(submission_ids: Sequence[str], batch_size: int) -> list[list[str]]:
    """Cut the submissions (oldest first) into batches of at most `batch_size`.

    Raises:
        ValueError: `batch_size` is below 1.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [
        list(submission_ids[i : i + batch_size]) for i in range(0, len(submission_ids), batch_size)
    ]


def _read_runs(flt: FlowRunFilter) -> list[Any]:
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_flow_runs(flow_run_filter=flt, limit=_PAGE, offset=len(runs))
            runs.extend(page)
            if len(page) < _PAGE:
                return runs


def _held_by_batch_runs() -> set[str]:
    """Submission ids of batch runs that have not ended yet."""
    runs = _read_runs(
        FlowRunFilter(
            tags=FlowRunFilterTags(all_=[INTAKE_TAG]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_UNFINISHED)),
        )
    )
    held: set[str] = set()
    for run in runs:
        params = (run.parameters or {}).get("params") or {}
        held.update(params.get("submission_ids") or [])
    return held


def _ended_runs(digest: str) -> int:
    with get_client(sync_client=True) as client:
        return client.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[BATCH_TAG_PREFIX + digest]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_ENDED)),
            )
        )


@task(name="list-new-submissions", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def list_unheld(max_items: int) -> list[str]:
    """New submissions (oldest first) that neither a batch run nor a clerk holds."""
    held = open_human_tasks() | _held_by_batch_runs()
    ids: list[str] = []
    with PortalClient(PortalSettings()) as portal:
        for ref in portal.list_new():
            if ref.submission_id in held:
                continue
            ids.append(ref.submission_id)
            if len(ids) >= max_items:
                break
    return ids


@task(name="start-batch", task_run_name="stapel-{digest}", cache_policy=NO_CACHE)
def start_batch(digest: str, batch: list[str], params: IntakeParams) -> dict[str, Any]:
    """Start (or find, by idempotency key) the run of one batch; does not wait for it."""
    attempt = _ended_runs(digest)
    run_params = HundesteuerParams(
        max_items=len(batch),
        approval=params.approval,
        sessions=params.sessions,
        submission_ids=batch,
    )
    run = cast(
        FlowRun,
        run_deployment(
            params.deployment,
            parameters={"params": run_params.model_dump(mode="json")},
            timeout=0,
            as_subflow=False,
            idempotency_key=f"hundesteuer-batch-{digest}-{attempt}",
            tags=[INTAKE_TAG, BATCH_TAG_PREFIX + digest],
        ),
    )
    return {
        "Stapel": digest,
        "Versuch": attempt + 1,
        "Anträge": len(batch),
        "Lauf": run.name,
        "Lauf-ID": str(run.id),
        "Status": run.state.name if run.state else "",
    }


@flow(name="hundesteuer-intake", log_prints=False)
def intake(params: IntakeParams | None = None) -> dict[str, Any]:
    """Fan the new Hundesteuer applications out to batch runs (see module docstring).

    Returns:
        ``{"new": <unheld new submissions>, "batches": [one row per batch run]}``.
    """
    params = params or IntakeParams()
    setup_logging()
    logger = get_run_logger()
    ids = list_unheld(params.max_items)
    rows = [
        start_batch(batch_key(batch), batch, params)
        for batch in plan_batches(ids, params.batch_size)
    ]
    logger.info("%d neue Anträge in %d Stapel(n)", len(ids), len(rows))
    if rows:
        create_table_artifact(
            key="hundesteuer-intake",
            table=rows,
            description=f"## Hundesteuer-Eingang: {len(ids)} Anträge, {len(rows)} Stapel",
        )
    return {"new": len(ids), "batches": rows}


def crash_detection_automation(heartbeat_frequency_s: int = 30) -> Automation:
    """Create (once) the automation that marks flow runs without heartbeats as ``Crashed``.

    Workers must run flows with ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` = `heartbeat_frequency_s`
    (at least 30). A run that misses heartbeats for twice that long (a killed worker, a lost
    machine) is crashed, which frees its batch for the next intake.

    Returns:
        The existing automation of that name, or the one created.
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
