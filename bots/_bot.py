"""The bot base: one logged-in context, steps that survive expiry and modals, items with retries.

Why a base class: every back-office bot needs the same care — re-login when the session times
out, click away maintenance notices, turn Playwright's errors into the kernel's error tree,
retry system failures with backoff (fresh context, then fresh browser), never double-submit,
and leave evidence only for failing items. A concrete bot (e.g. `bots.steuer.SteuerBot`)
supplies `login()`, its page objects and its business steps.

A refused login (`LoginRefused`: wrong password, locked account) is the one failure no one
retries: back offices lock accounts after a few. The bot stops at once, and remembers the
refusal (`RefusedLogins`) so that later runs do not try the same password again.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import structlog
from playwright.sync_api import BrowserContext, Locator, Page, Response
from playwright.sync_api import Error as PlaywrightError
from pydantic import SecretStr

from amtsbote import AmtsboteError, AmtsboteSettings, ApplicationError, LoginRefused

from ._canary import CanaryReport
from ._evidence import safe_key
from ._item_evidence import ItemEvidence, check_screens
from ._locate import button_by_name, role_by_name
from ._pages import PageObject
from ._refusals import RefusedLogins
from ._retry import RetryPolicy
from ._session import BrowserSession
from ._settings import BotAccount
from ._translate import SessionExpired, http_error, is_crash, translate_playwright_error

__all__ = ["Bot"]

log = structlog.get_logger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Bot(ItemEvidence):
    """Base of back-office bots (sync Playwright; one instance per thread).

    Args:
        session: The browser session (one per thread).
        base_url: The back office's base URL.
        account: The bot's own service account.
        evidence_dir: Root folder of failure evidence.
        run_id: The run's id (evidence sub-folder); a fresh one if not given.
        retry: Retry policy for `ApplicationError` in `run_item`.
        max_relogins: Re-logins allowed within one step.
        trace: Record Playwright traces (of retried attempts by default; kept on failure).
        sleep: The wait function of the backoff (tests pass a no-op).
        refusals: Where refused logins are remembered; by default
            ``<AMTSBOTE_DATA_DIR>/accounts`` (`AmtsboteSettings.accounts_dir`).

    Subclasses set `system` (the back office's name, shared by every bot of that system),
    `modal_notice_name` / `modal_ok_button` for the notices to click away (matched like
    `bots.role_by_name` / `bots.button_by_name`: case and a trailing colon do not matter),
    `page_types` (the screens whose personal fields are masked), and implement `login()`,
    raising `LoginRefused` when the back office refuses the account.
    """

    system: ClassVar[str | None] = None
    modal_notice_name: ClassVar[str | None] = "Hinweis"
    modal_ok_button: ClassVar[str] = "OK"
    page_types: ClassVar[Sequence[type[PageObject]]] = ()

    def __init__(
        self,
        session: BrowserSession,
        base_url: str,
        account: BotAccount,
        *,
        evidence_dir: Path | str = Path("var/evidence"),
        run_id: str | None = None,
        retry: RetryPolicy | None = None,
        max_relogins: int = 2,
        trace: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        refusals: RefusedLogins | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.evidence_dir = Path(evidence_dir)
        self.run_id = run_id or time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.retry = retry or RetryPolicy()
        self.max_relogins = max_relogins
        self.trace = session.settings.trace if trace is None else trace
        self._sleep = sleep
        self.refusals = refusals or RefusedLogins(AmtsboteSettings().accounts_dir)
        self._rng = random.Random()
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._tracing = False
        self.logins = 0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Bot:
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
        """Open a context and log in, retried by `self.retry` like an item.

        A login is safe to repeat, so a back office that answers the login with a 5xx, a
        timeout or a maintenance page gets the same backoff (and fresh context or browser) as
        an item. A refused login is not: it raises at once, after exactly one attempt, and is
        remembered, so that the next runs do not try the same password again (see
        `RefusedLogins`); a remembered refusal raises before the back office is contacted.

        Raises:
            LoginRefused: The back office refused the account now or before (same password);
                the message names the account, never the password.
            ApplicationError: The last failure, after all attempts.
        """
        failures = 0
        while True:
            try:
                self._guard("start", self._open)
                return
            except LoginRefused:
                self.close()
                raise
            except ApplicationError as exc:
                failures += 1
                log.warning("bot.start_failed", code=exc.code, failure=failures)
                if not self.retry.should_retry(failures):
                    self.close()
                    raise
                self._recover(failures, exc)

    @property
    def system_name(self) -> str:
        """The back office's name in markers and logs: `system`, else the class name."""
        return self.system or type(self).__name__.lower()

    def close(self) -> None:
        """Log out (frees the back office's seat at once) and close the bot's context.

        The browser stays with the session. Logout is best effort: a page that is gone or a
        back office that fails leaves the seat to the back office's own session timeout.
        """
        if self._context is not None:
            if self._page is not None and not self._page.is_closed() and self.session.is_alive():
                try:
                    self.logout()
                except (PlaywrightError, AmtsboteError) as exc:
                    log.info(
                        "bot.logout_failed", account=self.account.username, error=type(exc).__name__
                    )
            try:
                if self._tracing:
                    self._context.tracing.stop()
            except PlaywrightError:
                pass
            try:
                self._context.close()
            except PlaywrightError:
                pass
        self._tracing = False
        self._context = None
        self._page = None

    @property
    def page(self) -> Page:
        """The bot's page (opens a context and logs in if there is none yet)."""
        if self._page is None or self._page.is_closed():
            self._open()
        assert self._page is not None
        return self._page

    @property
    def context(self) -> BrowserContext:
        """The bot's browser context."""
        if self._context is None:
            self._open()
        assert self._context is not None
        return self._context

    def _open(self) -> None:
        self.close()
        self._context = self.session.new_context()
        page = self._context.new_page()
        if self.modal_notice_name:
            # Tolerant ("HINWEIS", "OK:", titled by its heading only); the OK button tells the
            # notice from other dialogs of that name (e.g. a confirmation).
            notice = role_by_name(page, "dialog", self.modal_notice_name).filter(
                has=button_by_name(page, self.modal_ok_button)
            )
            ok = button_by_name(notice, self.modal_ok_button)
            # Runs whenever the notice blocks an action, before and after every click/fill.
            page.add_locator_handler(notice, lambda: ok.click())
        self._page = page
        self._login()

    def _usable(self) -> bool:
        return (
            self.session.is_alive()
            and self._context is not None
            and self._page is not None
            and not self._page.is_closed()
        )

    # -- to be provided by a concrete bot ---------------------------------------------------

    def login(self) -> None:
        """Log in on `self.page` with the bot's account (must not use `self.page` property
        recursively: use ``self._page``)."""
        raise NotImplementedError

    def logout(self) -> None:
        """Log out on ``self._page`` if it shows a logged-in screen (default: nothing to do).

        Called by `close`; a bot whose back office counts seats should override it.
        """

    def personal_fields(self) -> list[Locator]:
        """Locators masked on failure screenshots: the personal fields of all `page_types`."""
        if self._page is None or self._page.is_closed():
            return []
        fields: list[Locator] = []
        for page_type in self.page_types:
            fields.extend(page_type(self._page).personal_fields())
        return fields

    # -- steps -----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of a back-office path."""
        return self.base_url + "/" + path.lstrip("/")

    def goto(self, path: str) -> Response | None:
        """Navigate directly (a human's bookmark); HTTP 5xx raise `ApplicationError`."""
        response = self.page.goto(self.url(path), wait_until="domcontentloaded")
        if response is not None and response.status >= 500:
            raise http_error(response.status, step=path)
        return response

    def step(
        self,
        name: str,
        fn: Callable[[], T],
        *,
        before_repeat: Callable[[], T | None] | None = None,
    ) -> T:
        """Run one business step with re-login on session expiry and error translation.

        Args:
            name: The step's name (logged; no data).
            fn: The step; it must be safe to repeat from its start after a re-login.
            before_repeat: Called after a re-login, before `fn` runs again; a non-None
                result is returned instead (the idempotency check after an interrupted submit).

        Raises:
            ApplicationError: Translated Playwright errors, 5xx pages, repeated expiry.
        """
        relogins = 0
        while True:
            try:
                log.debug("bot.step", step=name)
                return fn()
            except SessionExpired:
                expired = True
            except PlaywrightError as exc:
                expired = not is_crash(exc) and self.on_login_page()
                if not expired:
                    raise translate_playwright_error(exc, step=name) from exc
            except Exception as exc:
                # Whatever a step concluded from a page that turned out to be the login screen
                # (the session ended under it: a form "rejected", a table found empty) is void:
                # log in again and repeat the step.
                if isinstance(exc, ApplicationError) or not self._shows_login():
                    raise
                expired = True
            if relogins >= self.max_relogins:
                raise SessionExpired(
                    f"Sitzung wiederholt abgelaufen (Schritt {name}).", code="session-expired"
                )
            relogins += 1
            log.info("bot.session_expired", step=name, relogin=relogins)
            self._guard("login", self._relogin)
            if before_repeat is not None:
                found = before_repeat()
                if found is not None:
                    return found

    def _shows_login(self) -> bool:
        try:
            return self.on_login_page()
        except PlaywrightError:
            return False

    def _relogin(self) -> None:
        self._login()

    def _login(self) -> None:
        """`login()`, unless refused before; remembering a refusal, forgetting it on success.

        Every login goes through here (start, fresh context, re-login after expiry), so no
        path of a bot tries a password the back office has refused.
        """
        try:
            secret = self.account.secret()
        except ValueError:  # a system without a password: its refusal waits for one
            secret = SecretStr("")
        self.refusals.check(self.system_name, self.account.username, secret)
        try:
            self.login()
        except LoginRefused as exc:
            log.error(
                "bot.login_refused", system=self.system_name, account=exc.account, code=exc.code
            )
            self.refusals.record(self.system_name, self.account.username, secret, exc)
            raise
        self.logins += 1
        self.refusals.clear(self.system_name, self.account.username)

    def on_login_page(self) -> bool:
        """True if the page now shows the login screen (session expired); override it."""
        return False

    def _guard(self, name: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except AmtsboteError:
            raise
        except PlaywrightError as exc:
            raise translate_playwright_error(exc, step=name) from exc

    # -- items -----------------------------------------------------------------------------

    def run_item(self, key: str, fn: Callable[[], T]) -> T:
        """Run one item with retries, tracing, and evidence if it finally fails.

        `ApplicationError` is retried by `self.retry` (wait, then a fresh context after the
        2nd failure and a fresh browser after the 3rd by default; at once if the browser is
        gone). `fn` must be idempotent by the item's business key: it runs again from its
        start, so it has to search before it creates. Other errors are not retried.

        Args:
            key: The item's business key (evidence folder and file names).
            fn: The item's work.

        Raises:
            AmtsboteError: The final error, with attribute ``evidence_dir`` (a `Path`).
        """
        failures = 0
        ikey = safe_key(key)
        while True:
            try:
                if not self._usable():
                    self._guard("open", self._open)
                self._start_trace(retry=failures > 0)
                result = self._guard("item", fn)
            except ApplicationError as exc:
                failures += 1
                log.warning("bot.item_failed", item=ikey, code=exc.code, failure=failures)
                if not self.retry.should_retry(failures):
                    self._with_evidence(ikey, exc)
                    raise
                self._discard_trace()
                self._recover(failures, exc)
                continue
            except LoginRefused:
                raise  # the account, not the item: no evidence, no retry
            except AmtsboteError as exc:
                log.info("bot.item_rejected", item=ikey, code=exc.code)
                self._with_evidence(ikey, exc)
                raise
            self._discard_trace()
            return result

    # -- canary ----------------------------------------------------------------------------

    def check_screens(
        self, screens: Sequence[tuple[str, Callable[[], PageObject | str]]]
    ) -> CanaryReport:
        """Open each screen and check its required locators (the canary's engine).

        Args:
            screens: (screen name, opener); an opener returns the opened page object, or a
                string saying why the screen was skipped. Openers must not create data.
        """
        return check_screens(self.step, screens)
