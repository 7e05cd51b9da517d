"""The canary: does every locator a bot relies on still resolve? Checked before touching data.

A back office update that renames a label breaks a bot silently at 2 a.m.; the nightly run calls
``bot.check()`` first and stops with a report naming the screen and the missing label(s).

The canary tells two failures apart, because a run reacts differently to them:

- a **changed** screen: the page loaded (no error status, the session holds, the screen's own
  heading or URL is there) but a landmark or field is missing — the run stops (`CanaryFailed`);
- an **unreachable** screen: an HTTP 5xx, a refused connection, a maintenance page, a timeout
  before the page loaded — an outage, which says nothing about the layout and is retried.

So each screen is first checked to have loaded (`ensure_loaded`, which does not depend on the
locators under test), then each required locator gets a short grace (`check_screen`): a locator
that is not there on a loaded page is missing, not an outage. Every screen is checked, also
when an earlier one failed.

A screen the bot enters or reads by calls into the page (input method ``simulate``, a
`bots.DomPage`) finds its fields not by the locators but by the in-page resolver of
`bots._simulate`. It follows the same rules, but it does not look into open shadow roots (a
field drawn by a web component), and it wants exactly one match where a locator counts any.
So on such a screen every field the locators found is resolved once more by that resolver, all
in one call; a field it does not find exactly once is missing too. (A field in a frame is
filled within its frame and is left to the locators.)
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from amtsbote import ApplicationError

from ._dom import DomPage, look
from ._pages import PageObject
from ._translate import SessionExpired, http_error

__all__ = [
    "CanaryFailed",
    "CanaryReport",
    "ScreenCheck",
    "check_screen",
    "ensure_loaded",
]

#: how long a required locator may take to appear on a loaded page (all locators of a screen)
GRACE_MS = 1_000

_ERROR_HEADING = re.compile(r"^\s*Fehler (5\d\d)\b")
_MAINTENANCE = re.compile(r"Wartungsarbeiten|Wartungsmodus|Wartung\b|maintenance", re.IGNORECASE)


class CanaryFailed(ApplicationError):
    """The back office changed: a screen loaded but a field or landmark the bot needs is gone.

    One class for the bot's own check and for the run that stops on it (the engine's canary
    task raises this too, with the report of every screen), so callers catch one type.
    """

    default_code = "canary-failed"

    def __init__(
        self, message: str, report: CanaryReport | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.report = report


@dataclass
class ScreenCheck:
    """The result for one screen.

    Attributes:
        screen: The screen's name.
        missing: Labels whose locators resolved to nothing on the loaded screen (it changed),
            and fields the in-page resolver does not find exactly once (see the module).
        skipped: Why the screen was not opened (e.g. it needs data the canary must not create).
        unreachable: Why the screen did not load (an error code such as ``http-503``,
            ``timeout``, ``network-err_connection_refused``, ``maintenance``); None if it did.
    """

    screen: str
    missing: list[str] = field(default_factory=list)
    skipped: str | None = None
    unreachable: str | None = None

    @property
    def ok(self) -> bool:
        """True if the screen loaded (or was skipped) and nothing is missing."""
        return not self.missing and self.unreachable is None

    @property
    def changed(self) -> bool:
        """True if the screen loaded but something the bot needs is missing."""
        return bool(self.missing)


@dataclass
class CanaryReport:
    """The canary's findings over all screens of a bot."""

    screens: list[ScreenCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if every screen loaded and has all its locators."""
        return all(s.ok for s in self.screens)

    @property
    def changed(self) -> bool:
        """True if some screen loaded but lacks a locator (the back office changed)."""
        return any(s.changed for s in self.screens)

    def missing(self) -> dict[str, list[str]]:
        """Screen name → missing labels, for changed screens only."""
        return {s.screen: list(s.missing) for s in self.screens if s.missing}

    def unreachable(self) -> dict[str, str]:
        """Screen name → why it did not load, for unreachable screens only."""
        return {s.screen: s.unreachable for s in self.screens if s.unreachable is not None}

    def summary(self) -> str:
        """One line per screen, readable in a run log."""
        lines = []
        for s in self.screens:
            if s.skipped:
                lines.append(f"{s.screen}: übersprungen ({s.skipped})")
            elif s.unreachable is not None:
                lines.append(f"{s.screen}: nicht erreichbar ({s.unreachable})")
            elif s.missing:
                lines.append(f"{s.screen}: FEHLT {', '.join(s.missing)}")
            else:
                lines.append(f"{s.screen}: ok")
        return "\n".join(lines)

    def raise_for_problems(self) -> CanaryReport:
        """Raise if a screen changed or did not load; else return the report.

        Raises:
            CanaryFailed: A loaded screen lacks a locator (also if others were unreachable).
            ApplicationError: Screens did not load, none changed (code
                ``backoffice-unavailable``): an outage, worth a retry.
        """
        if self.changed:
            raise CanaryFailed("Canary: fehlende Bedienelemente\n" + self.summary(), self)
        if not self.ok:
            raise ApplicationError(
                "Canary: Fachverfahren nicht erreichbar\n" + self.summary(),
                code="backoffice-unavailable",
            )
        return self


def ensure_loaded(page_object: PageObject) -> None:
    """Establish that the screen of `page_object` loaded, without its locators under test.

    Loaded means: no error page (``Fehler 5xx``) and no maintenance page, no login page in
    place of another screen (the session holds), and either the screen's landmark (its heading)
    shows or the URL is the screen's own (``path`` of the page object, if it declares one). A
    release that renamed the heading still loads at its URL, so the heading is then reported
    missing by `check_screen` rather than the screen as unreachable.

    Call it right after the navigation that opened the screen (server-rendered pages are
    complete on ``domcontentloaded``); it does not wait for any locator.

    Raises:
        SessionExpired: The login page shows instead of the screen.
        ApplicationError: An error or maintenance page, or neither the landmark nor the
            screen's URL (code ``http-<status>``, ``maintenance`` or ``screen-not-loaded``).
    """
    page = page_object.page
    screen = page_object.screen
    headings = page.get_by_role("heading")
    error = headings.filter(has_text=_ERROR_HEADING)
    if error.count():
        match = _ERROR_HEADING.search(error.first.inner_text())
        raise http_error(int(match.group(1)) if match else 500, step=screen)
    title = page.title()
    if _MAINTENANCE.search(title) or headings.filter(has_text=_MAINTENANCE).count():
        raise ApplicationError(
            f"Das Fachverfahren meldet Wartungsarbeiten (Schritt {screen}).", code="maintenance"
        )
    landmark = _landmark(page_object)
    shows_landmark = landmark is not None and landmark.count() > 0
    if page_object.login_heading and not shows_landmark:
        login = page.get_by_role("heading", name=page_object.login_heading, exact=True)
        if login.count():
            raise SessionExpired("Die Sitzung im Fachverfahren ist abgelaufen.")
    if shows_landmark or _at_own_url(page_object):
        return
    raise ApplicationError(
        f"Die Seite {screen!r} wurde nicht geladen (weder Überschrift noch Adresse).",
        code="screen-not-loaded",
    )


def check_screen(page_object: PageObject, *, grace_ms: int = GRACE_MS) -> ScreenCheck:
    """Check that every required locator of an opened screen resolves (count ≥ 1).

    Hidden elements count (fields in a closed tab panel of a tabbed layout exist all the same).
    A locator not there yet gets a short grace (`grace_ms` in all, shared by the screen's
    locators, for screens that finish in the browser); one still absent is missing. On a screen
    entered or read by calls into the page, a field found by its locator but not exactly once
    by the in-page resolver is missing as well (see the module).

    Raises:
        playwright.sync_api.Error: The page itself failed (closed, crashed).
    """
    result = ScreenCheck(page_object.screen)
    deadline = time.monotonic() + grace_ms / 1000
    required = page_object.required_locators()
    found: dict[str, Locator] = {}
    for label, locator in required.items():
        remaining = int((deadline - time.monotonic()) * 1000)
        if locator.count() >= 1 or (remaining > 0 and _appears(locator, remaining)):
            found[label] = locator
        else:
            result.missing.append(label)
    if found and _reads_in_page(page_object):
        unresolved = _unresolved_fields(page_object, found)
        result.missing = [
            label for label in required if label in result.missing or label in unresolved
        ]
    return result


def _reads_in_page(page_object: PageObject) -> bool:
    """True if the screen's fields are entered or read by calls into the page, not by locators.

    That is a screen with the input method ``simulate`` or a `bots.DomPage` (whose verbs read
    fields with `bots._dom.look`).
    """
    return page_object.input_method == "simulate" or isinstance(page_object, DomPage)


# Whether an element is a control the in-page resolver would look for, in the top document
# (a field in a frame is filled within that frame, which the canary does not know).
_TOP_CONTROL_JS = """els => els.some(el => window === window.top
  && (el.matches('select, textarea') || (el.matches('input')
  && !['hidden', 'submit', 'button', 'image', 'reset'].includes((el.type || '').toLowerCase()))))"""


def _unresolved_fields(page_object: PageObject, found: dict[str, Locator]) -> set[str]:
    """The labels of `found` that are fields and that the in-page resolver misses."""
    seen = look(page_object.page, fields=list(found))
    # Not found in the page: a field the resolver cannot see, or no field at all (a heading,
    # a button, a table). Only the fields count; the common case (none) takes one more call.
    candidates = {label: found[label] for label in seen.missing}
    if not candidates or not _any_control(list(candidates.values())):
        return set()
    return {label for label, locator in candidates.items() if _any_control([locator])}


def _any_control(locators: list[Locator]) -> bool:
    union = locators[0]
    for locator in locators[1:]:
        union = union.or_(locator)
    return bool(union.evaluate_all(_TOP_CONTROL_JS))


def _appears(locator: Locator, timeout_ms: int) -> bool:
    try:
        locator.first.wait_for(state="attached", timeout=timeout_ms)
    except PlaywrightTimeoutError:
        return False
    return True


def _landmark(page_object: PageObject) -> Locator | None:
    try:
        return page_object.landmark()
    except NotImplementedError:
        return None


def _at_own_url(page_object: PageObject) -> bool:
    path = getattr(page_object, "path", None)
    if not isinstance(path, str) or path in ("", "/"):
        return False
    current = urlparse(page_object.page.url).path.rstrip("/")
    own = path.rstrip("/")
    return current == own or current.startswith(own + "/")
