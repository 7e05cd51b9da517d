"""How a bot recovers a failing item and what it leaves behind: the recovery between
attempts (fresh context, fresh browser), a Playwright trace of retried attempts, masked
screenshot and redacted HTML (evidence) — and the canary's screen checks.

Split from `bots._bot` so the bot base stays about its loop; `ItemEvidence` is mixed into
`Bot`, `check_screens` is what `Bot.check_screens` runs, `bot_step` wraps a method in a step.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import structlog
from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import Error as PlaywrightError

from amtsbote import AmtsboteError, ApplicationError

from ._canary import CanaryReport, ScreenCheck, check_screen, ensure_loaded
from ._evidence import safe_key, write_evidence
from ._pages import PageObject
from ._retry import Recovery, RetryPolicy
from ._session import BrowserSession
from ._translate import translate_playwright_error

__all__ = ["ItemEvidence", "bot_step", "check_screens"]

F = TypeVar("F", bound=Callable[..., Any])

log = structlog.get_logger("bots._bot")


def bot_step(name: str) -> Callable[[F], F]:
    """Decorate a bot method so that it runs as `Bot.step` named `name`."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self.step(name, lambda: fn(self, *args, **kwargs))

        return cast(F, wrapper)

    return decorate


class ItemEvidence:
    """Traces and evidence of one bot's items (state lives on the `Bot`)."""

    session: BrowserSession
    trace: bool
    evidence_dir: Path
    run_id: str
    _context: BrowserContext | None
    _page: Page | None
    _tracing: bool
    retry: RetryPolicy
    _rng: random.Random
    _sleep: Callable[[float], None]

    def close(self) -> None:
        raise NotImplementedError

    def _recover(self, failures: int, exc: ApplicationError) -> None:
        recovery = self.retry.recovery(failures)
        if not self.session.is_alive():
            recovery = Recovery.NEW_BROWSER
        delay = self.retry.delay(failures, self._rng)
        log.info("bot.retry", code=exc.code, recovery=recovery.value, delay_s=round(delay, 2))
        self._sleep(delay)
        if recovery is Recovery.NEW_BROWSER:
            self.close()
            self.session.restart()
        elif recovery is Recovery.NEW_CONTEXT:
            self.close()

    def personal_fields(self) -> list[Locator]:
        """The locators masked on screenshots (the `Bot` knows them)."""
        raise NotImplementedError

    def _start_trace(self, *, retry: bool = False) -> None:
        """Trace the coming attempt (started per attempt, stopped after it).

        Which attempts: `BrowserSettings.trace_attempts` (by default only retries). Not one
        tracing session with a chunk per item: Playwright keeps one network log per tracing
        session, so a chunk written for a failing item would carry the requests (and personal
        data) of every item before it.
        """
        if not self.trace or self._tracing or self._context is None:
            return
        settings = self.session.settings
        if not retry and settings.trace_attempts != "all":
            return
        try:
            self._context.tracing.start(
                screenshots=settings.trace_screenshots, snapshots=True, sources=False
            )
            self._tracing = True
        except PlaywrightError:
            log.info("bot.trace_unavailable")

    def _discard_trace(self) -> None:
        """Stop the item's trace without writing it (the item succeeded or is retried)."""
        if self._tracing and self._context is not None:
            try:
                self._context.tracing.stop()
            except PlaywrightError:
                pass
        self._tracing = False

    def _with_evidence(self, key: str, exc: AmtsboteError) -> None:
        folder = self.evidence_dir / safe_key(self.run_id) / key
        page = self._page if self._page is not None and not self._page.is_closed() else None
        try:
            write_evidence(
                folder, key, page, self._context, self.personal_fields(), tracing=self._tracing
            )
        except Exception:  # noqa: BLE001 - never let evidence hide the item's error
            log.warning("evidence.failed", item=key)
        self._tracing = False
        exc.evidence_dir = folder  # type: ignore[attr-defined]


def check_screens(
    step: Callable[..., Any], screens: Sequence[tuple[str, Callable[[], PageObject | str]]]
) -> CanaryReport:
    """Open each screen through `step`, establish it loaded, then check its required locators.

    Every screen is checked, whatever happened to the ones before it. An opener that fails
    with an `ApplicationError` (HTTP 5xx, timeout, network, session lost again after a
    re-login) or whose page did not load (`ensure_loaded`) marks the screen unreachable; a
    loaded screen lacking a locator is changed (`ScreenCheck.missing`).
    """
    report = CanaryReport()
    for name, opener in screens:
        report.screens.append(_check_one(step, name, opener))
    log.info("bot.canary", ok=report.ok, missing=report.missing(), down=report.unreachable())
    return report


def _check_one(
    step: Callable[..., Any], name: str, opener: Callable[[], PageObject | str]
) -> ScreenCheck:
    def open_loaded() -> PageObject | str:
        opened = opener()
        if not isinstance(opened, str):
            ensure_loaded(opened)
        return opened

    try:
        opened = step(f"canary:{name}", open_loaded)
    except ApplicationError as exc:
        return ScreenCheck(name, unreachable=exc.code)
    if isinstance(opened, str):
        return ScreenCheck(name, skipped=opened)
    try:
        check = check_screen(opened)
    except PlaywrightError as exc:
        return ScreenCheck(name, unreachable=translate_playwright_error(exc).code)
    check.screen = name
    return check
