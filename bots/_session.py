"""One Chromium per bot session, a browser context per logged-in back-office session.

Why a class of its own: starting Chromium costs far more than a context, so a session keeps one
browser for many items and hands out contexts; it also owns the clean shutdown (contexts, then
the browser, then Playwright) on normal exit, on errors and on SIGTERM/SIGINT, and can restart
the browser after a crash. Sync Playwright objects belong to the thread that made them: use one
`BrowserSession` per worker thread.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import structlog
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from amtsbote import ApplicationError

from ._settings import BrowserSettings

__all__ = ["BrowserNotFound", "BrowserSession"]

log = structlog.get_logger(__name__)

_Handler = Callable[[int, FrameType | None], Any] | int | None


class BrowserNotFound(ApplicationError):
    """The Chromium binary is missing (not retryable in practice: install it)."""

    default_code = "browser-not-found"


class BrowserSession:
    """A started Playwright with one Chromium; use as a context manager.

    Args:
        settings: How to start Chromium; defaults from the environment.
        handle_signals: Turn SIGTERM into `SystemExit` (and keep SIGINT's
            `KeyboardInterrupt`) while the session is open, so the ``with`` block unwinds and
            closes the browser. Only possible in the main thread; ignored elsewhere.
        playwright: A running sync Playwright of this thread to launch the browser from
            (e.g. a test harness's); the session then leaves stopping it to its owner.

    Example:
        >>> with BrowserSession() as session:  # doctest: +SKIP
        ...     context = session.new_context()
    """

    def __init__(
        self,
        settings: BrowserSettings | None = None,
        *,
        handle_signals: bool = True,
        playwright: Playwright | None = None,
    ) -> None:
        self.settings = settings or BrowserSettings()
        self.handle_signals = handle_signals
        self._owns_playwright = playwright is None
        self._playwright: Playwright | None = playwright
        self._browser: Browser | None = None
        self._contexts: list[BrowserContext] = []
        self._old_handlers: dict[int, _Handler] = {}
        self.launches = 0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> BrowserSession:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start Playwright and Chromium.

        Raises:
            BrowserNotFound: The configured Chromium binary does not exist.
            ApplicationError: Chromium did not start (code ``browser-launch-failed``).
        """
        path = self.settings.binary()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BrowserNotFound(
                f"Chromium nicht gefunden unter {path}. Installieren Sie die Debian-Pakete "
                "'chromium' und 'chromium-headless-shell' (apt-get install chromium "
                "chromium-headless-shell) oder setzen Sie AMTSBOTE_BROWSER_EXECUTABLE_PATH."
            )
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        self._install_signal_handlers()
        self._launch()

    def _launch(self) -> None:
        assert self._playwright is not None
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=str(self.settings.binary()),
                headless=self.settings.headless,
                args=list(self.settings.args),
                chromium_sandbox=self.settings.chromium_sandbox,
            )
        except PlaywrightError as exc:
            raise ApplicationError(
                "Chromium konnte nicht gestartet werden.", code="browser-launch-failed"
            ) from exc
        self.launches += 1
        log.info("browser.started", launches=self.launches)

    def close(self) -> None:
        """Close every context, the browser and Playwright; safe to call twice."""
        for context in self._contexts:
            _quietly(context.close)
        self._contexts.clear()
        if self._browser is not None:
            _quietly(self._browser.close)
            self._browser = None
        if self._playwright is not None and self._owns_playwright:
            _quietly(self._playwright.stop)
            self._playwright = None
        log.info("browser.stopped")
        self._restore_signal_handlers()

    def restart(self) -> None:
        """Throw away the browser (crashed or not) and all its contexts; start a fresh one."""
        if self._playwright is None:
            self.start()
            return
        for context in self._contexts:
            _quietly(context.close)
        self._contexts.clear()
        if self._browser is not None:
            _quietly(self._browser.close)
        self._browser = None
        log.info("browser.restart")
        self._launch()

    # -- use -------------------------------------------------------------------------------

    @property
    def browser(self) -> Browser:
        """The running browser.

        Raises:
            ApplicationError: The session is not started (code ``browser-not-started``).
        """
        if self._browser is None:
            raise ApplicationError("Browser ist nicht gestartet.", code="browser-not-started")
        return self._browser

    def is_alive(self) -> bool:
        """True while the browser runs and is connected (False after a crash or close)."""
        return self._browser is not None and self._browser.is_connected()

    def new_context(self, **options: Any) -> BrowserContext:
        """A fresh, isolated context (own cookies = own back-office login).

        A dead browser is restarted first. Default timeouts and locale come from the settings.
        """
        if not self.is_alive():
            self.restart()
        options.setdefault("locale", self.settings.locale)
        try:
            context = self.browser.new_context(**options)
        except PlaywrightError as exc:
            raise ApplicationError(
                "Browser-Kontext konnte nicht erstellt werden.", code="browser-crashed"
            ) from exc
        context.set_default_timeout(self.settings.timeout_ms)
        context.set_default_navigation_timeout(self.settings.navigation_timeout_ms)
        self._contexts.append(context)
        context.on("close", lambda c: self._forget(c))
        return context

    def _forget(self, context: BrowserContext) -> None:
        if context in self._contexts:
            self._contexts.remove(context)

    # -- signals ---------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        if not self.handle_signals or self._old_handlers:
            return
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._old_handlers[signum] = signal.getsignal(signum)
            signal.signal(signum, _raise_for_signal)

    def _restore_signal_handlers(self) -> None:
        for signum, handler in self._old_handlers.items():
            if threading.current_thread() is threading.main_thread():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._old_handlers.clear()


def _raise_for_signal(signum: int, frame: FrameType | None) -> None:
    # Raising unwinds the `with BrowserSession()` block, whose __exit__ closes the browser.
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - shutdown of an already dead browser must not mask errors
        log.debug("browser.close_failed")
