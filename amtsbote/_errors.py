"""The one exception tree of Amtsbote.

```
AmtsboteError
├── BusinessRuleError   the data is wrong or not eligible: never retried; the item is
│                       rejected with `message` (German, readable by a citizen or clerk)
├── ApplicationError    a system misbehaves (timeout, 5xx, session lost, browser crash):
│   │                   retried with backoff; after the last try the item stays in its source
│   └── ItemHeld        the source holds an item this installation cannot open (encrypted
│                       to a key it lacks): it waits there, reported with its age
├── ReviewRequired      a clerk must decide (Klärfall); carries the facts for the review form
└── LoginRefused        the back office refused the bot's login (wrong password, account
                        locked): never retried, the bot session stops at once (accounts
                        lock); carries the account name, never the password
```

Connectors and bots translate library exceptions (httpx, Playwright, pypdf, lxml …) into these
at their edge, so flows decide by type alone. Messages never contain personal data beyond what
the citizen themselves entered and is shown back to them; log records use `code`, not `message`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "AmtsboteError",
    "ApplicationError",
    "BusinessRuleError",
    "ItemHeld",
    "LoginRefused",
    "ReviewRequired",
    "is_retryable",
]


class AmtsboteError(Exception):
    """Base of every error Amtsbote raises on purpose.

    Args:
        message: Human-readable text (German where a citizen or clerk reads it).
        code: A stable, machine-readable code without personal data (for logs, audit, artifacts).
        field: The data field concerned, if any (e.g. ``"dog.chipNumber"``).
    """

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, field={self.field!r})"


class BusinessRuleError(AmtsboteError):
    """The data is wrong or not eligible. Never retried; rejected with `message`."""

    default_code = "business-rule"


class ApplicationError(AmtsboteError):
    """A system misbehaved. Retried with backoff; the item stays in its source on the last try."""

    default_code = "application"


class ItemHeld(ApplicationError):
    """An item its source holds but this installation cannot open; it stays at the source.

    Neither the sender's fault for certain nor a passing outage: typically a part encrypted to
    a key the installation lacks (a key dropped too early in a rotation, a new key not yet
    installed). The intake neither stores nor rejects it; its watch reports it with its age,
    since a source may give up on it (FIT-Connect rejects by itself after 14 days).

    Args:
        message: German text for the admin.
        code: What is missing, e.g. ``"jwe-unknown-kid"``.
        since: When the item reached its source, if known.
        part: Which part could not be opened (``"metadata"``, ``"attachment:<id>"`` …).
    """

    default_code = "held"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        since: datetime | None = None,
        part: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.since = since
        self.part = part


class ReviewRequired(AmtsboteError):
    """A clerk must decide (Klärfall).

    Args:
        facts: What the clerk needs to decide, shown in the review form. May contain the
            citizen's data (the review form is an authorised view), so never logged.
    """

    default_code = "review-required"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.facts = dict(facts or {})


class LoginRefused(AmtsboteError):
    """The back office refused the bot's login. Never retried, by anyone.

    Neither a business rule (the item is fine) nor a system failure (the system works): the
    credentials are wrong or the account is locked. Real back offices lock an account after a
    few failed logins (three is common), so a retry would lock it: the bot session stops at
    once and the run fails with this message. Not an `ApplicationError`, so task retries and
    the bot's retry policy leave it alone.

    Args:
        message: German text for the admin; the account name is added if it is missing.
        account: The refused account's login name (never the password).
        system: The back office, e.g. ``"steuer"``, if known.
        code: ``"login-refused"`` (wrong credentials, the default) or ``"account-locked"``.
    """

    default_code = "login-refused"

    def __init__(
        self, message: str, *, account: str, system: str | None = None, code: str | None = None
    ) -> None:
        if account and account not in message:
            message = f"{message} (Konto {account!r})"
        super().__init__(message, code=code)
        self.account = account
        self.system = system

    def __repr__(self) -> str:
        return f"LoginRefused(code={self.code!r}, account={self.account!r}, system={self.system!r})"


def is_retryable(exc: BaseException) -> bool:
    """True for errors a retry may cure (only `ApplicationError`)."""
    return isinstance(exc, ApplicationError)
