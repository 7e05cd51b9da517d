"""Page objects of the Fachverfahren Steuern, one class per screen.

Locators are built only from roles, labels and visible texts: the back office generates control
ids (``ctl00_Main_txt17``) that differ between releases, and layout v2 moves the case form's
fields into the tabs "Hund" and "Zahlung" (`PageObject.reveal` clicks the right tab). The same
classes therefore work on layout v1 and v2 unchanged. No business logic here: the bot decides,
the pages type, click and read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from playwright.sync_api import Locator, Page

from amtsbote import BusinessRuleError, LoginRefused

from .._pages import PageObject, read_table

__all__ = [
    "CaseEntry",
    "CaseFormPage",
    "CaseListPage",
    "CaseResults",
    "ConfirmationPage",
    "LoginPage",
    "StartPage",
    "SteuerPage",
    "TaxpayerEntry",
    "TaxpayerFormPage",
    "TaxpayerPage",
    "TaxpayerResults",
    "TaxpayerSearchPage",
    "raise_validation",
]

LOGIN_HEADING = "Anmeldung – Fachverfahren Steuern"
_SUMMARY = "Bitte korrigieren Sie die markierten Felder."

# The aria-describedby link between a field and its inline error (role=alert) is read in the
# browser: the accessible description is not exposed as a Playwright value.
_FIELD_ALERTS_JS = """el => (el.getAttribute('aria-describedby') || '').split(/\\s+/)
  .map(id => id && document.getElementById(id))
  .filter(n => n && n.getAttribute('role') === 'alert')
  .map(n => n.textContent.trim())"""


class SteuerPage(PageObject):
    """Base of the Fachverfahren Steuern's screens: knows the login page (session expiry)."""

    login_heading: ClassVar[str | None] = LOGIN_HEADING
    path: ClassVar[str] = "/"
    heading: Locator

    def landmark(self) -> Locator:
        return self.heading

    def _heading(self, name: str) -> Locator:
        return self.page.get_by_role("heading", name=name, exact=True)

    def _label(self, label: str) -> Locator:
        return self.page.get_by_label(label, exact=True)

    def _button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    def _submit(self, button: Locator) -> None:
        """Click a submit button and wait for the answer page (no fixed sleeps)."""
        with self.page.expect_navigation(wait_until="domcontentloaded") as nav:
            self.reveal(button).click()
        response = nav.value
        if response is not None and response.status >= 500:
            from .._translate import http_error

            raise http_error(response.status, step=self.screen)


class LoginPage(SteuerPage):
    """``/login``: user name, password, "Anmelden"."""

    screen = "Anmeldung"
    path = "/login"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self._heading(LOGIN_HEADING)
        self.username = self._label("Benutzername")
        self.password = self._label("Passwort")
        self.submit_button = self._button("Anmelden")
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
        self.username.fill(username)
        self.password.fill(password)
        self._submit(self.submit_button)
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
        self.heading = self._heading("Fachverfahren Steuern")
        self.search_link = page.get_by_role("link", name="Steuerpflichtige suchen", exact=True)
        self.new_taxpayer_link = page.get_by_role(
            "link", name="Neuer Steuerpflichtiger", exact=True
        )
        self.cases_link = page.get_by_role("link", name="Hundesteuerfälle", exact=True)
        self.logout = page.get_by_role("button", name="Abmelden").or_(
            page.get_by_role("link", name="Abmelden")
        )

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Fachverfahren Steuern": self.heading,
            "Steuerpflichtige suchen": self.search_link,
            "Neuer Steuerpflichtiger": self.new_taxpayer_link,
            "Hundesteuerfälle": self.cases_link,
            "Abmelden": self.logout,
        }


class TaxpayerSearchPage(SteuerPage):
    """``/steuerpflichtige``: search by name and birth date; table "Suchergebnis"."""

    screen = "Steuerpflichtige suchen"
    path = "/steuerpflichtige"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self._heading("Steuerpflichtige suchen")
        self.family_name = self._label("Nachname")
        self.given_name = self._label("Vorname")
        self.birth_date = self._label("Geburtsdatum")
        self.search_button = self._button("Suchen")
        self.results = page.get_by_role("table", name="Suchergebnis")
        self.no_results = page.get_by_text("Keine Steuerpflichtigen gefunden.")
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

    def search(self, family_name: str, given_name: str, birth_date: str) -> list[dict[str, str]]:
        """Search and return the result rows (keys: the column headers).

        Args:
            family_name: Nachname.
            given_name: Vorname.
            birth_date: Geburtsdatum as TT.MM.JJJJ.
        """
        self.arrive(self.heading)
        self.family_name.fill(family_name)
        self.given_name.fill(given_name)
        self.birth_date.fill(birth_date)
        self._submit(self.search_button)
        self.arrive(self.results.or_(self.no_results).or_(self.search_error))
        if not self.results.count():
            return []
        rows = self.results.get_by_role("row").filter(has_text=f"{family_name}, {given_name}")
        return read_table(self.results, rows.filter(has_text=birth_date))

    def select(self, steuernummer: str) -> TaxpayerPage:
        """Open the taxpayer of the result row with `steuernummer` ("Auswählen")."""
        row = self.results.get_by_role("row").filter(has_text=steuernummer)
        with self.page.expect_navigation(wait_until="domcontentloaded"):
            row.get_by_role("link", name="Auswählen").click()
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
            **_columns(self.results, "Steuernummer", "Name", "Geburtsdatum", "Anschrift"),
            "Auswählen": self.results.get_by_role("link", name="Auswählen", exact=True),
        }


def _columns(table: Locator, *names: str) -> dict[str, Locator]:
    return {n: table.get_by_role("columnheader", name=n, exact=True) for n in names}


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

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self._heading("Neuer Steuerpflichtiger")
        self.family_name = self._label("Nachname")
        self.given_name = self._label("Vorname")
        self.birth_date = self._label("Geburtsdatum")
        self.street = self._label("Straße und Hausnummer")
        self.postal_code = self._label("Postleitzahl")
        self.city = self._label("Ort")
        self.email = self._label("E-Mail")
        self.save_button = self._button("Speichern")
        self.duplicate = page.get_by_role("dialog", name="Hinweis").filter(
            has=page.get_by_role("button", name="Ja, anlegen", exact=True)
        )
        self.confirm_duplicate = self.duplicate.get_by_role("button", name="Ja, anlegen")
        self.cancel_duplicate = self.duplicate.get_by_role("button", name="Abbrechen")

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
        self.arrive(self.heading)
        for locator, value in (
            (self.family_name, entry.family_name), (self.given_name, entry.given_name),
            (self.birth_date, entry.birth_date), (self.street, entry.street_and_number),
            (self.postal_code, entry.postal_code), (self.city, entry.city),
            (self.email, entry.email),
        ):  # fmt: skip
            locator.fill(value)
        self._submit(self.save_button)
        taxpayer = TaxpayerPage(self.page)
        alerts = self.page.get_by_role("alert")
        self.arrive(taxpayer.heading.or_(self.duplicate).or_(alerts))
        if self.duplicate.count():
            if not confirm_duplicate:
                self.cancel_duplicate.click()
                raise BusinessRuleError(
                    "Steuerpflichtiger existiert bereits.", code="taxpayer-duplicate"
                )
            self._submit(self.confirm_duplicate)
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
        self.heading = self._heading("Steuerpflichtiger")
        self.steuernummer = self._label("Steuernummer")
        self.name = self._label("Name")
        self.birth_date = self._label("Geburtsdatum")
        self.address = self._label("Anschrift")
        self.new_case_link = page.get_by_role("link", name="Hundesteuerfall anlegen", exact=True)

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
        return self.steuernummer.input_value().strip()

    def new_case_url(self) -> str:
        """Where "Hundesteuerfall anlegen" leads (a bookmark for a later retry)."""
        return self.new_case_link.get_attribute("href") or ""


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

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self._heading("Hundesteuerfall anlegen")
        self.taxpayer = self._label("Steuerpflichtiger")  # read-only: name and Steuernummer
        self.fremdreferenz = self._label("Fremdreferenz")
        self.dog_name = self._label("Name des Hundes")
        self.breed = self._label("Rasse")
        self.dog_birth_date = self._label("Geburtsdatum des Hundes")
        self.chip_number = self._label("Transpondernummer")
        self.owned_since = self._label("Halter seit")
        # include_hidden: in layout v2 these sit in a closed tab panel until revealed.
        self.payment = page.get_by_role("radiogroup", name="Zahlungsweise", include_hidden=True)
        self.sepa = page.get_by_role(
            "radio", name="SEPA-Lastschrift", exact=True, include_hidden=True
        )
        self.transfer = page.get_by_role(
            "radio", name="Überweisung", exact=True, include_hidden=True
        )
        self.mandate = self._label("SEPA-Lastschriftmandat liegt vor")
        self.account_holder = self._label("Kontoinhaber")
        self.iban = self._label("IBAN")
        self.insurance = self._label("Haftpflichtversicherung nachgewiesen")
        self.discount = self._label("Ermäßigung (EUR)")
        self.remark = self._label("Bemerkung")
        self.submit_button = self._button("Fall anlegen")

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
        self.fill(self.fremdreferenz, entry.fremdreferenz)
        self.fill(self.dog_name, entry.dog_name)
        self.reveal(self.breed).select_option(label=entry.breed_name)
        self.fill(self.dog_birth_date, entry.dog_birth_date)
        self.fill(self.chip_number, entry.chip_number)
        self.fill(self.owned_since, entry.owned_since)
        self.set_checked(self.insurance, entry.insurance)
        self.set_checked(self.sepa if entry.sepa else self.transfer, True)
        self.set_checked(self.mandate, entry.mandate)
        self.fill(self.account_holder, entry.account_holder)
        self.fill(self.iban, entry.iban)
        self.fill(self.discount, entry.discount)
        self.fill(self.remark, entry.remark)

    def submit(self) -> ConfirmationPage:
        """Click "Fall anlegen" and return the confirmation.

        Raises:
            BusinessRuleError: The back office rejected a value (its German message; the
                field's label in ``field``).
        """
        self._submit(self.submit_button)
        done = ConfirmationPage(self.page)
        summary = self.page.get_by_role("alert").filter(has_text=_SUMMARY)
        self.arrive(done.heading.or_(summary))
        if not done.heading.count():
            raise_validation(self.page, self.fields(), code="case-invalid")
        return done


def raise_validation(page: Page, fields: dict[str, Locator], *, code: str) -> None:
    """Raise `BusinessRuleError` with the first inline error message and its field's label.

    All field errors are listed in the attribute ``errors`` (label → message).
    """
    errors: dict[str, str] = {}
    for label, locator in fields.items():
        if locator.count() != 1:
            continue
        for message in locator.evaluate(_FIELD_ALERTS_JS):
            errors.setdefault(label, message)
    if not errors:
        texts = [t.strip() for t in page.get_by_role("alert").all_inner_texts() if t.strip()]
        message = texts[0] if texts else "Das Fachverfahren hat die Eingaben abgelehnt."
        raise BusinessRuleError(message, code=code)
    label, message = next(iter(errors.items()))
    error = BusinessRuleError(message, code=code, field=label)
    error.errors = errors  # type: ignore[attr-defined]
    raise error


class ConfirmationPage(SteuerPage):
    """``/faelle/bestaetigung/<az>``: "Fall angelegt" with Aktenzeichen and tax."""

    screen = "Fall angelegt"
    path = "/faelle/bestaetigung"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self._heading("Fall angelegt")
        self.aktenzeichen = self._label("Aktenzeichen")
        self.tax = self._label("Jahressteuer (EUR)")
        self.fremdreferenz = self._label("Fremdreferenz")

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Fall angelegt": self.heading,
            "Aktenzeichen": self.aktenzeichen,
            "Jahressteuer (EUR)": self.tax,
            "Fremdreferenz": self.fremdreferenz,
        }

    def read(self) -> tuple[str, str, str]:
        """(Aktenzeichen, Jahressteuer text with decimal comma, Fremdreferenz)."""
        return (
            self.aktenzeichen.input_value().strip(),
            self.tax.input_value().strip(),
            self.fremdreferenz.input_value().strip(),
        )


class CaseListPage(SteuerPage):
    """``/faelle``: search cases; table "Fälle"."""

    screen = "Hundesteuerfälle"
    path = "/faelle"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.heading = self._heading("Hundesteuerfälle")
        self.term = self._label("Suchbegriff")
        self.search_button = self._button("Suchen")
        self.results = page.get_by_role("table", name="Fälle")
        self.no_results = page.get_by_text("Keine Fälle gefunden.")

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
        self.term.fill(term)
        self._submit(self.search_button)
        self.wait_list()

    def shows_term(self, term: str) -> bool:
        """True if the list is filtered by `term` (e.g. after opening a bookmarked search)."""
        return self.term.input_value().strip() == term

    def rows_with(self, text: str) -> list[dict[str, str]]:
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
            **_columns(
                self.results, "Aktenzeichen", "Fremdreferenz", "Steuerpflichtiger", "Rasse",
                "Jahressteuer (EUR)", "Status",
            ),
        }  # fmt: skip
