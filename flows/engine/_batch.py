"""``<process>``: one batch run — poll, canary, then claim and work items in 1..n bot sessions.

    poll the source (store + acknowledge new items; off for the intake's batch runs), and
    restart Klärfall/Freigabe runs that died (their items would wait for nobody) — while
    the first bot session starts and runs the canary (stop before touching data if the back
    office changed)
    → each session holds a seat, logs in once, and claims items one by one from the store
      (lease renewed by a heartbeat) until the batch is full or nothing is left; within a
      session the items overlap (`flows._pipeline`), so the browser never waits for the
      e-Akte or the delivery
    → one Prefect task per item (retried on `ApplicationError` only); the walk and the
      mapping of outcomes to states is `flows.engine._walk`
    → payloads of items that ended longer ago than the retention are deleted
    → a table artifact: one row per item (ids, outcome, Aktenzeichen, error code) and the
      work queue's counts per state. No personal data.

A refused login stops its session at once and fails the run with the account's name: it is
never retried (back offices lock accounts after a few failed logins).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import Counter
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.runtime import task_run

from amtsbote import AmtsboteError, ApplicationError, LoginRefused, get_logger
from amtsbote.store import WorkItem
from bots import BotAccount
from flows._bridge import setup_logging
from flows._pipeline import BotDesk, run_pipeline
from flows.engine._canary import CanaryFailed, canary, only_application_errors
from flows.engine._fanout import claimable
from flows.engine._human import reconcile, request_approval, request_review
from flows.engine._intake import IntakeReport, poll
from flows.engine._params import BatchParams
from flows.engine._process import Process
from flows.engine._services import Services, bot_session
from flows.engine._walk import ItemResult, Walker, failure
from flows.engine._watch import watch

__all__ = ["run_batch"]

log = get_logger(__name__)
_SESSION_RETRY_DELAYS_S = (2.0, 5.0, 10.0)


class _Gate:
    """What the bot sessions of one run wait for: the canary's verdict."""

    def __init__(self) -> None:
        self.canary_done = threading.Event()
        self.error: AmtsboteError | None = None
        self.refused: list[LoginRefused] = []
        self.broken: list[ApplicationError] = []

    def fail(self, exc: AmtsboteError) -> None:
        self.error = exc
        self.canary_done.set()

    def passed(self) -> bool:
        self.canary_done.wait()
        return self.error is None


class _Claimer:
    """Claims the run's items one at a time, up to the batch size, for every session.

    The run's items are fixed once the intake of this run is over (`open`): the intake's
    batch, or whatever is claimable then. Sessions start meanwhile (browser, login, canary)
    and wait for it. An item that fails in this run is not claimed again by it (a later run
    retries it), and an item another worker claimed first is simply skipped.
    """

    def __init__(self, services: Services, worker: str, params: BatchParams) -> None:
        self.s = services
        self.worker = worker
        self.params = params
        self.remaining: list[str] = []
        self.left = params.max_items
        self.lock = threading.Lock()
        self.ready = threading.Event()

    def open(self, *, abort: bool = False) -> None:
        """Fix the run's items (or none, if the run stops) and let the sessions claim."""
        with self.lock:
            if abort:
                self.left = 0
            else:
                keys = self.params.item_keys
                if keys is None:
                    keys = claimable(self.s, 50_000)
                self.remaining = list(dict.fromkeys(keys))
        self.ready.set()

    @property
    def exhausted(self) -> bool:
        return self.ready.is_set() and (self.left <= 0 or not self.remaining)

    def next(self) -> WorkItem | None:
        self.ready.wait()
        with self.lock:
            if self.exhausted:
                return None
            got = self.s.store.claim(
                self.s.process.name, self.worker, limit=1, item_keys=self.remaining
            )
            if not got:
                self.left = 0
                return None
            self.left -= 1
            self.remaining.remove(got[0].item_key)
            return got[0]


class _Heartbeat(threading.Thread):
    """Renews the leases of the run's claimed items while the run lives."""

    def __init__(self, services: Services, worker: str) -> None:
        super().__init__(name="lease-heartbeat", daemon=True)
        self.s = services
        self.worker = worker
        self.every = max(1.0, float(getattr(services.store, "lease_s", 300)) / 3)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.s.store.renew(self.worker, process=self.s.process.name)
            except AmtsboteError as exc:
                log.warning("lease renewal failed", code=exc.code)


@task(name="process-item", cache_policy=NO_CACHE)
def process_item(
    item_key: str, item: WorkItem, desk: BotDesk, walker: Walker, approval: str
) -> ItemResult:
    """Walk one claimed item (one attempt; the task's retries repeat it)."""
    if task_run.run_count > 1:  # the claim set the lease a moment before the first run
        walker.s.store.renew(walker.worker, item_keys=[item_key])
    return walker.work(item, desk.call, desk.bot, approval=approval)  # type: ignore[arg-type]


class _Run:
    """One batch run's shared state (threads: sessions, their item threads, the heartbeat)."""

    def __init__(self, services: Services, run_id: str, params: BatchParams) -> None:
        self.s = services
        self.run_id = run_id
        self.params = params
        self.gate = _Gate()
        self.claimer = _Claimer(services, run_id, params)
        self.results: dict[str, ItemResult] = {}
        self.walker = Walker(
            services,
            run_id,
            request_review=lambda key, code, facts: request_review(services, key, code),
            request_approval=lambda key, ref, _: request_approval(services, key, ref),
        )
        name = services.process.item_label
        self.task_fn = process_item.with_options(
            task_run_name=f"{name}-{{item_key}}",
            retries=services.settings.retries,
            retry_delay_seconds=services.settings.retry_delays_s,
            retry_condition_fn=only_application_errors,
        )

    def session(self, account: BotAccount, first: bool) -> None:
        """One bot session: a seat, one login, items until the batch is done."""
        s = self.s
        for delay in (*_SESSION_RETRY_DELAYS_S, None):
            try:
                with (
                    concurrency(
                        s.settings.seat_limit, occupy=1, lease_duration=s.settings.seat_lease_s
                    ),
                    bot_session(s, account, self.run_id) as bot,
                ):
                    if first:
                        canary(bot, s.process.bot.system)
                        self.gate.canary_done.set()
                    elif not self.gate.passed():
                        return
                    run_pipeline(bot, s.settings.pipeline_depth, self.work)
                    return
            except CanaryFailed as exc:
                self.gate.fail(exc)
                return
            except LoginRefused as exc:  # never retried: accounts lock
                log.error("login refused", account=account.username, code=exc.code)
                self.gate.refused.append(exc)
                if first:
                    self.gate.fail(exc)
                return
            except AmtsboteError as exc:
                if not self._retry_session(account, first, exc, delay):
                    return
            except Exception as exc:  # noqa: BLE001 - a bug or a bad setting: stop this session
                log.exception("bot session broke", account=account.username)
                broken = ApplicationError(
                    f"Bot-Sitzung {account.username!r} abgebrochen: {type(exc).__name__}",
                    code="bot-session-broken",
                )
                self.gate.broken.append(broken)
                if first:
                    self.gate.fail(broken)
                return

    def _retry_session(
        self, account: BotAccount, first: bool, exc: AmtsboteError, delay: float | None
    ) -> bool:
        """Whether to start the session again after `exc` (after waiting `delay`).

        A login that fails on a blip must not idle a seat for the whole run, nor fail the
        canary (and with it the run) while there is time to try again.
        """
        wanted = (first and not self.gate.canary_done.is_set()) or not self.claimer.exhausted
        if delay is not None and wanted:
            log.warning("bot session failed, retrying", account=account.username, code=exc.code)
            time.sleep(delay)
            return True
        if first and not self.gate.canary_done.is_set():
            self.gate.fail(exc)
            return False
        log.error("bot session unavailable", account=account.username, code=exc.code)
        return False

    def work(self, desk: BotDesk) -> None:
        """An item thread: claim, walk, record — until the batch is done. Never raises."""
        while (item := self.claimer.next()) is not None:
            key = item.item_key
            try:
                result = self.task_fn(key, item, desk, self.walker, self.params.approval)
            except AmtsboteError as exc:
                result = failure(key, exc)
            except Exception as exc:  # noqa: BLE001 - a bug: the item fails, the batch goes on
                log.exception("item failed unexpectedly", item_key=key)
                result = failure(key, exc)
            if result.outcome == "failed":
                try:
                    self.walker.fail(item, result)
                except AmtsboteError as exc:  # store down: the lease brings the item back
                    log.error("could not record failure", item_key=key, code=exc.code)
            self.results[key] = result


def _start(run: _Run, account: BotAccount, first: bool) -> threading.Thread:
    t = threading.Thread(
        target=contextvars.copy_context().run,
        args=(run.session, account, first),
        name=f"bot-{account.username}",
    )
    t.start()
    return t


def _artifact(
    process: Process[Any, Any], rows: list[ItemResult], params: BatchParams, queue: dict[str, int]
) -> None:
    counts = Counter(r.outcome for r in rows)
    lines = [f"- **{k}**: {v}" for k, v in sorted(counts.items())]
    waiting = ", ".join(f"{k}: {v}" for k, v in queue.items() if v)
    create_table_artifact(
        key=f"{process.name}-summary",
        table=[r.row() for r in rows],
        description=(
            f"## {process.title}: {len(rows)} Vorgänge\n\n"
            + "\n".join(lines)
            + f"\n\nArbeitsvorrat: {waiting or 'leer'}"
            + f"\n\nFreigabe: {params.approval}; Probelauf: {params.dry_run}"
        ),
    )
    failed = [r for r in rows if r.evidence]
    if failed:
        create_markdown_artifact(
            key=f"{process.name}-evidence",
            markdown="## Belege fehlgeschlagener Vorgänge\n\n"
            + "\n".join(f"- `{r.item_key}`: `{r.evidence}`" for r in failed),
            description="Screenshots (maskiert), HTML und Trace; Löschung nach Aufbewahrungsfrist.",
        )


def _reconcile(services: Services) -> None:
    try:
        reconcile(services)
    except AmtsboteError as exc:  # Prefect or store unreachable: the next run tries again
        log.warning("human tasks not reconciled", code=exc.code)


def _purge(services: Services) -> None:
    """Delete the payloads whose retention ran out (ids, states and codes stay)."""
    try:
        purged = services.store.purge_payloads()
    except AmtsboteError as exc:  # the next run tries again
        log.warning("payload purge failed", code=exc.code)
        return
    if purged:
        log.info("payloads purged", count=purged)


def _estimate(services: Services, params: BatchParams) -> int:
    """How many items this run may find (to start no idle sessions)."""
    if params.item_keys is not None:
        return min(len(params.item_keys), params.max_items)
    q = services.store.counts(services.process.name)
    return min(params.max_items, q.get("new", 0) + q.get("failed", 0) + q.get("in_progress", 0))


def _source_rows(report: IntakeReport) -> list[ItemResult]:
    return [
        ItemResult(k, "rejected", error_code=c, extra={"at": "source"})
        for k, c in report.rejected.items()
    ] + [
        ItemResult(k, "held", error_code=h.code, extra={"at": "source"})
        for k, h in report.held.items()
    ]


def run_batch(process: Process[Any, Any], params: BatchParams, run_id: str) -> dict[str, Any]:
    """Body of the ``<process>`` flow (see module docstring)."""
    setup_logging()
    logger = get_run_logger()
    services = Services.from_env(process)
    try:
        rows: list[ItemResult] = []
        if params.dry_run:
            if params.poll_source:
                report = poll(services, run_id, params.max_items, dry_run=True)
                rows += _source_rows(report) + [ItemResult(k, "dry-run") for k in report.checked]
                watch(services, list(report.held.values()))
            return _check_only(services, run_id, rows, params)
        run = _Run(services, run_id, params)
        accounts = services.settings.bot_accounts()[: params.sessions]
        heartbeat = _Heartbeat(services, run_id)
        heartbeat.start()
        # The first session starts its browser, logs in and runs the canary while this
        # thread takes in the source's new items: the browser never waits for the intake.
        threads = [_start(run, accounts[0], True)]
        try:
            try:
                if params.poll_source:
                    report = poll(services, run_id, params.max_items)
                    rows += _source_rows(report)
                    watch(services, list(report.held.values()))
                _reconcile(services)
            except BaseException:
                run.claimer.open(abort=True)
                raise
            run.claimer.open()
            wanted = min(len(accounts), _estimate(services, params))
            threads += [_start(run, a, False) for a in accounts[1:wanted]]
        finally:
            for t in threads:
                t.join()
            heartbeat.stop.set()
        if run.gate.error is not None:
            raise run.gate.error
        rows += list(run.results.values())
        _purge(services)
        queue = services.store.counts(process.name)
        _artifact(process, rows, params, queue)
        counts: dict[str, int] = dict(Counter(r.outcome for r in rows))
        logger.info("Ergebnis: %s; Arbeitsvorrat: %s", counts, queue)
        if run.gate.refused:
            raise run.gate.refused[0]
        if run.gate.broken:
            raise run.gate.broken[0]
        return {"total": len(rows), **counts, "items": [r.row() for r in rows], "queue": queue}
    finally:
        services.close()


def _check_only(
    services: Services, run_id: str, rows: list[ItemResult], params: BatchParams
) -> dict[str, Any]:
    """Dry run: the canary and the intake's checks; nothing stored, entered or acknowledged."""
    account = services.settings.bot_accounts()[0]
    with bot_session(services, account, run_id) as bot:
        canary(bot, services.process.bot.system)
    counts = dict(Counter(r.outcome for r in rows))
    queue = services.store.counts(services.process.name)
    _artifact(services.process, rows, params, queue)
    return {"total": len(rows), **counts, "items": [r.row() for r in rows], "queue": queue}
