"""The bot of the Fachverfahren Steuern (dog tax): `HundesteuerBot` and its page objects.

``HundesteuerBot(session, SteuerSettings(), BotAccount()).register(application)`` enters a
`connectors.portal.DogTaxApplication` exactly once and returns a `Registration`;
``bot.check()`` is the canary a nightly run calls first. A refused login raises the kernel's
`amtsbote.LoginRefused` (codes ``login-refused``, ``account-locked``). Page objects live in
`bots.steuer.pages`.
"""

from __future__ import annotations

from ._settings import SteuerSettings
from .bot import HundesteuerBot, Registration, parse_amount

__all__ = ["HundesteuerBot", "Registration", "SteuerSettings", "parse_amount"]
