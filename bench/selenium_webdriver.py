"""Variant 6, Selenium WebDriver: the peer to beat (what ``RPA.Browser.Selenium`` users run).

Debian's ``chromedriver`` drives the same Chromium binary with the same flags. The script does
the same UI steps as the raw Playwright one; fields are found by their label (one XPath per
field: the control whose id the label's ``for`` names), since the back office's ids are
generated. Clicks that submit wait for the next page's heading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from bench._data import AKTENZEICHEN, fields_of
from bots import DEFAULT_CHROMIUM_ARGS, BrowserSettings
from connectors.records.hundesteuer import DogTaxApplication

__all__ = ["CHROMEDRIVER", "SeleniumWebDriver"]

CHROMEDRIVER = "/usr/bin/chromedriver"


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"


def _replaced(element: WebElement) -> Callable[[Any], bool]:
    """`ec.staleness_of`, also for the headless shell's way of saying it ("Node with given id
    does not belong to the document" instead of a stale element reference)."""

    def check(_driver: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # StaleElementReferenceException is one of them
            return True
        return False

    return check


class SeleniumWebDriver:
    """A hand-written Selenium script, split into start / register / close."""

    name = "selenium"

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.driver: webdriver.Chrome | None = None

    def start(self) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = str(BrowserSettings().binary())  # the bot's binary
        for arg in (*DEFAULT_CHROMIUM_ARGS, "--headless=new", "--no-sandbox", "--lang=de-DE"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.get(self.base_url + "/login")
        self._field("Benutzername").send_keys(self.username)
        self._field("Passwort").send_keys(self.password)
        self._submit("Anmelden", "Fachverfahren Steuern")

    def _field(self, label: str) -> WebElement:
        assert self.driver is not None
        lit = _xpath_literal(label)
        return self.driver.find_element(By.XPATH, f"//*[@id=//label[normalize-space()={lit}]/@for]")

    def _fill(self, label: str, value: str) -> None:
        el = self._field(label)
        el.clear()
        el.send_keys(value)

    def _submit(self, button: str, heading: str, *, link: bool = False) -> None:
        assert self.driver is not None
        tag = "a" if link else "button"
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(
            By.XPATH, f"//{tag}[normalize-space()={_xpath_literal(button)}]"
        ).click()
        wait = WebDriverWait(self.driver, 10, poll_frequency=0.02)
        wait.until(_replaced(old))  # the next page, not the one we clicked on
        wait.until(
            ec.presence_of_element_located(
                (By.XPATH, f"//h1[normalize-space()={_xpath_literal(heading)}]")
            )
        )

    def register(self, app: DogTaxApplication) -> str:
        driver = self.driver
        assert driver is not None
        f = fields_of(app)
        driver.get(f"{self.base_url}/faelle?suchbegriff={quote(f.reference, safe='')}")
        if driver.find_elements(By.XPATH, f"//td[normalize-space()={_xpath_literal(f.reference)}]"):
            raise AssertionError("case exists already")

        driver.get(self.base_url + "/steuerpflichtige")
        self._fill("Nachname", f.family_name)
        self._fill("Vorname", f.given_name)
        self._fill("Geburtsdatum", f.birth_date)
        self._submit("Suchen", "Steuerpflichtige suchen")
        name = _xpath_literal(f"{f.family_name}, {f.given_name}")
        if driver.find_elements(By.XPATH, f"//td[normalize-space()={name}]"):
            raise AssertionError("taxpayer exists already")

        driver.get(self.base_url + "/steuerpflichtige/neu")
        self._fill("Nachname", f.family_name)
        self._fill("Vorname", f.given_name)
        self._fill("Geburtsdatum", f.birth_date)
        self._fill("Straße und Hausnummer", f.street)
        self._fill("Postleitzahl", f.postal_code)
        self._fill("Ort", f.city)
        self._fill("E-Mail", f.email)
        self._submit("Speichern", "Steuerpflichtiger")
        steuernummer = self._field("Steuernummer").get_property("value")

        self._submit("Hundesteuerfall anlegen", "Hundesteuerfall anlegen", link=True)
        self._fill("Fremdreferenz", f.reference)
        self._fill("Name des Hundes", f.dog_name)
        Select(self._field("Rasse")).select_by_visible_text(f.breed_name)
        self._fill("Geburtsdatum des Hundes", f.dog_birth_date)
        self._fill("Transpondernummer", f.chip)
        self._fill("Halter seit", f.owned_since)
        self._field("SEPA-Lastschrift").click()
        self._field("SEPA-Lastschriftmandat liegt vor").click()
        self._fill("Kontoinhaber", f.account_holder)
        self._fill("IBAN", f.iban)
        self._fill("Ermäßigung (EUR)", "0,00")
        self._fill("Bemerkung", f.remark)
        self._submit("Fall anlegen", "Fall angelegt")
        aktenzeichen = str(self._field("Aktenzeichen").get_property("value")).strip()
        assert steuernummer and AKTENZEICHEN.match(aktenzeichen), "no Aktenzeichen"
        assert self._field("Fremdreferenz").get_property("value") == f.reference
        return aktenzeichen

    def close(self) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None
