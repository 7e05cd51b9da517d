"""The canary of the Fachverfahren Steuern: every screen the bot uses, checked without new data.

A nightly run calls `SteuerBot.check()` before the first item: a release of the back office
that renamed a label or dropped a button shows up here, as a report naming the screen and the
missing locator, instead of as a failed item; a screen that did not load (error page,
maintenance, timeout) is reported unreachable instead, so the run can tell an outage. Nothing
is created: the result tables, the taxpayer and the case-form screens are checked on whatever
data exists.
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
    ensure_loaded,
    link_by_name,
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

    Each screen is opened on its own (by its address, or by an empty search), so a screen that
    changed does not hide the ones after it. The confirmation screen only exists after a case
    was created and is reported as skipped; the result tables, the taxpayer and the case-form
    screens are checked on existing data (an empty search lists it) and skipped if there is
    none.
    """
    found: dict[str, str] = {}

    def open_page(page_type: type[PageObject], path: str) -> PageObject:
        screen = page_type(bot.page)
        bot.goto(path)
        return screen

    def search_all() -> TaxpayerResults | str:
        # An empty search lists existing taxpayers; nothing is created.
        search = TaxpayerResults(bot.page)
        bot.goto(TaxpayerSearchPage.path)
        ensure_loaded(search)
        if not search.search_button.count():
            return "die Suche fehlt (Steuerpflichtige suchen)"
        with bot.page.expect_navigation(wait_until="domcontentloaded"):
            search.search_button.click()
        ensure_loaded(search)
        # Any existing taxpayer serves: the canary picks one, it does not search a person.
        # Found by its link, not through the table (whose own check may fail).
        select = link_by_name(bot.page, "Auswählen")
        if select.count():
            found["taxpayer_url"] = select.first.get_attribute("href") or ""
            return search
        if search.no_results.count():
            return "kein Steuerpflichtiger vorhanden"
        return search

    def results_screen() -> PageObject | str:
        return search_all()

    def taxpayer_screen() -> PageObject | str:
        if not found.get("taxpayer_url"):
            searched = search_all()
            if isinstance(searched, str):
                return searched
        if not found.get("taxpayer_url"):
            return "kein Steuerpflichtiger vorhanden"
        taxpayer = TaxpayerPage(bot.page)
        bot.goto(found["taxpayer_url"])
        ensure_loaded(taxpayer)
        if taxpayer.new_case_link.count():
            found["case_url"] = taxpayer.new_case_url()
        else:  # the link changed; the case form is still checked at its address
            taxpayer_id = found["taxpayer_url"].rstrip("/").rsplit("/", 1)[-1]
            found["case_url"] = f"{CaseFormPage.path}?stpfl={taxpayer_id}"
        return taxpayer

    def cases_screen() -> PageObject | str:
        cases = CaseResults(bot.page)
        bot.goto(CaseListPage.path)
        ensure_loaded(cases)
        return "keine Fälle vorhanden" if cases.no_results.count() else cases

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
                lambda: open_page(TaxpayerSearchPage, TaxpayerSearchPage.path),
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
    log.info("steuer.canary", ok=report.ok, missing=report.missing(), down=report.unreachable())
    return report


def _check_login_screen(bot: Bot) -> ScreenCheck:
    # The login form only shows without a session: look at it in a context of its own.
    context = bot.session.new_context()
    try:
        page = context.new_page()
        login = LoginPage(page)
        response = page.goto(bot.url(LoginPage.path), wait_until="domcontentloaded")
        if response is not None and response.status >= 500:
            return ScreenCheck(LoginPage.screen, unreachable=f"http-{response.status}")
        ensure_loaded(login)
        return check_screen(login)
    except ApplicationError as exc:
        return ScreenCheck(LoginPage.screen, unreachable=exc.code)
    except PlaywrightError as exc:
        code = translate_playwright_error(exc).code
        return ScreenCheck(LoginPage.screen, unreachable=code)
    finally:
        context.close()
