"""Variant 3, the Amtsbote bot alone: `SteuerBot.register` in one warm `BrowserSession`.

No Prefect, no portal: what the framework's bot layer (page objects by role and label,
search-before-create, arrival checks, retries, failure-only evidence) costs over the raw
script. Settings are the defaults a deployment gets (retries, re-login, traces of retries).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Playwright
from pydantic import SecretStr

from bench._data import AKTENZEICHEN
from bots import BotAccount, BrowserSession
from bots.steuer import SteuerBot, SteuerSettings
from connectors.records.hundesteuer import DogTaxApplication

__all__ = ["AmtsboteBot"]


class AmtsboteBot:
    """The bot, logged in once, registering one application per call."""

    name = "amtsbote-bot"

    def __init__(self, pw: Playwright, base_url: str, username: str, password: str) -> None:
        self.pw = pw
        self.base_url = base_url
        self.account = BotAccount(username=username, password=SecretStr(password))
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-evidence-")
        self.session: BrowserSession | None = None
        self.bot: SteuerBot | None = None

    def start(self) -> None:
        self.session = BrowserSession(handle_signals=False, playwright=self.pw)
        self.session.start()
        self.bot = SteuerBot(
            self.session,
            SteuerSettings(base_url=self.base_url),
            self.account,
            evidence_dir=Path(self._tmp.name),
            run_id="bench",
        )
        self.bot.start()

    def register(self, app: DogTaxApplication) -> str:
        assert self.bot is not None
        registration = self.bot.register(app)
        assert registration.created and AKTENZEICHEN.match(registration.aktenzeichen)
        return registration.aktenzeichen

    def close(self) -> None:
        if self.bot is not None:
            self.bot.close()
            self.bot = None
        if self.session is not None:
            self.session.close()
            self.session = None
        self._tmp.cleanup()
