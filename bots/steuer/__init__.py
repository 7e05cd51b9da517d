"""The bot of the Fachverfahren Steuern (dog tax): `HundesteuerBot` and its page objects.

``HundesteuerBot(session, SteuerSettings(), BotAccount()).register(application)`` enters a
`connectors.records.hundesteuer.DogTaxApplication` exactly once and returns a `Registration`;
``bot.check()`` is the canary a nightly run calls first. Page objects live in
`bots.steuer.pages`.
"""

from __future__ import annotations

from ._settings import SteuerSettings
from .bot import HundesteuerBot, Registration, parse_amount
from .pages import LoginRejected

__all__ = ["HundesteuerBot", "LoginRejected", "Registration", "SteuerSettings", "parse_amount"]
