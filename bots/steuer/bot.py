"""The bot of the Fachverfahren Steuern: login, logout, canary, and the dog-tax steps.

`SteuerBot` is named for the system, not for one process: login, logout and the canary
(`bots.steuer._canary`) serve every process the back office handles; a second tax process
adds its steps (or subclasses) and reuses them.

The dog-tax steps (`register`, `find_case`) are each idempotent by the portal reference (the
submission id, entered as "Fremdreferenz"): search the case list first (an earlier run may have
crashed after submitting), find or create the taxpayer (a different address goes to a clerk),
enter the case, read back the Aktenzeichen and the yearly tax. Logs carry the reference and
codes only, never the application's values.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

import structlog

from amtsbote import ApplicationError, BusinessRuleError, ReviewRequired

from .._bot import Bot
from .._canary import CanaryReport
from .._locate import button_by_name
from .._pages import PageObject
from .._refusals import RefusedLogins
from .._retry import RetryPolicy
from .._session import BrowserSession
from .._settings import BotAccount
from ._canary import run_canary
from ._settings import SteuerSettings
from .pages import (
    CaseEntry,
    CaseFormPage,
    CaseListPage,
    ConfirmationPage,
    LoginPage,
    StartPage,
    TaxpayerEntry,
    TaxpayerFormPage,
    TaxpayerPage,
    TaxpayerSearchPage,
)

if TYPE_CHECKING:
    from connectors.records.hundesteuer import DogTaxApplication

__all__ = ["SteuerBot", "Registration", "parse_amount"]

log = structlog.get_logger(__name__)

_DUPLICATE_REF = re.compile(r"existiert bereits der Fall\s+(\S+?)\.?$")


@dataclass(frozen=True)
class Registration:
    """The outcome of `SteuerBot.register`.

    Attributes:
        reference: The portal reference (Fremdreferenz).
        aktenzeichen: The case's file number, e.g. ``HSt-2026-000123``.
        tax_amount: The yearly tax in EUR.
        taxpayer_number: The taxpayer's Steuernummer; None when the case was found by the
            idempotency search (the list does not show it).
        created: False if the case already existed (an earlier run had entered it).
    """

    reference: str
    aktenzeichen: str
    tax_amount: Decimal
    taxpayer_number: str | None
    created: bool


def parse_amount(text: str) -> Decimal:
    """A German amount ("1.234,56", "120,00 €") as `Decimal`.

    Raises:
        ApplicationError: The text is no amount (code ``unreadable-amount``).
    """
    cleaned = text.replace("€", "").replace("EUR", "").replace("\xa0", "").strip()
    cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:
        raise ApplicationError("Betrag nicht lesbar.", code="unreadable-amount") from exc


def de_date(day: object) -> str:
    """A date as TT.MM.JJJJ."""
    return format(day, "%d.%m.%Y")


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold().replace("ß", "ss"))


class SteuerBot(Bot):
    """The Fachverfahren Steuern's bot; registers dogs for dog tax (one instance per thread).

    Args:
        session: The thread's browser session.
        settings: Where the back office is.
        account: The bot's service account.
        evidence_dir: Root folder of failure evidence.
        run_id: The flow run's id (evidence sub-folder).
        retry: Retry policy for system failures (default: `SteuerSettings.retry`).
        trace: Record a Playwright trace per item (kept only on failure).
        sleep: The backoff's wait function.
        refusals: Where refused logins are remembered (default: under the data dir).

    Example:
        >>> with BrowserSession() as session, SteuerBot(  # doctest: +SKIP
        ...     session, SteuerSettings(), BotAccount()
        ... ) as bot:
        ...     bot.check().raise_for_problems()
        ...     registration = bot.register(application)
    """

    system: ClassVar[str | None] = "steuer"
    page_types: ClassVar[tuple[type[PageObject], ...]] = (
        LoginPage, StartPage, TaxpayerSearchPage, TaxpayerFormPage, TaxpayerPage,
        CaseFormPage, ConfirmationPage, CaseListPage,
    )  # fmt: skip

    def __init__(
        self,
        session: BrowserSession,
        settings: SteuerSettings | None = None,
        account: BotAccount | None = None,
        *,
        evidence_dir: Path | str = Path("var/evidence"),
        run_id: str | None = None,
        retry: RetryPolicy | None = None,
        trace: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        refusals: RefusedLogins | None = None,
    ) -> None:
        self.settings = settings or SteuerSettings()
        super().__init__(
            session,
            self.settings.base_url,
            account or BotAccount(),
            evidence_dir=evidence_dir,
            run_id=run_id,
            retry=retry or self.settings.retry,
            max_relogins=self.settings.max_relogins,
            trace=trace,
            sleep=sleep,
            refusals=refusals,
        )

    def __enter__(self) -> SteuerBot:
        self.start()
        return self

    # -- login -----------------------------------------------------------------------------

    def login(self) -> None:
        """Log in with the bot's account on the bot's page."""
        page = self._page
        assert page is not None
        page.goto(self.url("/login"), wait_until="domcontentloaded")
        LoginPage(page).login(self.account.username, self.account.secret().get_secret_value())
        log.info("steuer.login", account=self.account.username)

    def logout(self) -> None:
        """Press "Abmelden" if the page shows it, so the seat is free before the context closes."""
        page = self._page
        if page is None or page.is_closed():
            return
        button = button_by_name(page, "Abmelden")
        if button.count() == 0:  # login or error page: no session to end here
            return
        button.click(timeout=5_000)
        LoginPage(page).heading.wait_for(timeout=5_000)
        log.info("steuer.logout", account=self.account.username)

    def on_login_page(self) -> bool:
        return self._page is not None and LoginPage(self._page).is_shown()

    # -- the business steps ----------------------------------------------------------------

    def register(self, application: DogTaxApplication, *, taxpayer: str = "auto") -> Registration:
        """Enter `application` as a dog-tax case, exactly once.

        Args:
            application: The validated application.
            taxpayer: How to find the taxpayer: ``"auto"`` (same name, birth date and address →
                use it; same person at another address → `ReviewRequired`; nobody → create),
                or a clerk's decision on a Klärfall: ``"existing"`` (the one found by name and
                birth date), ``"treffer:<n>"`` (the n-th of those, ordered by Steuernummer, as
                the Klärfall form numbers them), a Steuernummer, or ``"new"`` (create another
                taxpayer).

        Returns:
            The Aktenzeichen and tax (``created=False`` if the case already existed).

        Raises:
            ReviewRequired: The taxpayer exists with a different address
                (code ``taxpayer-address-differs``).
            BusinessRuleError: The back office rejected a value (German message, field label).
            ApplicationError: The back office or browser failed on every attempt.
        """
        return self.run_item(application.reference, lambda: self._register(application, taxpayer))

    def _register(self, app: DogTaxApplication, taxpayer: str = "auto") -> Registration:
        ref = app.reference
        existing = self.step("find-case", lambda: self.find_case(ref))
        if existing is not None:
            log.info("steuer.case_exists", reference=ref, aktenzeichen=existing.aktenzeichen)
            return existing
        steuernummer, case_url = self.step("taxpayer", lambda: self._taxpayer(app, taxpayer))
        registration = self.step(
            "enter-case",
            lambda: self._enter_case(app, steuernummer, case_url),
            before_repeat=lambda: self.find_case(ref),
        )
        log.info(
            "steuer.case_created" if registration.created else "steuer.case_exists",
            reference=ref,
            aktenzeichen=registration.aktenzeichen,
        )
        return registration

    def find_case(self, reference: str) -> Registration | None:
        """The case entered under `reference` (Fremdreferenz), if there is one."""
        cases = CaseListPage(self.page)
        self.goto(f"/faelle?suchbegriff={quote(reference, safe='')}")
        for row in cases.rows_for(reference):
            if row.get("Fremdreferenz", "").strip() == reference:
                return Registration(
                    reference=reference,
                    aktenzeichen=row["Aktenzeichen"].strip(),
                    tax_amount=parse_amount(row.get("Jahressteuer (EUR)", "")),
                    taxpayer_number=None,
                    created=False,
                )
        return None

    def _taxpayer(self, app: DogTaxApplication, decision: str = "auto") -> tuple[str, str]:
        owner = app.owner
        born = de_date(owner.birth_date)
        search = TaxpayerSearchPage(self.page)
        self.goto(TaxpayerSearchPage.path)
        name = f"{owner.family_name}, {owner.given_name}"
        rows = [
            r
            for r in search.search(owner.family_name, owner.given_name, born)
            if r.get("Name", "").strip() == name and r.get("Geburtsdatum", "").strip() == born
        ]
        address = f"{owner.street} {owner.house_number}, {owner.postal_code} {owner.city}"
        same = sorted(
            r["Steuernummer"].strip()
            for r in rows
            if _norm(r.get("Anschrift", "")) == _norm(address)
        )
        numbers = sorted(r["Steuernummer"].strip() for r in rows)
        if decision.startswith("treffer:") and decision[8:].isdigit():
            n = int(decision[8:])  # the clerk picked the n-th match (ordered by Steuernummer)
            same = numbers[n - 1 : n] if 1 <= n <= len(numbers) else []
        elif decision not in ("auto", "existing", "new") and decision in numbers:
            same = [decision]  # the clerk named the taxpayer
        elif decision == "existing" and len(numbers) == 1:
            same = numbers
        if same and decision != "new":
            taxpayer = search.select(same[0])
            log.info("steuer.taxpayer_found", reference=app.reference)
        elif rows and decision != "new":
            log.info("steuer.taxpayer_address_differs", reference=app.reference)
            raise ReviewRequired(
                "Steuerpflichtiger mit gleichem Namen und Geburtsdatum, aber anderer Anschrift "
                "vorhanden – bitte prüfen.",
                code="taxpayer-address-differs",
                facts={
                    "reference": app.reference,
                    "portal_address": address,
                    "back_office": [
                        {"steuernummer": r["Steuernummer"], "anschrift": r.get("Anschrift", "")}
                        for r in rows
                    ],
                },
            )
        else:
            form = TaxpayerFormPage(self.page)
            self.goto(TaxpayerFormPage.path)
            taxpayer = form.create(
                TaxpayerEntry(
                    family_name=owner.family_name,
                    given_name=owner.given_name,
                    birth_date=born,
                    street_and_number=f"{owner.street} {owner.house_number}",
                    postal_code=owner.postal_code,
                    city=owner.city,
                    email=owner.email,
                ),
                confirm_duplicate=True,  # nobody found, or the clerk decided: create
            )
            log.info("steuer.taxpayer_created", reference=app.reference)
        return taxpayer.read_steuernummer(), taxpayer.new_case_url()

    def _enter_case(self, app: DogTaxApplication, steuernummer: str, case_url: str) -> Registration:
        form = CaseFormPage(self.page)
        self.goto(case_url)  # HTTP 5xx raise here; `enter` checks the screen
        entry = CaseEntry(
            fremdreferenz=app.reference,
            dog_name=app.dog.name,
            breed_name=app.dog.breed_name,
            dog_birth_date=de_date(app.dog.birth_date),
            chip_number=app.dog.chip_number,
            owned_since=de_date(app.dog.owned_since),
            sepa=True,
            mandate=True,
            account_holder=app.sepa_mandate.account_holder,
            iban=app.sepa_mandate.iban,
            insurance=app.has_insurance_certificate,
            discount="0,00",
            remark=f"Portal-Antrag {app.case_id}",
        )
        try:
            done = form.enter(entry)
        except BusinessRuleError as exc:
            if exc.field == "Fremdreferenz" and _DUPLICATE_REF.search(exc.message):
                # Entered before (e.g. by a parallel or crashed attempt): report, not redo.
                found = self.find_case(app.reference)
                if found is not None:
                    return found
            raise
        aktenzeichen, tax, _ = done.read()
        return Registration(
            reference=app.reference,
            aktenzeichen=aktenzeichen,
            tax_amount=parse_amount(tax),
            taxpayer_number=steuernummer,
            created=True,
        )

    # -- canary ----------------------------------------------------------------------------

    def check(self) -> CanaryReport:
        """Open every screen the bot uses and check its locators, without creating data.

        The confirmation screen only exists after a case was created and is reported as
        skipped; the result tables, the taxpayer and the case-form screens are checked on
        existing data (an empty search lists it) and skipped if there is none.
        """
        return run_canary(self)
