"""The screens around a session: login ("Anmeldung") and the start page with the navigation.

Shared by every process the Fachverfahren Steuern serves: `bots.steuer.SteuerBot` logs in and
out through them, whatever it enters afterwards.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from amtsbote import LoginRefused

from ._base import LOGIN_HEADING, SteuerPage

__all__ = ["LoginPage", "StartPage"]


class LoginPage(SteuerPage):
    """``/login``: user name, password, "Anmelden"."""

    screen = "Anmeldung"
    path = "/login"
    input_method = "simulate"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named(LOGIN_HEADING)
        self.username = self.labelled("Benutzername")
        self.password = self.labelled("Passwort")
        self.submit_button = self.button_named("Anmelden")
        self.wrong_credentials = page.get_by_role("alert").filter(
            has_text="Benutzername oder Passwort falsch."
        )
        self.account_locked = page.get_by_role("alert").filter(has_text="Konto gesperrt")
        self.expired = page.get_by_role("alert").filter(has_text="Ihre Sitzung ist abgelaufen")

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Anmeldung – Fachverfahren Steuern": self.heading,
            "Benutzername": self.username,
            "Passwort": self.password,
            "Anmelden": self.submit_button,
        }

    def is_shown(self) -> bool:
        """True if the login page is on screen (e.g. after the session expired)."""
        return self.heading.is_visible()

    def login(self, username: str, password: str) -> StartPage:
        """Log in; the page must show the login form.

        Raises:
            LoginRefused: "Benutzername oder Passwort falsch." (code ``login-refused``) or
                "Konto gesperrt …" (code ``account-locked``); names the account only.
        """
        self.arrive_login()
        self.fill_form({"Benutzername": username, "Passwort": password})
        self.submit_form(self.submit_button)
        start = StartPage(self.page)
        start.heading.or_(self.wrong_credentials).or_(self.account_locked).first.wait_for()
        if self.wrong_credentials.count():
            raise LoginRefused(
                f"Anmeldung als {username!r} im Fachverfahren Steuern abgelehnt: "
                "Benutzername oder Passwort falsch.",
                account=username,
                system="steuer",
            )
        if self.account_locked.count():
            raise LoginRefused(
                f"Anmeldung als {username!r} im Fachverfahren Steuern abgelehnt: Konto gesperrt "
                "(zu viele fehlgeschlagene Anmeldungen); die Systemverwaltung muss es entsperren.",
                account=username,
                system="steuer",
                code="account-locked",
            )
        return start

    def arrive_login(self) -> None:
        """Wait for the login form (or an error page)."""
        # The login heading is this screen's own heading, not a sign of expiry here.
        self.heading.or_(self._error_heading).first.wait_for()
        if not self.heading.is_visible():
            self.arrive(self.heading)


class StartPage(SteuerPage):
    """``/start``: heading "Fachverfahren Steuern" and the navigation."""

    screen = "Startseite"
    path = "/start"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named("Fachverfahren Steuern")
        self.search_link = self.link_named("Steuerpflichtige suchen")
        self.new_taxpayer_link = self.link_named("Neuer Steuerpflichtiger")
        self.cases_link = self.link_named("Hundesteuerfälle")
        self.logout = self.button_named("Abmelden").or_(self.link_named("Abmelden"))

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Fachverfahren Steuern": self.heading,
            "Steuerpflichtige suchen": self.search_link,
            "Neuer Steuerpflichtiger": self.new_taxpayer_link,
            "Hundesteuerfälle": self.cases_link,
            "Abmelden": self.logout,
        }
