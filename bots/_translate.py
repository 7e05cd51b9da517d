"""Playwright's exceptions and the back office's error pages, translated into the kernel tree.

Flows decide by type alone (`ApplicationError` is retried, `BusinessRuleError` is not), so every
library error is translated here, at the bots' edge, into a code without personal data.
"""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from amtsbote import ApplicationError

__all__ = [
    "SessionExpired",
    "is_crash",
    "translate_playwright_error",
    "http_error",
]

_NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
_CRASH_MARKERS = (
    "Target crashed",
    "Target page, context or browser has been closed",
    "Browser has been closed",
    "browser has disconnected",
    "Page crashed",
    "Connection closed",
)


class SessionExpired(ApplicationError):
    """The back office showed its login page in the middle of a step (session timed out)."""

    default_code = "session-expired"


def is_crash(exc: BaseException) -> bool:
    """True if `exc` says the page, context or browser is gone (crashed or closed)."""
    text = str(exc)
    return isinstance(exc, PlaywrightError) and any(m in text for m in _CRASH_MARKERS)


def translate_playwright_error(
    exc: PlaywrightError, *, step: str | None = None
) -> ApplicationError:
    """Map a Playwright error to `ApplicationError` with a stable code.

    Codes: ``timeout``, ``network-<ERR_…>`` (e.g. ``network-err_connection_refused``),
    ``browser-crashed`` and ``browser-error`` for anything else.

    Args:
        exc: The Playwright error.
        step: The bot step it happened in (part of the message, for the log).
    """
    where = f" (Schritt {step})" if step else ""
    if isinstance(exc, PlaywrightTimeoutError):
        return ApplicationError(f"Zeitüberschreitung im Fachverfahren{where}.", code="timeout")
    text = str(exc)
    net = _NET_ERROR.search(text)
    if net:
        return ApplicationError(
            f"Netzwerkfehler {net.group(1)}{where}.", code=f"network-{net.group(1).lower()}"
        )
    if is_crash(exc):
        return ApplicationError(
            f"Browser abgestürzt oder geschlossen{where}.", code="browser-crashed"
        )
    return ApplicationError(f"Browserfehler{where}.", code="browser-error")


def http_error(status: int, *, step: str | None = None) -> ApplicationError:
    """The `ApplicationError` for an HTTP error page of the back office (code ``http-<status>``)."""
    where = f" (Schritt {step})" if step else ""
    return ApplicationError(
        f"Das Fachverfahren antwortete mit HTTP {status}{where}.", code=f"http-{status}"
    )
