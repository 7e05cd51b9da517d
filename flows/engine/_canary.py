"""The canary: before a batch touches any item, check that the back office still looks as
the bot expects. A changed screen stops the run (`CanaryFailed`, naming screen and field); a
screen that did not load says nothing about the layout and is an outage, retried."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from amtsbote import ApplicationError
from bots import CanaryFailed, CanaryReport

__all__ = ["CanaryFailed", "canary", "only_application_errors"]

_RECHECKS = 2


def only_application_errors(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only when a system misbehaved, never for bad data, a changed screen or a bug."""
    try:
        state.result()
    except CanaryFailed:
        return False
    except ApplicationError:
        return True
    except Exception:  # noqa: BLE001 - any other failure: do not retry
        return False
    return False


def _best_of(first: CanaryReport, again: CanaryReport) -> CanaryReport:
    """Per screen the better check: a screen that loaded once tells whether its fields exist."""
    best = {s.screen: s for s in first.screens}
    for s in again.screens:
        if s.screen not in best or best[s.screen].unreachable is not None:
            best[s.screen] = s
    return CanaryReport(list(best.values()))


@task(
    name="canary",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[2, 5, 10],
    retry_condition_fn=only_application_errors,
)
def canary(bot: Any, system: str) -> None:
    """Open every screen the bot uses and check every field; raise `CanaryFailed` if one is gone.

    Runs in the first bot session of a run (its browser, login and seat), before any item.
    Screens that did not load are checked again (up to twice) before the verdict.

    Raises:
        CanaryFailed: A screen loaded but lacks a field or landmark (the back office changed).
        ApplicationError: Screens did not load and none changed (code
            ``backoffice-unavailable``): an outage, retried by the task.
    """
    report = bot.check()
    for _ in range(_RECHECKS):
        if report.ok or report.changed:
            break
        report = _best_of(report, bot.check())
    if report.ok:
        return
    down = report.unreachable()
    if not report.changed:
        reasons = "; ".join(f"{screen}: {why}" for screen, why in down.items())
        raise ApplicationError(
            f"{system} nicht erreichbar ({reasons}).", code="backoffice-unavailable"
        )
    named = "; ".join(
        f"{screen}: {', '.join(labels)}" for screen, labels in report.missing().items()
    )
    also = f" Nicht erreichbar: {', '.join(down)}." if down else ""
    raise CanaryFailed(
        f"{system} hat sich geändert, es fehlt: {named}. Es wurden keine Daten verarbeitet." + also,
        report,
        code="canary",
    )
