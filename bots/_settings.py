"""Settings of the browser and of a bot's service account (pydantic-settings).

Why objects and not module constants: the flow passes them in explicitly, tests build them
with other values, and the environment (``AMTSBOTE_BROWSER_*``, ``AMTSBOTE_<SYSTEM>_*``) or a
Prefect Secret block fills them in production. Passwords are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEFAULT_CHROMIUM",
    "DEFAULT_CHROMIUM_ARGS",
    "DEFAULT_HEADLESS_SHELL",
    "BotAccount",
    "BrowserSettings",
]

DEFAULT_CHROMIUM = "/usr/lib/chromium/chromium"
"""Debian's real Chromium binary (package ``chromium``); Playwright cannot download one."""

DEFAULT_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
"""Debian's headless-only build of the same Chromium (package ``chromium-headless-shell``).

What Playwright itself runs for headless Chromium: the same engine without the browser's own
user interface. Measured here on a registration's page loads and fills: 30 % less wall time
and 31 % less CPU than the full binary in ``--headless`` mode.
"""

DEFAULT_CHROMIUM_ARGS: tuple[str, ...] = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class BrowserSettings(BaseSettings):
    """How bots start Chromium (env prefix ``AMTSBOTE_BROWSER_``).

    Attributes:
        executable_path: The Chromium binary. Unset: Debian's ``chromium-headless-shell`` when
            running headless and installed (as Playwright does), else Debian's ``chromium``.
        headless: Run without a window (servers have none).
        args: Command-line switches for Chromium.
        chromium_sandbox: Chromium's own sandbox; off because containers rarely allow it.
        timeout_ms: Default timeout of every Playwright action and wait.
        navigation_timeout_ms: Default timeout of navigations.
        locale: Browser locale (German back offices format dates and numbers by it).
        trace: Record Playwright traces of items (kept only when the item fails).
        trace_attempts: Which attempts of an item are traced. ``"retries"`` (default, like
            Playwright Test's ``on-first-retry``): every attempt after the first, so a system
            failure that outlives its retries leaves the full trace of its last attempt, while
            the first attempt of every item runs untraced. ``"all"``: the first attempt too, so
            a rejection by the back office (not retried) also has a trace; costs about a third
            more time per item (measured: 1.61 s instead of 1.24 s). A trace holds what was
            typed unmasked, so fewer traces is also less personal data at rest; the failure
            screenshot (masked) and HTML (redacted) are written either way.
        trace_screenshots: Also film the page into the trace (a screencast frame per paint).
            Off by default: another ~12 % per traced attempt, and the trace's DOM snapshots
            already show each step.
    """

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_BROWSER_", extra="ignore")

    executable_path: Path | None = None
    headless: bool = True
    args: list[str] = Field(default_factory=lambda: list(DEFAULT_CHROMIUM_ARGS))
    chromium_sandbox: bool = False
    timeout_ms: float = 10_000
    navigation_timeout_ms: float = 15_000
    locale: str = "de-DE"
    trace: bool = True
    trace_attempts: Literal["retries", "all"] = "retries"
    trace_screenshots: bool = False

    def binary(self) -> Path:
        """The Chromium binary to launch (see `executable_path`)."""
        if self.executable_path is not None:
            return self.executable_path
        shell = Path(DEFAULT_HEADLESS_SHELL)
        if self.headless and shell.is_file() and os.access(shell, os.X_OK):
            return shell
        return Path(DEFAULT_CHROMIUM)


class BotAccount(BaseSettings):
    """A bot's own service account in one back office.

    The env prefix is ``AMTSBOTE_STEUER_`` by default (``AMTSBOTE_STEUER_USERNAME``,
    ``AMTSBOTE_STEUER_PASSWORD``, ``AMTSBOTE_STEUER_PASSWORD_BLOCK``); pass
    ``_env_prefix="AMTSBOTE_<SYSTEM>_"`` for another system.

    Attributes:
        username: The login name.
        password: The password, if given directly (environment or code in tests).
        password_block: Name of a Prefect ``Secret`` block holding the password; used when
            ``password`` is not set.
    """

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_STEUER_", extra="ignore")

    username: str = ""
    password: SecretStr | None = None
    password_block: str | None = None

    @classmethod
    def from_secret_block(cls, username: str, block_name: str) -> BotAccount:
        """An account whose password lives in a Prefect ``Secret`` block.

        Args:
            username: The login name.
            block_name: The Secret block's name.

        Returns:
            The account with the password loaded from the block.
        """
        return cls(username=username, password=_load_secret(block_name))

    def secret(self) -> SecretStr:
        """The password, loaded from the Prefect Secret block if only a block is configured.

        Raises:
            ValueError: Neither a password nor a block is configured.
        """
        if self.password is not None:
            return self.password
        if self.password_block:
            self.password = _load_secret(self.password_block)
            return self.password
        raise ValueError(f"no password configured for bot account {self.username!r}")


def _load_secret(block_name: str) -> SecretStr:
    # Prefect is imported here only: bots must work (and test) without a Prefect server.
    from prefect.blocks.system import Secret

    # _sync: the sync Playwright runs an event loop in this thread, which would make Prefect
    # hand back a coroutine; a bot is synchronous code.
    block = Secret.load(block_name, _sync=True)  # type: ignore[call-arg]
    value = block.get()  # type: ignore[union-attr]
    return SecretStr(str(value))
