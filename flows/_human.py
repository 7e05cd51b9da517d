"""Human tasks: Klärfall (a clerk decides) and Freigabe (four-eyes approval of a notice).

Each is its own flow run, started from the batch with `run_deployment` (not as a subflow, so
the batch goes on) and waiting in the Prefect UI with a form (`pause_flow_run` with a
`RunInput`). Tags ``amtsbote-human-task`` and ``submission:<id>`` mark the run, and an
idempotency key per submission makes a second request return the same run; the batch skips
submissions that have such a run still waiting, so the next run does not pick an item twice.

The runs carry ids only as parameters; the facts a clerk needs are fetched by the run itself
and shown in the form's description (the Prefect UI is the clerk's authorised view).
"""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment

from amtsbote import ApplicationError, ReviewRequired, get_logger

__all__ = ["HUMAN_TAG", "open_human_tasks", "request_review", "request_approval"]

log = get_logger(__name__)
HUMAN_TAG = "amtsbote-human-task"
_PAGE = 200  # the API's largest page
_WAITING = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED]


def open_human_tasks() -> set[str]:
    """Submission ids that a Klärfall or approval run still holds."""
    flt = FlowRunFilter(
        tags=FlowRunFilterTags(all_=[HUMAN_TAG]),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_WAITING)),
    )
    held: set[str] = set()
    offset = 0
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(flow_run_filter=flt, limit=_PAGE, offset=offset)
            for run in runs:
                held.update(
                    t.removeprefix("submission:") for t in run.tags if t.startswith("submission:")
                )
            if len(runs) < _PAGE:
                return held
            offset += _PAGE


_DEAD = [StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]


def _dead_runs(kind: str, submission_id: str) -> int:
    """How many earlier runs of this human task ended without finishing the item."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[HUMAN_TAG, kind, f"submission:{submission_id}"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_DEAD)),
            ),
            limit=_PAGE,
        )
    return len(runs)


def _start(deployment: str, kind: str, submission_id: str, parameters: dict[str, Any]) -> str:
    """Start the human-task run, or return the one already started for this submission.

    The idempotency key counts the earlier runs that died (failed, crashed, cancelled), so a
    repeated request returns the waiting run, but a dead one is replaced by a fresh run.
    """
    try:
        attempt = _dead_runs(kind, submission_id)
        run: FlowRun = run_deployment(  # type: ignore[assignment,call-arg]  # _sync: a FlowRun
            deployment,
            parameters=parameters,
            timeout=0,
            as_subflow=False,
            tags=[HUMAN_TAG, kind, f"submission:{submission_id}"],
            idempotency_key=f"{kind}-{submission_id}-{attempt}",
            flow_run_name=f"{kind}-{submission_id}",
            _sync=True,  # a bot thread may hold sync Playwright's event loop
        )
    except Exception as exc:  # noqa: BLE001 - Prefect API errors vary; the item is retried
        raise ApplicationError(
            f"{kind}-Lauf konnte nicht gestartet werden ({type(exc).__name__})",
            code=f"{kind}-start-failed",
        ) from exc
    log.info("human task started", kind=kind, item_key=submission_id, flow_run_id=str(run.id))
    return str(run.id)


def request_review(services: Any, submission_id: str, exc: ReviewRequired) -> str:
    """Open a Klärfall run for the submission and tell the clerks (ids only)."""
    run_id = _start(
        services.process.review_deployment,
        "klaerfall",
        submission_id,
        {"submission_id": submission_id, "reason_code": exc.code},
    )
    services.notify_review(submission_id, exc.code, run_id)
    return run_id


def request_approval(services: Any, submission_id: str, registration: Any) -> str:
    """Open an approval run: the notice waits for a clerk (four eyes, § 35a VwVfG)."""
    return _start(
        services.process.approval_deployment,
        "freigabe",
        submission_id,
        {"submission_id": submission_id, "aktenzeichen": registration.aktenzeichen},
    )
