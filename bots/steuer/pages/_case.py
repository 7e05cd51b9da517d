"""The dog-tax case screens: the case form, its confirmation, the case list (and its table).

The case form ("Hundesteuerfall anlegen") is reached from a taxpayer's page; in layout v2 its
fields sit in the tabs "Hund" and "Zahlung". The case list finds a case by its Fremdreferenz
(the portal's submission id), which is how the bot avoids entering a case twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from playwright.sync_api import Locator, Page

from bots import FieldValue, Look, Option, Row, column_headers, look, raise_validation, read_table

from ._base import SteuerPage

__all__ = ["CaseEntry", "CaseFormPage", "CaseListPage", "CaseResults", "ConfirmationPage"]

_SUMMARY = "Bitte korrigieren Sie die markierten Felder."
_NONE_FOUND = "Keine Fälle gefunden."


@dataclass(frozen=True)
class CaseEntry:
    """The values of the "Hundesteuerfall anlegen" form, as the screen wants them."""

    fremdreferenz: str
    dog_name: str
    breed_name: str
    dog_birth_date: str
    chip_number: str
    owned_since: str
    sepa: bool
    mandate: bool
    account_holder: str
    iban: str
    insurance: bool
    discount: str = "0,00"
    remark: str = ""


class CaseFormPage(SteuerPage):
    """``/faelle/neu?stpfl=<id>``: the dog-tax case (v2: tabs "Hund" and "Zahlung")."""

    screen = "Hundesteuerfall anlegen"
    path = "/faelle/neu"
    input_method = "simulate"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named("Hundesteuerfall anlegen")
        self.taxpayer = self.labelled("Steuerpflichtiger")  # read-only: name and Steuernummer
        self.fremdreferenz = self.labelled("Fremdreferenz")
        self.dog_name = self.labelled("Name des Hundes")
        self.breed = self.labelled("Rasse")
        self.dog_birth_date = self.labelled("Geburtsdatum des Hundes")
        self.chip_number = self.labelled("Transpondernummer")
        self.owned_since = self.labelled("Halter seit")
        # include_hidden: in layout v2 the group sits in a closed tab panel until revealed
        # (labels find hidden controls too).
        self.payment = self.role_named("radiogroup", "Zahlungsweise", include_hidden=True)
        self.sepa = self.labelled("SEPA-Lastschrift")
        self.transfer = self.labelled("Überweisung")
        self.mandate = self.labelled("SEPA-Lastschriftmandat liegt vor")
        self.account_holder = self.labelled("Kontoinhaber")
        self.iban = self.labelled("IBAN")
        self.insurance = self.labelled("Haftpflichtversicherung nachgewiesen")
        self.discount = self.labelled("Ermäßigung (EUR)")
        self.remark = self.labelled("Bemerkung")
        self.submit_button = self.button_named("Fall anlegen")

    def fields(self) -> dict[str, Locator]:
        """Label → control of every data field."""
        return {
            "Fremdreferenz": self.fremdreferenz,
            "Name des Hundes": self.dog_name,
            "Rasse": self.breed,
            "Geburtsdatum des Hundes": self.dog_birth_date,
            "Transpondernummer": self.chip_number,
            "Halter seit": self.owned_since,
            "SEPA-Lastschrift": self.sepa,
            "Überweisung": self.transfer,
            "SEPA-Lastschriftmandat liegt vor": self.mandate,
            "Kontoinhaber": self.account_holder,
            "IBAN": self.iban,
            "Haftpflichtversicherung nachgewiesen": self.insurance,
            "Ermäßigung (EUR)": self.discount,
            "Bemerkung": self.remark,
        }

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Hundesteuerfall anlegen": self.heading,
            **self.fields(),
            "Zahlungsweise": self.payment,
            "Fall anlegen": self.submit_button,
        }

    def personal_fields(self) -> list[Locator]:
        return [self.taxpayer, self.dog_name, self.chip_number, self.account_holder, self.iban]

    def fill_case(self, entry: CaseEntry) -> None:
        """Fill every field (tabs are clicked as needed)."""
        self.arrive(self.heading)
        self.fill_form(self.values(entry))

    def enter(self, entry: CaseEntry) -> ConfirmationPage:
        """Fill every field and click "Fall anlegen" (one DOM call, see `bots.DomPage`).

        Raises:
            BusinessRuleError: The back office rejected a value (as `submit`).
        """
        self.submit_values(
            self.values(entry),
            self.submit_button,
            "Fall anlegen",
            heading="Hundesteuerfall anlegen",
        )
        return self._answer()

    def values(self, entry: CaseEntry) -> dict[str, FieldValue]:
        """Label → value of the form for `entry`."""
        return {
            "Fremdreferenz": entry.fremdreferenz,
            "Name des Hundes": entry.dog_name,
            "Rasse": Option(entry.breed_name),
            "Geburtsdatum des Hundes": entry.dog_birth_date,
            "Transpondernummer": entry.chip_number,
            "Halter seit": entry.owned_since,
            "Haftpflichtversicherung nachgewiesen": entry.insurance,
            "SEPA-Lastschrift" if entry.sepa else "Überweisung": True,
            "SEPA-Lastschriftmandat liegt vor": entry.mandate,
            "Kontoinhaber": entry.account_holder,
            "IBAN": entry.iban,
            "Ermäßigung (EUR)": entry.discount,
            "Bemerkung": entry.remark,
        }

    def submit(self) -> ConfirmationPage:
        """Click "Fall anlegen" and return the confirmation.

        Raises:
            BusinessRuleError: The back office rejected a value (its German message; the
                field's label in ``field``).
        """
        self.submit_form(self.submit_button)
        return self._answer()

    def _answer(self) -> ConfirmationPage:
        done = ConfirmationPage(self.page)
        done.seen = look(self.page, fields=ConfirmationPage.read_labels)
        if done.seen.shows("Fall angelegt") and not done.seen.missing:
            return done
        done.seen = None
        summary = self.page.get_by_role("alert").filter(has_text=_SUMMARY)
        self.arrive(done.heading.or_(summary))
        if not done.heading.count():
            raise_validation(self.page, self.fields(), code="case-invalid")
        return done


class ConfirmationPage(SteuerPage):
    """``/faelle/bestaetigung/<az>``: "Fall angelegt" with Aktenzeichen and tax."""

    screen = "Fall angelegt"
    path = "/faelle/bestaetigung"
    read_labels: ClassVar[tuple[str, str, str]] = (
        "Aktenzeichen", "Jahressteuer (EUR)", "Fremdreferenz",
    )  # fmt: skip

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.seen: Look | None = None
        self.heading = self.heading_named("Fall angelegt")
        self.aktenzeichen = self.labelled("Aktenzeichen")
        self.tax = self.labelled("Jahressteuer (EUR)")
        self.fremdreferenz = self.labelled("Fremdreferenz")

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Fall angelegt": self.heading,
            "Aktenzeichen": self.aktenzeichen,
            "Jahressteuer (EUR)": self.tax,
            "Fremdreferenz": self.fremdreferenz,
        }

    def read(self) -> tuple[str, str, str]:
        """(Aktenzeichen, Jahressteuer text with decimal comma, Fremdreferenz)."""
        if self.seen is not None:  # read by the DOM call that saw the screen arrive
            aktenzeichen, tax, ref = (str(self.seen.values[k]).strip() for k in self.read_labels)
            return aktenzeichen, tax, ref
        return (
            self.aktenzeichen.input_value().strip(),
            self.tax.input_value().strip(),
            self.fremdreferenz.input_value().strip(),
        )


class CaseListPage(SteuerPage):
    """``/faelle``: search cases; table "Fälle"."""

    screen = "Hundesteuerfälle"
    path = "/faelle"
    input_method = "simulate"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self.heading_named("Hundesteuerfälle")
        self.term = self.labelled("Suchbegriff")
        self.search_button = self.button_named("Suchen")
        self.results = self.role_named("table", "Fälle")
        self.no_results = page.get_by_text(_NONE_FOUND)

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Hundesteuerfälle": self.heading,
            "Suchbegriff": self.term,
            "Suchen": self.search_button,
        }

    def personal_fields(self) -> list[Locator]:
        return [self.term, self.results]

    def wait_list(self) -> None:
        """Wait for the list (results or "Keine Fälle gefunden.")."""
        self.arrive(self.results.or_(self.no_results))

    def search(self, term: str) -> None:
        """Search by `term` with the form."""
        self.arrive(self.heading)
        self.fill_form({"Suchbegriff": term})
        self.submit_form(self.search_button)
        self.wait_list()

    def shows_term(self, term: str) -> bool:
        """True if the list is filtered by `term` (e.g. after opening a bookmarked search)."""
        return self.term.input_value().strip() == term

    def rows_for(self, term: str) -> list[Row]:
        """Rows containing `term` of the list filtered by `term` (search form if need be).

        One DOM call when the list shows filtered by `term` (a bookmarked search); otherwise
        the locators wait for the list and use the search form.
        """
        seen = look(self.page, fields=["Suchbegriff"], tables=["Fälle"], texts=[_NONE_FOUND])
        if seen.shows("Hundesteuerfälle") and seen.values.get("Suchbegriff") == term:
            table = seen.tables["Fälle"]
            if table is not None:
                return [row for row in table if any(term in cell for cell in row.values())]
            if seen.texts[_NONE_FOUND]:
                return []
        self.wait_list()
        if not self.shows_term(term):  # the bookmark is not understood: use the form
            self.search(term)
        return self.rows_with(term)

    def rows_with(self, text: str) -> list[Row]:
        """Rows containing `text`, as dicts keyed by column header."""
        if not self.results.count():
            return []
        return read_table(self.results, self.results.get_by_role("row").filter(has_text=text))


class CaseResults(CaseListPage):
    """The table "Fälle" of the case list (checked by the canary when it has rows)."""

    screen = "Fälle"

    def landmark(self) -> Locator:
        return self.results

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Fälle": self.results,
            **column_headers(
                self.results, "Aktenzeichen", "Fremdreferenz", "Steuerpflichtiger", "Rasse",
                "Jahressteuer (EUR)", "Status",
            ),
        }  # fmt: skip
