"""Human tasks: Klärfall (a clerk decides) and Freigabe (four-eyes approval of a notice).

Each is its own flow run, started from the batch with `run_deployment` (not as a subflow, so
the batch goes on) and waiting in the Prefect UI with a form (`pause_flow_run` with a
`RunInput`). The work item's state (``klaerfall`` / ``awaiting_approval``) keeps it out of
every batch until the run has finished it; an idempotency key per item makes a second request
return the same run, and a run that died is replaced (`reconcile`).

Runs carry ids only as parameters, and the form says what differs and why — never the
citizen's data: the Prefect UI and its database are open to every Prefect user. The facts sit
where the clerk's own account governs access: the back office and the e-Akte, where the
application is filed before the clerk is asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment

from amtsbote import ApplicationError, get_logger
from amtsbote.store import ItemState
from flows.engine._services import Services

__all__ = ["HUMAN_TAG", "reconcile", "retrying", "start_human_task"]

log = get_logger(__name__)
HUMAN_TAG = "amtsbote-human-task"
RETRY_DELAYS_S = (2.0, 5.0, 15.0, 30.0)
_DEAD = {StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.COMPLETED}
# ended without finishing its item (a run that finished it moved the item on)
_BROKEN = {StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.COMPLETED}
_PAGE = 200
T = TypeVar("T")


def retrying(step: str, fn: Callable[[], T]) -> T:
    """Run a step of a human-task run, retrying `ApplicationError`: a blip must not kill a
    run a clerk is waiting for (every step is idempotent by the item key)."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            return fn()
        except ApplicationError as exc:
            if delay is None:
                raise
            log.warning("human task step retried", step=step, code=exc.code, delay_s=delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _tags(process: str, kind: str, item_key: str) -> list[str]:
    return [HUMAN_TAG, kind, f"process:{process}", f"item:{item_key}"]


def _ended_runs(process: str, kind: str, item_key: str) -> int:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=_tags(process, kind, item_key))
            ),
            limit=_PAGE,
        )
    return sum(1 for r in runs if r.state is not None and r.state.type in _DEAD)


def start_human_task(
    services: Services, kind: str, item_key: str, parameters: dict[str, Any]
) -> str:
    """Start the Klärfall/Freigabe run of an item, or return the one already waiting.

    The idempotency key counts the item's earlier runs of this kind that have ended, so a
    repeated request returns the waiting run, but a dead one is replaced by a fresh run.

    Raises:
        ApplicationError: Prefect did not take the run (the item is retried).
    """
    process = services.process.name
    deployment = (
        services.settings.review_deployment
        if kind == "klaerfall"
        else services.settings.approval_deployment
    )
    try:
        attempt = _ended_runs(process, kind, item_key)
        run: FlowRun = run_deployment(  # type: ignore[assignment,call-arg]  # _sync: a FlowRun
            deployment,
            parameters=parameters,
            timeout=0,
            as_subflow=False,
            tags=_tags(process, kind, item_key),
            idempotency_key=f"{process}-{kind}-{item_key}-{attempt}",
            flow_run_name=f"{kind}-{item_key}",
            _sync=True,  # a bot thread may hold sync Playwright's event loop
        )
    except Exception as exc:  # noqa: BLE001 - Prefect API errors vary; the item is retried
        raise ApplicationError(
            f"{kind}-Lauf konnte nicht gestartet werden ({type(exc).__name__})",
            code=f"{kind}-start-failed",
        ) from exc
    log.info("human task started", kind=kind, item_key=item_key, flow_run_id=str(run.id))
    return str(run.id)


def request_review(services: Services, item_key: str, reason_code: str) -> str:
    """Open a Klärfall run for the item and tell the clerks (ids and a link only)."""
    run_id = start_human_task(
        services, "klaerfall", item_key, {"item_key": item_key, "reason_code": reason_code}
    )
    services.notify_review(item_key, reason_code, run_id)
    return run_id


def request_approval(services: Services, item_key: str, aktenzeichen: str) -> str:
    """Open a Freigabe run: the notice waits for a clerk (four eyes, § 35a VwVfG)."""
    return start_human_task(
        services, "freigabe", item_key, {"item_key": item_key, "aktenzeichen": aktenzeichen}
    )


def _run_state(run_id: str | None) -> StateType | None:
    if not run_id:
        return None
    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a run that cannot be read counts as gone
        return None
    return run.state.type if run.state else None


def reconcile(services: Services) -> int:
    """Give every item a clerk should hold a live run: restart those whose run has ended.

    A Klärfall or Freigabe run can die (a crash, a cancel in the UI) and leave its item
    waiting for nobody. Returns how many runs were started again.
    """
    store, name = services.store, services.process.name
    restarted = 0
    for state, kind in (
        (ItemState.KLAERFALL, "klaerfall"),
        (ItemState.AWAITING_APPROVAL, "freigabe"),
    ):
        for item in store.items(name, states=[state]):
            if item.error_code == "approval-declined":
                continue  # waits for a clerk in the back office, not for a form
            run_state = _run_state(item.human_run)
            if run_state is not None and run_state not in _BROKEN:
                continue  # still waiting for the clerk
            if kind == "klaerfall":
                run = request_review(services, item.item_key, item.error_code or "klaerfall")
            else:
                run = request_approval(services, item.item_key, item.refs.get("aktenzeichen", ""))
            fresh = store.get(name, item.item_key)
            if fresh is not None and fresh.state == state:
                store.transition(fresh, state, human_run=run, note="human task restarted")
            restarted += 1
    return restarted
