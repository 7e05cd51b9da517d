"""The base of the Fachverfahren Steuern's screens: the login page tells an expired session.

Locators are built only from roles, labels and visible texts: the back office generates control
ids (``ctl00_Main_txt17``) that differ between releases, and layout v2 moves the case form's
fields into the tabs "Hund" and "Zahlung" (`PageObject.reveal` clicks the right tab). The same
classes therefore work on layout v1 and v2 unchanged. The screens a registration passes read
and submit by DOM calls (`bots.DomPage`), with the locators as their fallback. No business
logic here: the bot decides, the pages type, click and read.
"""

from __future__ import annotations

from typing import ClassVar

from playwright.sync_api import Locator

from bots import DomPage

__all__ = ["LOGIN_HEADING", "SteuerPage"]

LOGIN_HEADING = "Anmeldung – Fachverfahren Steuern"


class SteuerPage(DomPage):
    """Base of the Fachverfahren Steuern's screens: knows the login page (session expiry)."""

    login_heading: ClassVar[str | None] = LOGIN_HEADING
    path: ClassVar[str] = "/"
    heading: Locator

    def landmark(self) -> Locator:
        return self.heading
