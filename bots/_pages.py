"""The base of all page objects: locators by meaning, tabs revealed, arrival checked.

A page object wraps one screen. It builds its locators by role and label in ``__init__`` (never
ids, CSS positions or ``nth()``: generated ids change between versions of a back office) with the
tolerant meaning-locators of `bots._locate` (case, whitespace and a trailing colon do not matter;
a field without an associated label is found by the text beside or above it), offers
verbs, and declares two lists the framework needs: `required_locators` (what the canary checks)
and `personal_fields` (what a failure screenshot masks). Business logic lives in the bot.

Helpers every system's pages share live here too: `read_table` and `column_headers` for result
tables, `raise_validation` for a form the back office refused (its own German message and the
field's label become a `BusinessRuleError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from playwright.sync_api import Frame, FrameLocator, Locator, Page, Response

from amtsbote import ApplicationError, BusinessRuleError

from ._locate import (
    Scope,
    button_by_name,
    field_by_label,
    frame_named,
    heading_by_name,
    link_by_name,
    name_pattern,
    role_by_name,
)
from ._simulate import FieldValue, InputMethod, Option, simulate_values
from ._table import Row
from ._translate import SessionExpired, http_error

__all__ = ["PageObject", "column_headers", "raise_validation", "read_table"]

_ERROR_HEADING = re.compile(r"^Fehler (5\d\d)\b")
_FORBIDDEN_HEADING = re.compile(r"Ungültiges Formular-Token")

# The aria-describedby link between a field and its inline error (role=alert) is read in the
# browser: the accessible description is not exposed as a Playwright value.
_FIELD_ALERTS_JS = """el => (el.getAttribute('aria-describedby') || '').split(/\\s+/)
  .map(id => id && document.getElementById(id))
  .filter(n => n && n.getAttribute('role') === 'alert')
  .map(n => n.textContent.trim())"""


class PageObject:
    """One screen of a back office.

    Class attributes:
        screen: The screen's name in canary reports and logs.
        login_heading: The heading of the system's login page; when it shows up instead of the
            expected screen, the session has expired.
    """

    screen: ClassVar[str] = "Seite"
    login_heading: ClassVar[str | None] = None
    input_method: ClassVar[InputMethod] = "fill"
    """How `fill_form` enters this screen's forms: ``"fill"`` (Playwright's actionable fill per
    field) or ``"simulate"`` (one call for the whole form, values read back; see
    `bots._simulate` for when it is wrong)."""
    fill_fields: ClassVar[frozenset[str]] = frozenset()
    """Labels that always take ``"fill"``, also in a ``"simulate"`` form (a field with key
    handlers or an input mask)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self._has_tabs: bool | None = None
        self._error_heading = page.get_by_role("heading", name=_ERROR_HEADING)
        self._forbidden_heading = page.get_by_role("heading", name=_FORBIDDEN_HEADING)
        self._login = heading_by_name(page, self.login_heading) if self.login_heading else None

    # -- declared by each screen -----------------------------------------------------------

    def required_locators(self) -> dict[str, Locator]:
        """Label → locator of everything the bot relies on (checked by the canary)."""
        return {}

    def personal_fields(self) -> list[Locator]:
        """Locators of fields that show personal data (masked on failure screenshots)."""
        return []

    def landmark(self) -> Locator:
        """The locator that tells this screen is shown (usually its heading)."""
        raise NotImplementedError

    def wait_loaded(self) -> None:
        """Wait for this screen (see `arrive`)."""
        self.arrive(self.landmark())

    # -- helpers for subclasses ------------------------------------------------------------

    def arrive(self, expected: Locator, *, response: Response | None = None) -> None:
        """Wait until `expected` shows, or fail fast on a login page or an error page.

        Args:
            expected: A locator that only the expected screen shows (e.g. its heading).
            response: The navigation's response, if known (status ≥ 500 fails at once).

        Raises:
            SessionExpired: The login page appeared instead.
            ApplicationError: An HTTP 5xx or "Ungültiges Formular-Token" page appeared.
        """
        if response is not None and response.status >= 500:
            raise http_error(response.status, step=self.screen)
        if expected.first.is_visible():  # server-rendered pages are complete on arrival
            return
        outcome = expected.or_(self._error_heading).or_(self._forbidden_heading)
        if self._login is not None:
            outcome = outcome.or_(self._login)
        # `first`: any one of these alternative states ends the wait; not a pick from a list.
        outcome.first.wait_for(state="visible")
        if expected.count() and expected.first.is_visible():
            return
        if self._login is not None and self._login.is_visible():
            raise SessionExpired("Die Sitzung im Fachverfahren ist abgelaufen.")
        if self._forbidden_heading.count():
            raise ApplicationError(
                "Das Fachverfahren hat das Formular-Token abgelehnt.", code="csrf-rejected"
            )
        title = self._error_heading.inner_text()
        match = _ERROR_HEADING.search(title)
        raise http_error(int(match.group(1)) if match else 500, step=self.screen)

    def reveal(self, locator: Locator) -> Locator:
        """Make `locator` visible: if it sits in a hidden tab panel, click that panel's tab.

        Tabs are found by role and matched by content (the panel named like the tab that holds
        the field), so this works whether a layout has tabs or not.
        """
        if self._has_tabs is None:  # once per screen visit: most layouts have no tabs
            self._has_tabs = self.page.get_by_role("tab").count() > 0
        if not self._has_tabs or locator.is_visible():
            return locator
        tabs = self.page.get_by_role("tab").all()
        for tab in tabs:
            name = tab.inner_text().strip()
            panel = self.page.get_by_role("tabpanel", name=name, include_hidden=True)
            if panel.filter(has=locator).count():
                tab.click()
                locator.wait_for(state="visible")
                return locator
        for tab in tabs:  # panels without accessible names: try each tab in turn
            tab.click()
            if locator.is_visible():
                return locator
        return locator

    def fill(self, locator: Locator, value: str) -> None:
        """Reveal `locator` and fill it with `value`."""
        self.reveal(locator).fill(value)

    def set_checked(self, locator: Locator, checked: bool) -> None:
        """Reveal a checkbox or radio and set it."""
        self.reveal(locator).set_checked(checked)

    def fill_form(
        self,
        values: Mapping[str, FieldValue],
        *,
        method: InputMethod | None = None,
        within: Page | Frame | Locator | None = None,
    ) -> dict[str, str | bool]:
        """Enter a form: label → text, `Option` (a select's option text) or bool (tick).

        Uses the screen's `input_method` (or `method`); labels in `fill_fields` always take
        ``"fill"``. Either way a field is found by `labelled` (the same meaning-locators) and
        revealed from a closed tab panel as needed.

        Returns:
            Label → value: read back from the page for ``"simulate"``; as entered for
            ``"fill"`` (Playwright's fill checks the field is visible, enabled and editable).

        Raises:
            ApplicationError: ``"simulate"``: a field is missing, ambiguous, read-only or reads
                back different (its label in ``field``).
        """
        scope = self.page if within is None else within
        method = method or self.input_method
        typed = {k: v for k, v in values.items() if method == "fill" or k in self.fill_fields}
        read: dict[str, str | bool] = {}
        rest = {k: v for k, v in values.items() if k not in typed}
        if rest:
            values_read, has_tabs = simulate_values(scope, rest, screen=self.screen)
            read.update(values_read)
            if scope is self.page:  # the form's call looked for tabs too: `reveal` need not ask
                self._has_tabs = has_tabs
        for label, value in typed.items():
            locator = self.reveal(field_by_label(scope, label))
            if isinstance(value, bool):
                locator.set_checked(value)
            elif isinstance(value, Option):
                locator.select_option(label=str(value))
            else:
                locator.fill(value)
            read[label] = value
        return {k: read[k] for k in values}

    def _scope(self, within: Scope | None) -> Scope:
        return self.page if within is None else within

    def heading_named(self, name: str, *, within: Scope | None = None) -> Locator:
        """The heading with this text (tolerant: see `bots.name_pattern`)."""
        return heading_by_name(self._scope(within), name)

    def labelled(self, label: str, *, within: Scope | None = None) -> Locator:
        """The control with this label, associated or beside it (see `bots.field_by_label`)."""
        return field_by_label(self._scope(within), label)

    def button_named(self, name: str, *, within: Scope | None = None) -> Locator:
        """The button (also image button or postback link) with this name (tolerant)."""
        return button_by_name(self._scope(within), name)

    def link_named(self, name: str, *, within: Scope | None = None) -> Locator:
        """The link with this text (tolerant)."""
        return link_by_name(self._scope(within), name)

    def role_named(
        self, role: str, name: str, *, within: Scope | None = None, include_hidden: bool = False
    ) -> Locator:
        """The element of `role` named or titled `name`, e.g. a dialog or a radio group."""
        return role_by_name(self._scope(within), role, name, include_hidden=include_hidden)

    def frame(self, name: str) -> FrameLocator:
        """The frame of a frameset (or an iframe) with this ``name``: a scope for the helpers.

        A page object of a frameset builds its locators with ``within=self.frame("inhalt")``.
        """
        return frame_named(self.page, name)

    def open_popup(self, trigger: Locator) -> Page:
        """Click `trigger` and return the window it opens (e.g. a lookup list), loaded.

        Build the pop-up's own page object on the returned `Page`; it closes itself or is
        closed by the caller.
        """
        with self.page.expect_popup() as info:
            trigger.click()
        popup = info.value
        popup.wait_for_load_state("domcontentloaded")
        return popup

    def submit_form(self, button: Locator) -> None:
        """Click a submit button and wait for the answer page (no fixed sleeps).

        Raises:
            ApplicationError: The answer is an HTTP 5xx (code ``http-<status>``).
        """
        # domcontentloaded, not commit: a table or a read-back needs the whole document parsed.
        with self.page.expect_navigation(wait_until="domcontentloaded") as nav:
            self.reveal(button).click()
        response = nav.value
        if response is not None and response.status >= 500:
            raise http_error(response.status, step=self.screen)


def read_table(table: Locator, rows: Locator) -> list[Row]:
    """Read `rows` of `table` as dicts keyed by the column headers' texts.

    Columns are matched by their header text, not by position in a locator, so reordered
    columns in a new release still read right; each row is a `Row`, so a header written
    in capitals or with a trailing colon still answers to its usual name.

    Args:
        table: The table (e.g. ``page.get_by_role("table", name="Suchergebnis")``).
        rows: Its rows of interest (e.g. ``table.get_by_role("row").filter(has_text=...)``).
    """
    headers = table.get_by_role("columnheader").all_inner_texts()
    result = []
    for row in rows.all():
        cells = row.get_by_role("cell").all_inner_texts()
        if cells:
            result.append(Row.of(headers, cells))
    return result


def column_headers(table: Locator, *names: str) -> dict[str, Locator]:
    """Name → column header locator of `table`, for `PageObject.required_locators`."""
    return {n: table.get_by_role("columnheader", name=name_pattern(n)) for n in names}


def raise_validation(page: Page, fields: dict[str, Locator], *, code: str) -> None:
    """Raise `BusinessRuleError` with the first inline error message and its field's label.

    A field's inline error is the ``role=alert`` element its ``aria-describedby`` names. When
    no field has one, the first alert on the page (the form's summary) is the message. All
    field errors are listed in the attribute ``errors`` (label → message).

    Args:
        page: The page showing the refused form.
        fields: Label → control of every field that may carry an error.
        code: The error code (e.g. ``case-invalid``).

    Raises:
        BusinessRuleError: Always; ``field`` is the label of the first field in error.
    """
    errors: dict[str, str] = {}
    for label, locator in fields.items():
        if locator.count() != 1:
            continue
        for message in locator.evaluate(_FIELD_ALERTS_JS):
            errors.setdefault(label, message)
    if not errors:
        texts = [t.strip() for t in page.get_by_role("alert").all_inner_texts() if t.strip()]
        message = texts[0] if texts else "Das Fachverfahren hat die Eingaben abgelehnt."
        raise BusinessRuleError(message, code=code)
    label, message = next(iter(errors.items()))
    error = BusinessRuleError(message, code=code, field=label)
    error.errors = errors  # type: ignore[attr-defined]
    raise error
