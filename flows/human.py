"""Flows ``klaerfall`` and ``freigabe``: the clerk's side of the hundesteuer process.

Both are started by the batch (see `flows._human`) and wait in the Prefect UI: the run shows a
form (Prefect renders the `RunInput` model) with the facts in its description; when the clerk
submits it, the run finishes the item with the same idempotent steps the batch uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from prefect import flow, get_run_logger
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from pydantic import Field

from amtsbote import ApplicationError, BusinessRuleError, ReviewRequired, get_logger
from flows._bridge import setup_logging
from flows._services import Services, bot_session

__all__ = ["KlaerfallDecision", "Freigabe", "klaerfall", "freigabe", "WAIT_S"]

log = get_logger(__name__)
WAIT_S = 14 * 24 * 3600  # the portal would reject by itself after 14 days
RETRY_DELAYS_S = (2.0, 5.0, 15.0, 30.0)
T = TypeVar("T")


def _retrying(step: str, fn: Callable[[], T]) -> T:
    """Run a step of a human-task run, retrying `ApplicationError` (a blip must not kill a
    run a clerk is waiting for); every step is idempotent by the submission id."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            return fn()
        except ApplicationError as exc:
            if delay is None:
                raise
            log.warning("human task step retried", step=step, code=exc.code, delay_s=delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


class KlaerfallDecision(RunInput):
    """The clerk's decision on a Klärfall."""

    entscheidung: Literal["vorhandenen-verwenden", "neu-anlegen", "ablehnen"] = Field(
        title="Entscheidung",
        description=(
            "vorhandenen-verwenden: Fall beim gefundenen Steuerpflichtigen anlegen; "
            "neu-anlegen: neuen Steuerpflichtigen anlegen; ablehnen: Antrag ablehnen."
        ),
    )
    steuernummer: str = Field(
        "",
        title="Steuernummer",
        description="Bei mehreren gefundenen Steuerpflichtigen: welcher verwendet werden soll.",
    )
    begruendung: str = Field(
        "", title="Begründung", description="Bei Ablehnung: Text, den die Antragstellerin liest."
    )


class Freigabe(RunInput):
    """The clerk's approval of a notice."""

    freigeben: bool = Field(title="Bescheid freigeben")
    anmerkung: str = Field("", title="Anmerkung")


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "<br>".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value).replace("|", "\\|")


def _facts_markdown(submission_id: str, reason_code: str, facts: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {_cell(v)} |" for k, v in facts.items())
    return (
        f"### Klärfall zu Antrag `{submission_id}`\n\nGrund: `{reason_code}`\n\n"
        f"| Angabe | Wert |\n|---|---|\n{rows}\n\nBitte entscheiden Sie unten."
    )


@flow(name="klaerfall", flow_run_name="klaerfall-{submission_id}")
def klaerfall(submission_id: str, reason_code: str) -> dict[str, Any]:
    """Wait for a clerk's decision, then finish the item (register + notice + accept, or reject)."""
    setup_logging()
    logger = get_run_logger()
    services = Services.from_env()
    run_id = str(flow_run.id or "local")
    processor = services.processor(run_id)
    account = services.process.bot_accounts()[0]
    try:
        received, application = _retrying("receive", lambda: processor.receive(submission_id))

        def look() -> tuple[Any, dict[str, Any]]:
            with bot_session(services, account, run_id) as bot:
                try:
                    return processor.register(bot, application), {}
                except ReviewRequired as exc:
                    return None, exc.facts

        registration, facts = _retrying("taxpayer-lookup", look)
        if registration is not None:  # resolved meanwhile (the clerk fixed the back office)
            return _retrying(
                "finish", lambda: processor.finish(received, application, registration)
            ).__dict__
        decision = pause_flow_run(
            wait_for_input=KlaerfallDecision.with_initial_data(
                description=_facts_markdown(submission_id, reason_code, facts),
                entscheidung="vorhandenen-verwenden",
            ),
            timeout=WAIT_S,
            key=f"klaerfall-{submission_id}",
        )
        processor._audit(submission_id, "klaerfall", f"decided:{decision.entscheidung}")
        logger.info("Entscheidung: %s", decision.entscheidung)
        if decision.entscheidung == "ablehnen":
            reason = decision.begruendung.strip() or "Der Antrag konnte nicht bearbeitet werden."
            error = BusinessRuleError(reason, code="rejected-by-clerk")
            return _retrying(
                "reject", lambda: processor.reject(submission_id, received.case_id, error)
            ).__dict__
        if decision.entscheidung == "neu-anlegen":
            taxpayer = "new"
        else:
            taxpayer = decision.steuernummer.strip() or "existing"

        def enter() -> Any:
            with bot_session(services, account, run_id) as bot:
                return processor.register(bot, application, taxpayer=taxpayer)

        registration = _retrying("register", enter)
        return _retrying(
            "finish", lambda: processor.finish(received, application, registration)
        ).__dict__
    finally:
        services.close()


@flow(name="freigabe", flow_run_name="freigabe-{submission_id}")
def freigabe(submission_id: str, aktenzeichen: str) -> dict[str, Any]:
    """Wait for a clerk's approval of the notice, then archive, reply and accept."""
    setup_logging()
    services = Services.from_env()
    run_id = str(flow_run.id or "local")
    processor = services.processor(run_id)
    try:
        decision = pause_flow_run(
            wait_for_input=Freigabe.with_initial_data(
                description=(
                    f"### Freigabe des Hundesteuerbescheids {aktenzeichen}\n\n"
                    f"Antrag `{submission_id}`. Der Fall ist im Fachverfahren Steuern angelegt; "
                    "bitte prüfen Sie ihn dort und geben Sie den Bescheid frei."
                ),
                freigeben=True,
            ),
            timeout=WAIT_S,
            key=f"freigabe-{submission_id}",
        )
        if not decision.freigeben:
            processor._audit(submission_id, "approval", "declined", aktenzeichen=aktenzeichen)
            return {"item_key": submission_id, "outcome": "declined"}
        processor._audit(submission_id, "approval", "by-clerk", aktenzeichen=aktenzeichen)
        received, application = _retrying("receive", lambda: processor.receive(submission_id))
        account = services.process.bot_accounts()[0]

        def find() -> Any:
            with bot_session(services, account, run_id) as bot:
                return processor.register(bot, application)  # finds the entered case

        registration = _retrying("find-case", find)
        return _retrying(
            "finish",
            lambda: processor.finish(received, application, registration, approval="approved"),
        ).__dict__
    finally:
        services.close()
