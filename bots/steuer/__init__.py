"""The bot of the Fachverfahren Steuern: `SteuerBot` and its page objects.

``SteuerBot(session, SteuerSettings(), BotAccount())`` logs in and out of the tax back office,
and ``bot.check()`` is the canary a nightly run calls first; both serve every tax process.
``bot.register(application)`` enters a `connectors.records.hundesteuer.DogTaxApplication`
exactly once and returns a `Registration`. A refused login raises the kernel's
`amtsbote.LoginRefused` (codes ``login-refused``, ``account-locked``). Page objects live in
`bots.steuer.pages`. `draft_login` logs ``amtsbote draft-page --system steuer`` in.
"""

from __future__ import annotations

from ._draft import draft_login
from ._settings import SteuerSettings
from .bot import Registration, SteuerBot, parse_amount

__all__ = ["Registration", "SteuerBot", "SteuerSettings", "draft_login", "parse_amount"]
