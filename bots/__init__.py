"""Playwright bots for back offices without an API: the core every bot builds on.

- `BrowserSession`: one Chromium per worker thread, a context per logged-in session, clean
  shutdown (also on SIGTERM/SIGINT), restart after a crash.
- `Bot`: login, `step()` with re-login on session expiry, modal notices clicked away, errors
  translated into the kernel tree, `run_item()` with `RetryPolicy` and failure-only evidence.
- `PageObject`: one screen, locators by role and label only, `required_locators()` for the
  canary, `personal_fields()` for masking; `CanaryReport` from `Bot.check_screens()`
  (`ensure_loaded`: did a screen load at all; `check_screen`: are its locators there).
  Shared page helpers: `read_table` (rows as `Row`: headers matched as a person reads
  them), `column_headers`, `raise_validation` (a refused form as `BusinessRuleError` with
  the back office's German message and the field's label).
- Meaning-locators that tolerate a release (case, whitespace, a trailing colon; labels beside
  or above a field, in table cells, frames and pop-ups): `field_by_label`, `button_by_name`
  (also image buttons and postback links), `link_by_name`, `heading_by_name`, `role_by_name`,
  `frame_named`, `name_pattern`; a `Scope` is a Page, Frame, FrameLocator or Locator.
- Input methods per page object or form (`PageObject.input_method`, `fill_form`): ``fill``
  (Playwright's actionable fill) or ``simulate`` (`simulate_form`: one call fills a whole form
  by the same meaning-locators, fires input/change events, reads the values back).
- The DOM-call path (`DomPage`, `look`): a screen read (headings, alerts, field values, tables,
  links) and a form filled and submitted by its named button in one call each, without
  Playwright's per-document selector engine; falls back to the locators when not sure.
- `RefusedLogins`: a refused login (`amtsbote.LoginRefused`) is remembered per back office and
  account, so later runs do not try the same password again (accounts lock).
- `BrowserSettings`, `BotAccount`: settings (``AMTSBOTE_BROWSER_*``, ``AMTSBOTE_<SYSTEM>_*``).

One package per back office holds its page objects and bot, e.g. `bots.steuer`.
"""

from __future__ import annotations

from ._bot import Bot
from ._canary import CanaryFailed, CanaryReport, ScreenCheck, check_screen, ensure_loaded
from ._dom import DomPage, Look, look
from ._evidence import REDACTED, safe_key, write_evidence
from ._item_evidence import bot_step
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
from ._pages import PageObject, column_headers, raise_validation, read_table
from ._refusals import RefusedLogins
from ._retry import Recovery, RetryPolicy
from ._session import BrowserNotFound, BrowserSession
from ._settings import (
    DEFAULT_CHROMIUM,
    DEFAULT_CHROMIUM_ARGS,
    DEFAULT_HEADLESS_SHELL,
    BotAccount,
    BrowserSettings,
)
from ._simulate import FieldValue, InputMethod, Option, simulate_form
from ._table import Row, header_key
from ._translate import (
    SessionExpired,
    http_error,
    is_crash,
    translate_playwright_error,
)

__all__ = [
    "Row",
    "header_key",
    "DEFAULT_CHROMIUM",
    "DEFAULT_HEADLESS_SHELL",
    "DEFAULT_CHROMIUM_ARGS",
    "REDACTED",
    "Bot",
    "BotAccount",
    "BrowserNotFound",
    "BrowserSession",
    "BrowserSettings",
    "CanaryFailed",
    "CanaryReport",
    "DomPage",
    "FieldValue",
    "InputMethod",
    "Look",
    "Option",
    "PageObject",
    "Recovery",
    "RefusedLogins",
    "RetryPolicy",
    "ScreenCheck",
    "Scope",
    "SessionExpired",
    "bot_step",
    "button_by_name",
    "check_screen",
    "column_headers",
    "ensure_loaded",
    "field_by_label",
    "frame_named",
    "heading_by_name",
    "http_error",
    "is_crash",
    "link_by_name",
    "look",
    "name_pattern",
    "raise_validation",
    "read_table",
    "role_by_name",
    "safe_key",
    "simulate_form",
    "translate_playwright_error",
    "write_evidence",
]
