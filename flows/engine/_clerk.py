"""The bodies of ``<process>-klaerfall`` and ``<process>-freigabe`` (see `flows.engine._human`).

Both wait in the Prefect UI for a clerk's form, then claim the work item from its waiting
state and finish it with the same idempotent steps the batch uses (`Walker`). A notice the
clerk does not approve becomes a Klärfall of its own (``approval-declined``): the clerk corrects
the case in the back office and has it tried again — which asks for approval again — or rejects
the application with a letter.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any, Literal

from prefect import get_run_logger
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from pydantic import Field

from amtsbote import BusinessRuleError, ReviewRequired
from amtsbote.store import ItemState, WorkItem
from flows._bridge import setup_logging
from flows.engine._human import request_approval, request_review, retrying
from flows.engine._process import ClerkDecision, Process, Review
from flows.engine._services import Services, bot_session
from flows.engine._walk import ItemResult, Walker

__all__ = ["Freigabe", "WAIT_S", "run_freigabe", "run_klaerfall"]

_MAX_ROUNDS = 5  # questions to the clerk before the run gives the item back to `reconcile`
WAIT_S = 14 * 24 * 3600  # two weeks, then the run times out and `reconcile` starts a new one
DECLINED = "approval-declined"


class Klaerfall(RunInput):
    """The engine's own Klärfall form, for a case the process's form is not made for."""

    entscheidung: Literal["erneut-versuchen", "ablehnen"] = Field(
        title="Entscheidung",
        description="erneut versuchen: wenn der Fall dort geklärt ist; ablehnen: mit Begründung.",
    )
    begruendung: str = Field(
        "", title="Begründung", description="Bei Ablehnung: Text, den die Antragstellerin liest."
    )


def _describe(exc: ReviewRequired, links: dict[str, str]) -> str:
    return (
        f"### Klärfall zu Vorgang `{links['Vorgang']}`\n\n{exc.message}\n\n"
        f"Der Antrag liegt in der [e-Akte]({links['e-Akte']}). Bitte klären Sie den Fall "
        "dort und entscheiden Sie dann unten."
    )


def _decide(answer: Klaerfall) -> ClerkDecision:
    if answer.entscheidung == "ablehnen":
        reason = answer.begruendung.strip() or "Der Antrag konnte nicht bearbeitet werden."
        return ClerkDecision(reject=reason)
    return ClerkDecision()


GENERIC_REVIEW = Review(Klaerfall, _describe, _decide, {"entscheidung": "erneut-versuchen"})


class Freigabe(RunInput):
    """The clerk's approval of a notice."""

    freigeben: bool = Field(title="Bescheid freigeben")
    anmerkung: str = Field("", title="Anmerkung")


def _direct(fn: Any) -> Any:
    return fn()


def _links(services: Services, item_key: str, akte: str) -> dict[str, str]:
    base = services.archive.settings.base_url.rstrip("/")
    return {"e-Akte": f"{base}/akten/{akte}", "Vorgang": item_key}


def _claim(services: Services, run_id: str, item_key: str, state: ItemState) -> WorkItem | None:
    got = services.store.claim(
        services.process.name, run_id, item_keys=[item_key], states=[state], limit=1
    )
    return got[0] if got else None


@contextlib.contextmanager
def _held(
    services: Services, run_id: str, item_key: str, state: ItemState
) -> Iterator[WorkItem | None]:
    """The item claimed from `state`; given back to it if the step fails (it is retried)."""
    item = _claim(services, run_id, item_key, state)
    try:
        yield item
    except BaseException:
        if item is not None:
            services.store.release(run_id, item_keys=[item_key], process=services.process.name)
        raise


def _not_waiting(item_key: str, item: WorkItem | None) -> dict[str, Any]:
    return {
        "item_key": item_key,
        "outcome": "not-waiting",
        "state": item.state.value if item else None,
    }


def run_klaerfall(process: Process[Any, Any], item_key: str, reason_code: str) -> dict[str, Any]:
    """Show the clerk what differs, wait for the decision, then finish the item."""
    setup_logging()
    logger = get_run_logger()
    services = Services.from_env(process)
    run_id = str(flow_run.id or "local")
    account = services.settings.bot_accounts()[0]
    walker = Walker(
        services,
        run_id,
        request_review=lambda key, code, facts: run_id,  # this run is the Klärfall
        request_approval=lambda key, ref, _: request_approval(services, key, ref),
    )
    try:
        item = services.store.get(process.name, item_key)
        if item is None or item.state != ItemState.KLAERFALL:
            return _not_waiting(item_key, item)
        received = retrying("load", lambda: walker.load(item))
        akte = f"{process.name.upper()}-{item_key}"
        retrying("file", lambda: walker.archive(received, akte, []))

        def look() -> ItemResult | ReviewRequired | None:
            with _held(services, run_id, item_key, ItemState.KLAERFALL) as claimed:
                if claimed is None:
                    return None
                return _look(claimed)

        def _look(claimed: WorkItem) -> ItemResult | ReviewRequired:
            if DECLINED in (claimed.error_code, reason_code):  # nothing clears by itself
                walker._transition(
                    claimed, ItemState.KLAERFALL, error_code=DECLINED, human_run=run_id
                )
                return ReviewRequired(
                    "Der Bescheid wurde bei der Freigabe nicht freigegeben. Korrigieren Sie den "
                    f"Fall im {process.bot.system} und versuchen Sie es erneut (der Bescheid "
                    "geht dann wieder zur Freigabe), oder lehnen Sie den Antrag ab.",
                    code=DECLINED,
                )
            with bot_session(services, account, run_id) as bot:
                try:
                    return walker._walk(claimed, received, _direct, bot, "approved", None)
                except ReviewRequired as exc:
                    walker._transition(
                        claimed, ItemState.KLAERFALL, error_code=exc.code, human_run=run_id
                    )
                    return exc

        def finish(decision: ClerkDecision) -> dict[str, Any]:
            with _held(services, run_id, item_key, ItemState.KLAERFALL) as claimed:
                if claimed is None:
                    return _not_waiting(item_key, services.store.get(process.name, item_key))
                return _finish(claimed, decision)

        def _finish(claimed: WorkItem, decision: ClerkDecision) -> dict[str, Any]:
            if decision.reject is not None:
                error = BusinessRuleError(decision.reject, code="rejected-by-clerk")
                return walker.settle(
                    claimed, received, lambda: walker.reject(claimed, received, error)
                ).__dict__
            # A declined notice goes back to approval once the case is corrected.
            approval = "manual" if DECLINED in (claimed.error_code, reason_code) else "approved"
            with bot_session(services, account, run_id) as bot:
                return walker.settle(
                    claimed,
                    received,
                    lambda: walker._walk(
                        claimed, received, _direct, bot, approval, decision.option
                    ),
                ).__dict__

        for round_ in range(1, _MAX_ROUNDS + 1):
            found = retrying("look", look)
            if found is None:
                return _not_waiting(item_key, services.store.get(process.name, item_key))
            if isinstance(found, ItemResult):  # resolved meanwhile (e.g. in the back office)
                return found.__dict__
            own = process.review
            review = own if own is not None and own.handles(found.code) else GENERIC_REVIEW
            answer = pause_flow_run(
                wait_for_input=review.form.with_initial_data(
                    description=review.describe(found, _links(services, item_key, akte)),
                    **review.initial,
                ),
                timeout=WAIT_S,
                key=f"klaerfall-{item_key}-{round_}",
            )
            decision = review.decide(answer)
            verdict = "reject" if decision.reject else "enter"
            walker.audit(item_key, "klaerfall", f"decided:{verdict}", code=found.code)
            logger.info("Entscheidung: %s", "ablehnen" if decision.reject else "übernehmen")
            result = retrying("finish", functools.partial(finish, decision))
            if result.get("outcome") != ItemState.KLAERFALL.value:
                return result
            # still unclear (e.g. the conflict is not cleared up yet): ask again
        return _not_waiting(item_key, services.store.get(process.name, item_key))
    finally:
        services.close()


def run_freigabe(process: Process[Any, Any], item_key: str, aktenzeichen: str) -> dict[str, Any]:
    """Wait for a clerk's approval of the notice, then archive, deliver, done."""
    setup_logging()
    services = Services.from_env(process)
    run_id = str(flow_run.id or "local")
    walker = Walker(services, run_id)
    try:
        item = services.store.get(process.name, item_key)
        if item is None or item.state != ItemState.AWAITING_APPROVAL:
            return _not_waiting(item_key, item)
        decision = pause_flow_run(
            wait_for_input=Freigabe.with_initial_data(
                description=(
                    f"### Freigabe: {process.title}, Aktenzeichen {aktenzeichen}\n\n"
                    f"Vorgang `{item_key}`. Der Fall ist im {process.bot.system} angelegt; "
                    "bitte prüfen Sie ihn dort und geben Sie den Bescheid frei."
                ),
                freigeben=True,
            ),
            timeout=WAIT_S,
            key=f"freigabe-{item_key}",
        )

        def finish() -> dict[str, Any]:
            with _held(services, run_id, item_key, ItemState.AWAITING_APPROVAL) as claimed:
                if claimed is None:
                    return _not_waiting(item_key, services.store.get(process.name, item_key))
                return _approve(claimed)

        def _approve(claimed: WorkItem) -> dict[str, Any]:
            if not decision.freigeben:
                walker.audit(item_key, "approval", "declined", aktenzeichen=aktenzeichen)
                walker.request_review = lambda key, code, facts: request_review(services, key, code)
                declined = ReviewRequired(
                    f"Bescheid {aktenzeichen} nicht freigegeben.", code=DECLINED
                )
                result = walker.to_clerk(claimed, declined)
                return {"item_key": item_key, "outcome": "declined", "klaerfall": result.human_run}
            walker.audit(item_key, "approval", "by-clerk", aktenzeichen=aktenzeichen)
            account = services.settings.bot_accounts()[0]
            with bot_session(services, account, run_id) as bot:
                return walker.work(claimed, _direct, bot, approval="approved").__dict__

        return retrying("finish", finish)
    finally:
        services.close()
