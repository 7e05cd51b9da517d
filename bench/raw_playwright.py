"""Variant 2, raw Playwright: the minimal script a user writes without a framework.

The same browser binary and flags as Amtsbote, one context, one login, then per application the
same UI steps as the bot (case search, taxpayer search, new taxpayer, new case, read back the
Aktenzeichen), with Playwright's own locators by label and its waits for navigation. No retries,
no evidence, no tracing: the lower bound of browser automation.
"""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import Browser, Page, Playwright

from bench._data import AKTENZEICHEN, fields_of
from bots import DEFAULT_CHROMIUM_ARGS, BrowserSettings
from connectors.records.hundesteuer import DogTaxApplication

__all__ = ["RawPlaywright"]


class RawPlaywright:
    """A hand-written sync Playwright script, split into start / register / close."""

    name = "raw-playwright"

    def __init__(self, pw: Playwright, base_url: str, username: str, password: str) -> None:
        self.pw = pw
        self.base_url = base_url
        self.username = username
        self.password = password
        self.browser: Browser | None = None
        self.page: Page | None = None

    def start(self) -> None:
        self.browser = self.pw.chromium.launch(
            executable_path=str(BrowserSettings().binary()),  # the bot's binary
            headless=True,
            args=list(DEFAULT_CHROMIUM_ARGS),
            chromium_sandbox=False,
        )
        page = self.browser.new_context(locale="de-DE").new_page()
        page.goto(self.base_url + "/login")
        page.get_by_label("Benutzername").fill(self.username)
        page.get_by_label("Passwort").fill(self.password)
        with page.expect_navigation():
            page.get_by_role("button", name="Anmelden").click()
        page.get_by_role("heading", name="Fachverfahren Steuern").wait_for()
        self.page = page

    def register(self, app: DogTaxApplication) -> str:
        page = self.page
        assert page is not None
        f = fields_of(app)
        page.goto(f"{self.base_url}/faelle?suchbegriff={quote(f.reference, safe='')}")
        if page.get_by_role("cell", name=f.reference, exact=True).count():
            raise AssertionError("case exists already")

        page.goto(self.base_url + "/steuerpflichtige")
        page.get_by_label("Nachname").fill(f.family_name)
        page.get_by_label("Vorname").fill(f.given_name)
        page.get_by_label("Geburtsdatum").fill(f.birth_date)
        with page.expect_navigation():
            page.get_by_role("button", name="Suchen").click()
        name = f"{f.family_name}, {f.given_name}"
        if page.get_by_role("cell", name=name, exact=True).count():
            raise AssertionError("taxpayer exists already")

        page.goto(self.base_url + "/steuerpflichtige/neu")
        page.get_by_label("Nachname").fill(f.family_name)
        page.get_by_label("Vorname").fill(f.given_name)
        page.get_by_label("Geburtsdatum").fill(f.birth_date)
        page.get_by_label("Straße und Hausnummer").fill(f.street)
        page.get_by_label("Postleitzahl").fill(f.postal_code)
        page.get_by_label("Ort", exact=True).fill(f.city)
        page.get_by_label("E-Mail").fill(f.email)
        with page.expect_navigation():
            page.get_by_role("button", name="Speichern").click()
        steuernummer = page.get_by_label("Steuernummer").input_value()

        with page.expect_navigation():
            page.get_by_role("link", name="Hundesteuerfall anlegen").click()
        page.get_by_label("Fremdreferenz").fill(f.reference)
        page.get_by_label("Name des Hundes").fill(f.dog_name)
        page.get_by_label("Rasse").select_option(label=f.breed_name)
        page.get_by_label("Geburtsdatum des Hundes").fill(f.dog_birth_date)
        page.get_by_label("Transpondernummer").fill(f.chip)
        page.get_by_label("Halter seit").fill(f.owned_since)
        page.get_by_label("SEPA-Lastschrift", exact=True).check()
        page.get_by_label("SEPA-Lastschriftmandat liegt vor").check()
        page.get_by_label("Kontoinhaber").fill(f.account_holder)
        page.get_by_label("IBAN").fill(f.iban)
        page.get_by_label("Ermäßigung (EUR)").fill("0,00")
        page.get_by_label("Bemerkung").fill(f.remark)
        with page.expect_navigation():
            page.get_by_role("button", name="Fall anlegen").click()
        aktenzeichen = page.get_by_label("Aktenzeichen").input_value().strip()
        assert steuernummer and AKTENZEICHEN.match(aktenzeichen), "no Aktenzeichen"
        assert page.get_by_label("Fremdreferenz").input_value() == f.reference
        return aktenzeichen

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()
            self.browser = None
