"""The canary of the Fachverfahren Steuern: every screen the bot uses, checked without new data.

A nightly run calls `SteuerBot.check()` before the first item: a release of the back office
that renamed a label or dropped a button shows up here, as a report naming the screen and the
missing locator, instead of as a failed item. Nothing is created: the result tables, the
taxpayer and the case-form screens are checked on whatever data exists.
"""

from __future__ import annotations

import structlog
from playwright.sync_api import Error as PlaywrightError

from amtsbote import ApplicationError
from bots import (
    Bot,
    CanaryReport,
    PageObject,
    ScreenCheck,
    check_screen,
    translate_playwright_error,
)

from .pages import (
    CaseFormPage,
    CaseListPage,
    CaseResults,
    LoginPage,
    StartPage,
    TaxpayerFormPage,
    TaxpayerPage,
    TaxpayerResults,
    TaxpayerSearchPage,
)

__all__ = ["run_canary"]

log = structlog.get_logger(__name__)


def run_canary(bot: Bot) -> CanaryReport:
    """Open every screen the bot uses and check its locators, without creating data.

    The confirmation screen only exists after a case was created and is reported as
    skipped; the result tables, the taxpayer and the case-form screens are checked on
    existing data (an empty search lists it) and skipped if there is none.
    """
    found: dict[str, str] = {}

    def open_page(page_type: type[PageObject], path: str) -> PageObject:
        screen = page_type(bot.page)
        bot.goto(path)
        screen.wait_loaded()
        return screen

    def results_screen() -> PageObject | str:
        # An empty search lists existing taxpayers; nothing is created.
        search = TaxpayerResults(bot.page)
        bot.goto(TaxpayerSearchPage.path)
        search.arrive(search.heading)
        with bot.page.expect_navigation(wait_until="domcontentloaded"):
            search.search_button.click()
        search.arrive(search.results.or_(search.no_results).or_(search.search_error))
        if not search.results.count():
            return "kein Steuerpflichtiger vorhanden"
        found["results"] = "1"
        return search

    def taxpayer_screen() -> PageObject | str:
        if not found.get("results"):
            return "kein Steuerpflichtiger vorhanden"
        rows = (
            TaxpayerResults(bot.page)
            .results.get_by_role("row")
            .filter(has=bot.page.get_by_role("link", name="Auswählen"))
        )
        # Any existing taxpayer serves; the canary picks one, it does not search a person.
        any_row = rows.all()[0]
        with bot.page.expect_navigation(wait_until="domcontentloaded"):
            any_row.get_by_role("link", name="Auswählen").click()
        taxpayer = TaxpayerPage(bot.page)
        taxpayer.arrive(taxpayer.heading)
        found["case_url"] = taxpayer.new_case_url()
        return taxpayer

    def cases_screen() -> PageObject | str:
        cases = CaseResults(bot.page)
        bot.goto(CaseListPage.path)
        cases.wait_list()
        return cases if cases.results.count() else "keine Fälle vorhanden"

    def case_form_screen() -> PageObject | str:
        if not found.get("case_url"):
            return "kein Steuerpflichtiger vorhanden"
        return open_page(CaseFormPage, found["case_url"])

    report = CanaryReport([_check_login_screen(bot)])
    report.screens += bot.check_screens(
        [
            ("Startseite", lambda: open_page(StartPage, StartPage.path)),
            (
                "Steuerpflichtige suchen",
                lambda: open_page(TaxpayerSearchPage, "/steuerpflichtige"),
            ),
            (
                "Neuer Steuerpflichtiger",
                lambda: open_page(TaxpayerFormPage, TaxpayerFormPage.path),
            ),
            ("Suchergebnis", results_screen),
            ("Steuerpflichtiger", taxpayer_screen),
            ("Hundesteuerfall anlegen", case_form_screen),
            ("Hundesteuerfälle", lambda: open_page(CaseListPage, CaseListPage.path)),
            ("Fälle", cases_screen),
            ("Fall angelegt", lambda: "entsteht erst beim Anlegen eines Falls"),
        ]
    ).screens
    log.info("steuer.canary", ok=report.ok, missing=report.missing())
    return report


def _check_login_screen(bot: Bot) -> ScreenCheck:
    # The login form only shows without a session: look at it in a context of its own.
    context = bot.session.new_context()
    try:
        page = context.new_page()
        login = LoginPage(page)
        page.goto(bot.url(LoginPage.path), wait_until="domcontentloaded")
        login.arrive_login()
        return check_screen(login)
    except ApplicationError as exc:
        return ScreenCheck(LoginPage.screen, missing=[f"(Seite: {exc.code})"])
    except PlaywrightError as exc:
        code = translate_playwright_error(exc).code
        return ScreenCheck(LoginPage.screen, missing=[f"(Seite: {code})"])
    finally:
        context.close()
