"""Flow ``hundesteuer``: carry new dog-tax applications from the portal into Fachverfahren Steuern.

One flow run handles a batch (a flow run per item would cost about a second each):

    canary (stop before touching data if the back office changed)
    → list new submissions (skipping items a clerk holds: open Klärfall or approval runs)
    → per item a task, in 1..n bot sessions (each its own browser, account and seat):
      fetch + decrypt + validate → register (search-before-create) → notice → approval
      → archive → reply → accept; within a session the items overlap (pipeline), so the
      browser does not wait for the portal or the e-Akte
    → a table artifact with one row per item (ids, outcome, Aktenzeichen, error code).

Outcomes: bad data is rejected with a problem the citizen reads (no retry); a `ReviewRequired`
opens a Klärfall run that waits for a clerk in the Prefect UI; an `ApplicationError` is retried
with backoff and, after the last try, the item stays in the portal for the next run.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from amtsbote import AmtsboteError, ApplicationError, get_logger
from bots import BotAccount, CanaryReport, ScreenCheck
from flows._bridge import setup_logging
from flows._human import open_human_tasks, request_approval, request_review
from flows._item import ItemProcessor, ItemResult, failure
from flows._pipeline import run_pipeline
from flows._services import Services, bot_session

__all__ = ["HundesteuerParams", "CanaryFailed", "hundesteuer"]

log = get_logger(__name__)
BERLIN = ZoneInfo("Europe/Berlin")


class HundesteuerParams(BaseModel):
    """What a process owner sets when starting a run from the Prefect UI."""

    max_items: int = Field(
        50, ge=1, le=5000, title="Höchstzahl Anträge", description="So viele neue Anträge je Lauf."
    )
    approval: Literal["auto", "manual"] = Field(
        "auto",
        title="Freigabe der Bescheide",
        description=(
            "auto: Bescheid geht ohne menschliche Prüfung hinaus (nur wo § 35a VwVfG das "
            "erlaubt); manual: jeder Bescheid wartet auf die Freigabe einer Sachbearbeiterin."
        ),
    )
    dry_run: bool = Field(
        False,
        title="Probelauf",
        description="Nur prüfen (Canary, Abruf, Entschlüsselung, Validierung); nichts anlegen.",
    )
    sessions: int = Field(
        1,
        ge=1,
        le=8,
        title="Parallele Bot-Sitzungen",
        description="Höchstens so viele wie Lizenzen.",
    )
    submission_ids: list[str] | None = Field(
        None,
        title="Nur diese Anträge",
        description="Leer: alle neuen Anträge; sonst nur diese Submission-IDs (Teil-Stapel).",
    )


class CanaryFailed(ApplicationError):
    """The back office changed: a screen or field the bot needs is missing. Nothing was touched."""

    default_code = "canary-failed"


def _run_name() -> str:
    params = flow_run.parameters.get("params") or {}
    approval = params.get("approval", "auto") if isinstance(params, dict) else "auto"
    return f"hundesteuer-{datetime.now(BERLIN):%Y-%m-%d-%H%M}-{approval}"


def _only_application_errors(task: Any, task_run: Any, state: Any) -> bool:
    """Retry an item only when a system misbehaved, never for bad data or a bug."""
    try:
        state.result()
    except ApplicationError:
        return True
    except Exception:  # noqa: BLE001 - any other failure: do not retry
        return False
    return False


def _outage_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry the canary when the back office was unreachable, not when its screens changed."""
    try:
        state.result()
    except CanaryFailed:
        return False
    except ApplicationError:
        return True
    except Exception:  # noqa: BLE001 - any other failure: do not retry
        return False
    return False


_CANARY_RECHECKS = 2


def _page_error(screen: ScreenCheck) -> bool:
    return bool(screen.missing) and all(m.startswith("(Seite:") for m in screen.missing)


def _best_of(first: CanaryReport, again: CanaryReport) -> CanaryReport:
    """Per screen the better check: a screen that loaded once tells whether its fields exist."""
    best = {s.screen: s for s in first.screens}
    for s in again.screens:
        if s.screen not in best or _page_error(best[s.screen]):
            best[s.screen] = s
    return CanaryReport(list(best.values()))


def _page_errors_only(missing: dict[str, list[str]]) -> bool:
    """True if every finding is a screen that did not load ("(Seite: <code>)"), none a field."""
    return all(m.startswith("(Seite:") for labels in missing.values() for m in labels)


@task(
    name="canary",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[2, 5, 10],
    retry_condition_fn=_outage_only,
)
def canary(bot: Any) -> None:
    """Open every screen the bot uses and check every field; raise `CanaryFailed` if one is gone.

    Runs in the first bot session of the run (its browser, login and seat), before any item.
    A screen that did not load (5xx, timeout, maintenance) says nothing about a changed layout:
    that is a plain `ApplicationError` (``backoffice-unavailable``), retried like any outage.
    """
    report = bot.check()
    for _ in range(_CANARY_RECHECKS):
        if report.ok or not _page_errors_only(report.missing()):
            break
        report = _best_of(report, bot.check())
    if report.ok:
        return
    missing = report.missing()
    if _page_errors_only(missing):
        raise ApplicationError(
            f"Fachverfahren Steuern nicht erreichbar: {sorted(missing)}",
            code="backoffice-unavailable",
        )
    named = "; ".join(f"{screen}: {', '.join(labels)}" for screen, labels in missing.items())
    raise CanaryFailed(
        f"Fachverfahren Steuern hat sich geändert, es fehlt: {named}. Es wurden keine Daten "
        "verarbeitet.",
        code="canary",
    )


@task(
    name="list-new-submissions",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=_only_application_errors,
)
def list_new(
    services: Services, max_items: int, only: list[str] | None = None
) -> list[tuple[str, str]]:
    """(submission id, case id) of new submissions, without those a clerk holds."""
    held = open_human_tasks()
    wanted = set(only) if only is not None else None
    refs: list[tuple[str, str]] = []
    for ref in services.portal.list_new():
        if ref.submission_id in held or (wanted is not None and ref.submission_id not in wanted):
            continue
        refs.append((ref.submission_id, ref.case_id))
        if len(refs) >= max_items:
            break
    return refs


@task(name="process-item", task_run_name="antrag-{submission_id}", cache_policy=NO_CACHE)
def process_item(
    submission_id: str,
    case_id: str,
    bot: Any,
    processor: ItemProcessor,
    params: HundesteuerParams,
    services: Services,
) -> ItemResult:
    return processor.process(
        submission_id,
        case_id,
        bot,
        approval=params.approval,
        dry_run=params.dry_run,
        request_review=lambda sid, exc: request_review(services, sid, exc),
        request_approval=lambda sid, reg: request_approval(services, sid, reg),
    )


class _Gate:
    """What the bot sessions of one run wait for: the canary's verdict and the item list."""

    def __init__(self) -> None:
        self.canary_done = threading.Event()
        self.listed = threading.Event()
        self.error: AmtsboteError | None = None

    def fail(self, exc: AmtsboteError) -> None:
        self.error = exc
        self.canary_done.set()

    def passed(self) -> bool:
        self.canary_done.wait()
        return self.error is None


_SESSION_RETRY_DELAYS_S = (2.0, 5.0, 10.0)


def _worker(
    account: BotAccount,
    todo: queue.Queue[tuple[str, str]],
    results: dict[str, ItemResult],
    services: Services,
    processor: ItemProcessor,
    params: HundesteuerParams,
    run_id: str,
    gate: _Gate,
    first: bool,
) -> None:
    """One bot session: holds a seat, logs in once, works items until the queue is empty.

    Items run in `services.process.pipeline_depth` threads around the bot (see
    `flows._pipeline`): the next item is fetched and the last one archived and accepted while
    the browser registers the current one.

    The first session runs the canary before anything else (so a run starts one browser and
    logs in once less); the others start their browsers meanwhile and wait for its verdict.
    """
    task_fn = process_item.with_options(
        retries=services.process.retries,
        retry_delay_seconds=services.process.retry_delays_s,
        retry_condition_fn=_only_application_errors,
    )
    for delay in (*_SESSION_RETRY_DELAYS_S, None):
        try:
            with (
                concurrency(
                    services.process.seat_limit,
                    occupy=1,
                    lease_duration=services.process.seat_lease_s,
                ),
                bot_session(services, account, run_id) as bot,
            ):
                if first:
                    canary(bot)
                    gate.canary_done.set()
                elif not gate.passed():
                    return
                gate.listed.wait()
                run_pipeline(
                    bot,
                    services.process.pipeline_depth,
                    lambda desk: _work_queue(
                        desk, task_fn, todo, results, processor, params, services
                    ),
                )
                return
        except CanaryFailed as exc:
            gate.fail(exc)
            return
        except AmtsboteError as exc:
            # A login that fails on a blip must not idle a seat for the whole run, nor fail
            # the canary (and with it the run) while there is still time to try again.
            wanted = (first and not gate.canary_done.is_set()) or not (
                gate.listed.is_set() and todo.empty()
            )
            if delay is not None and wanted:
                log.warning("bot session failed, retrying", account=account.username, code=exc.code)
                time.sleep(delay)
                continue
            if first and not gate.canary_done.is_set():
                gate.fail(exc)
                return
            log.error("bot session unavailable", account=account.username, code=exc.code)
            return


def _work_queue(
    bot: Any,
    task_fn: Any,
    todo: queue.Queue[tuple[str, str]],
    results: dict[str, ItemResult],
    processor: ItemProcessor,
    params: HundesteuerParams,
    services: Services,
) -> None:
    while True:
        try:
            sid, case_id = todo.get_nowait()
        except queue.Empty:
            return
        try:
            results[sid] = task_fn(sid, case_id, bot, processor, params, services)
        except AmtsboteError as exc:
            results[sid] = failure(sid, exc)
        except Exception as exc:  # noqa: BLE001 - a bug: item stays in the portal
            log.exception("item failed unexpectedly", item_key=sid)
            results[sid] = failure(sid, exc)


def _artifact(results: list[ItemResult], params: HundesteuerParams) -> None:
    counts = Counter(r.outcome for r in results)
    lines = [f"- **{k}**: {v}" for k, v in sorted(counts.items())]
    create_table_artifact(
        key="hundesteuer-summary",
        table=[r.row() for r in results],
        description=(
            f"## Hundesteuer: {len(results)} Anträge\n\n"
            + "\n".join(lines)
            + f"\n\nFreigabe: {params.approval}; Probelauf: {params.dry_run}"
        ),
    )
    failed = [r for r in results if r.evidence]
    if failed:
        create_markdown_artifact(
            key="hundesteuer-evidence",
            markdown="## Belege fehlgeschlagener Anträge\n\n"
            + "\n".join(f"- `{r.item_key}`: `{r.evidence}`" for r in failed),
            description="Screenshots (maskiert), HTML und Trace; Löschung nach Aufbewahrungsfrist.",
        )


@flow(name="hundesteuer", flow_run_name=_run_name, log_prints=False)
def hundesteuer(params: HundesteuerParams | None = None) -> dict[str, Any]:
    """Process a batch of new Hundesteuer applications (see module docstring)."""
    params = params or HundesteuerParams()
    setup_logging()
    logger = get_run_logger()
    services = Services.from_env()
    run_id = str(flow_run.id or "local")
    try:
        accounts = services.process.bot_accounts()[: params.sessions]
        todo: queue.Queue[tuple[str, str]] = queue.Queue()
        results: dict[str, ItemResult] = {}
        processor = services.processor(run_id)
        gate = _Gate()

        def start(account: BotAccount, first: bool) -> threading.Thread:
            ctx = contextvars.copy_context()
            t = threading.Thread(
                target=ctx.run,
                args=(_worker, account, todo, results, services, processor, params, run_id),
                kwargs={"gate": gate, "first": first},
                name=f"bot-{account.username}",
            )
            t.start()
            return t

        threads = [start(accounts[0], True)]  # canary, then items
        try:
            refs = list_new(services, params.max_items, params.submission_ids)
        except BaseException:
            gate.listed.set()  # nothing to do: the first session ends after the canary
            threads[0].join()
            raise
        for ref in refs:
            todo.put(ref)
        gate.listed.set()
        ids = [sid for sid, _ in refs]
        logger.info("%d neue Anträge, %d Bot-Sitzung(en)", len(ids), len(accounts))
        threads += [start(a, False) for a in accounts[1 : max(1, min(len(accounts), len(ids)))]]
        for t in threads:
            t.join()
        if gate.error is not None:
            raise gate.error
        ordered = [
            results.get(sid) or ItemResult(sid, "failed", error_code="backoffice-unavailable")
            for sid in ids
        ]
        for r in ordered:
            if r.outcome == "failed":
                processor.record_failure(r)
        _artifact(ordered, params)
        counts: dict[str, int] = dict(Counter(r.outcome for r in ordered))
        logger.info("Ergebnis: %s", counts)
        return {"total": len(ordered), **counts, "items": [r.row() for r in ordered]}
    finally:
        services.close()
