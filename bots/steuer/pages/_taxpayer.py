"""The taxpayer screens: search (and its result table), "Neuer Steuerpflichtiger", the taxpayer.

A taxpayer (Steuerpflichtiger) is the person every tax case of the back office hangs on; these
screens find one by name and birth date, create one (answering the duplicate question), and
read its Steuernummer and the link to a new case.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Locator, Page

from amtsbote import BusinessRuleError
from bots import Look, Row, column_headers, look, raise_validation, read_table

from ._base import SteuerPage

_NONE_FOUND = "Keine Steuerpflichtigen gefunden."
_NEW_CASE = "Hundesteuerfall anlegen"

__all__ = [
    "TaxpayerEntry",
    "TaxpayerFormPage",
    "TaxpayerPage",
    "TaxpayerResults",
    "TaxpayerSearchPage",
]


class TaxpayerSearchPage(SteuerPage):
    """``/steuerpflichtige``: search by name and birth date; table "Suchergebnis"."""

    screen = "Steuerpflichtige suchen"
    path = "/steuerpflichtige"
    input_method = "simulate"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named("Steuerpflichtige suchen")
        self.family_name = self.labelled("Nachname")
        self.given_name = self.labelled("Vorname")
        self.birth_date = self.labelled("Geburtsdatum")
        self.search_button = self.button_named("Suchen")
        self.results = self.role_named("table", "Suchergebnis")
        self.no_results = page.get_by_text(_NONE_FOUND)
        self.search_error = page.get_by_role("alert")

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Steuerpflichtige suchen": self.heading,
            "Nachname": self.family_name,
            "Vorname": self.given_name,
            "Geburtsdatum": self.birth_date,
            "Suchen": self.search_button,
        }

    def personal_fields(self) -> list[Locator]:
        return [self.family_name, self.given_name, self.birth_date, self.results]

    def search(self, family_name: str, given_name: str, birth_date: str) -> list[Row]:
        """Search and return the result rows (keys: the column headers).

        Args:
            family_name: Nachname.
            given_name: Vorname.
            birth_date: Geburtsdatum as TT.MM.JJJJ.
        """
        values = {"Nachname": family_name, "Vorname": given_name, "Geburtsdatum": birth_date}
        self.submit_values(values, self.search_button, "Suchen", heading="Steuerpflichtige suchen")
        seen = look(self.page, tables=["Suchergebnis"], texts=[_NONE_FOUND])
        name = f"{family_name}, {given_name}"
        table = seen.tables["Suchergebnis"]
        if seen.shows("Steuerpflichtige suchen") and not seen.alerts:
            if table is not None:
                return [r for r in table if any(name in c for c in r.values())
                        and any(birth_date in c for c in r.values())]  # fmt: skip
            if seen.texts[_NONE_FOUND]:
                return []
        self.arrive(self.results.or_(self.no_results).or_(self.search_error))
        if not self.results.count():
            return []
        rows = self.results.get_by_role("row").filter(has_text=f"{family_name}, {given_name}")
        return read_table(self.results, rows.filter(has_text=birth_date))

    def select(self, steuernummer: str) -> TaxpayerPage:
        """Open the taxpayer of the result row with `steuernummer` ("Auswählen")."""
        row = self.results.get_by_role("row").filter(has_text=steuernummer)
        with self.page.expect_navigation(wait_until="domcontentloaded"):
            self.link_named("Auswählen", within=row).click()
        taxpayer = TaxpayerPage(self.page)
        taxpayer.arrive(taxpayer.heading)
        return taxpayer


class TaxpayerResults(TaxpayerSearchPage):
    """The result table of the taxpayer search (checked by the canary when it has rows)."""

    screen = "Suchergebnis"

    def landmark(self) -> Locator:
        return self.results

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Suchergebnis": self.results,
            **column_headers(self.results, "Steuernummer", "Name", "Geburtsdatum", "Anschrift"),
            "Auswählen": self.link_named("Auswählen", within=self.results),
        }


@dataclass(frozen=True)
class TaxpayerEntry:
    """The values of the "Neuer Steuerpflichtiger" form, as the screen wants them (strings)."""

    family_name: str
    given_name: str
    birth_date: str
    street_and_number: str
    postal_code: str
    city: str
    email: str


class TaxpayerFormPage(SteuerPage):
    """``/steuerpflichtige/neu``: create a taxpayer; may ask about a duplicate."""

    screen = "Neuer Steuerpflichtiger"
    path = "/steuerpflichtige/neu"
    input_method = "simulate"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named("Neuer Steuerpflichtiger")
        self.family_name = self.labelled("Nachname")
        self.given_name = self.labelled("Vorname")
        self.birth_date = self.labelled("Geburtsdatum")
        self.street = self.labelled("Straße und Hausnummer")
        self.postal_code = self.labelled("Postleitzahl")
        self.city = self.labelled("Ort")
        self.email = self.labelled("E-Mail")
        self.save_button = self.button_named("Speichern")
        self.duplicate = self.role_named("dialog", "Hinweis").filter(
            has=self.button_named("Ja, anlegen")
        )
        self.confirm_duplicate = self.button_named("Ja, anlegen", within=self.duplicate)
        self.cancel_duplicate = self.button_named("Abbrechen", within=self.duplicate)

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Neuer Steuerpflichtiger": self.heading,
            "Nachname": self.family_name,
            "Vorname": self.given_name,
            "Geburtsdatum": self.birth_date,
            "Straße und Hausnummer": self.street,
            "Postleitzahl": self.postal_code,
            "Ort": self.city,
            "E-Mail": self.email,
            "Speichern": self.save_button,
        }

    def personal_fields(self) -> list[Locator]:
        return [
            self.family_name, self.given_name, self.birth_date, self.street,
            self.postal_code, self.city, self.email,
        ]  # fmt: skip

    def fields(self) -> dict[str, Locator]:
        """Label → input of every data field (for reading inline errors)."""
        skip = {"Neuer Steuerpflichtiger", "Speichern"}
        return {k: v for k, v in self.required_locators().items() if k not in skip}

    def create(self, entry: TaxpayerEntry, *, confirm_duplicate: bool) -> TaxpayerPage:
        """Fill and save; answer the duplicate question with "Ja, anlegen" if allowed.

        Raises:
            BusinessRuleError: The back office rejected a value, or it reports a duplicate
                and `confirm_duplicate` is False (code ``taxpayer-duplicate``).
        """
        self.submit_values(
            {
                "Nachname": entry.family_name, "Vorname": entry.given_name,
                "Geburtsdatum": entry.birth_date, "Straße und Hausnummer": entry.street_and_number,
                "Postleitzahl": entry.postal_code, "Ort": entry.city, "E-Mail": entry.email,
            },
            self.save_button,
            "Speichern",
            heading="Neuer Steuerpflichtiger",
        )  # fmt: skip
        taxpayer = TaxpayerPage(self.page)
        taxpayer.seen = look(self.page, fields=["Steuernummer"], links=[_NEW_CASE])
        if taxpayer.seen.shows("Steuerpflichtiger") and not taxpayer.seen.missing:
            return taxpayer  # saved at once: no duplicate question, no refusal
        taxpayer.seen = None
        alerts = self.page.get_by_role("alert")
        self.arrive(taxpayer.heading.or_(self.duplicate).or_(alerts))
        if self.duplicate.count():
            if not confirm_duplicate:
                self.cancel_duplicate.click()
                raise BusinessRuleError(
                    "Steuerpflichtiger existiert bereits.", code="taxpayer-duplicate"
                )
            self.submit_form(self.confirm_duplicate)
            self.arrive(taxpayer.heading.or_(alerts))
        if not taxpayer.heading.count():
            raise_validation(self.page, self.fields(), code="taxpayer-invalid")
        return taxpayer


class TaxpayerPage(SteuerPage):
    """``/steuerpflichtige/<id>``: read-only data and the link "Hundesteuerfall anlegen"."""

    screen = "Steuerpflichtiger"
    path = "/steuerpflichtige"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named("Steuerpflichtiger")
        self.steuernummer = self.labelled("Steuernummer")
        self.name = self.labelled("Name")
        self.birth_date = self.labelled("Geburtsdatum")
        self.address = self.labelled("Anschrift")
        self.new_case_link = self.link_named(_NEW_CASE)
        self.seen: Look | None = None  # the DOM call that saw this screen arrive, if any

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Steuerpflichtiger": self.heading,
            "Steuernummer": self.steuernummer,
            "Name": self.name,
            "Geburtsdatum": self.birth_date,
            "Anschrift": self.address,
            "Hundesteuerfall anlegen": self.new_case_link,
        }

    def personal_fields(self) -> list[Locator]:
        return [self.steuernummer, self.name, self.birth_date, self.address]

    def read_steuernummer(self) -> str:
        """The taxpayer's Steuernummer."""
        if self.seen is not None:
            return str(self.seen.values["Steuernummer"]).strip()
        return self.steuernummer.input_value().strip()

    def new_case_url(self) -> str:
        """Where "Hundesteuerfall anlegen" leads (a bookmark for a later retry)."""
        if self.seen is not None and self.seen.links.get(_NEW_CASE):
            return self.seen.links[_NEW_CASE] or ""
        return self.new_case_link.get_attribute("href") or ""
