"""A re-skinned release of the Fachverfahren Steuern does not break the bot (real Chromium).

Each variant is the real sandbox behind an HTML-rewriting proxy (tests/fixtures/reskin.py):
renamed ids and reordered rows, labels no longer linked to their inputs but in a table cell
beside them, button texts with a colon or in capitals, table headers with a colon or in
capitals, a blocking notice titled "HINWEIS" with the button "OK:" and no accessible name. The
bot logs in, registers a dog and its canary finds every screen intact; a control check shows
that the old exact locators would indeed have failed on the variant.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from bots.steuer import SteuerBot
from bots.steuer.pages import (
    CaseFormPage,
    LoginPage,
    TaxpayerFormPage,
    TaxpayerPage,
    TaxpayerSearchPage,
)
from tests.fixtures.bots import make_application
from tests.fixtures.reskin import serve_reskin

MakeBot = Callable[..., SteuerBot]

# What each variant does to the login screen, and what the old exact locators would miss there.
_LOGIN_MARKUP: dict[str, tuple[str, Callable[[Page], Locator]]] = {
    "ids": ("r2", lambda p: p.get_by_label("Benutzername", exact=True)),
    "cells": ("<td>Benutzername:</td>", lambda p: p.get_by_label("Benutzername", exact=True)),
    "buttons": (">Anmelden:<", lambda p: p.get_by_role("button", name="Anmelden", exact=True)),
}


@pytest.mark.parametrize("variant", ["ids", "cells", "buttons"])
def test_bot_registers_and_canary_passes_on_a_release_variant(
    variant: str, steuer: Any, make_bot: MakeBot, page: Page
) -> None:
    with serve_reskin(steuer, variant) as release:
        login_html = httpx.get(f"{release.base_url}/login", timeout=10).text
        marker, old_locator = _LOGIN_MARKUP[variant]
        assert marker in login_html
        page.goto(f"{release.base_url}/login")
        login = LoginPage(page)
        if variant != "ids":  # the old exact locator misses the changed control
            assert old_locator(page).count() == 0
        assert login.username.count() == 1 and login.submit_button.count() == 1

        bot = make_bot(release)
        app = make_application(breed="DACK", insurance=True)
        reg = bot.register(app)
        assert reg.created and reg.reference == app.reference
        assert reg.tax_amount == Decimal("120.00")
        [case] = [c for c in steuer.export()["cases"] if c["fremdreferenz"] == app.reference]
        assert case["aktenzeichen"] == reg.aktenzeichen
        assert app.sepa_mandate is not None and app.sepa_mandate.iban in repr(case)

        again = bot.register(app)  # found in the case list of the variant: not entered twice
        assert not again.created and again.aktenzeichen == reg.aktenzeichen

        report = bot.check()
        assert report.ok, report.summary()
        assert "übersprungen" not in report.summary().split("Fall angelegt")[0]
        bot.close()


def test_cells_variant_keeps_every_field_unique(steuer: Any, make_bot: MakeBot, page: Page) -> None:
    """In the table layout each label finds exactly one control (the canary counts them)."""
    bot = make_bot(steuer)
    bot.register(make_application())  # a taxpayer for the case form
    with serve_reskin(steuer, "cells") as release:
        page.goto(f"{release.base_url}/login")
        LoginPage(page).login("bot2", steuer.accounts["bot2"])
        for screen in ("/steuerpflichtige/neu", "/steuerpflichtige", "/faelle"):
            page.goto(f"{release.base_url}{screen}")
            assert "<label" not in page.content()
        page.goto(f"{release.base_url}/steuerpflichtige/neu")
        form = TaxpayerFormPage(page)
        counts = {label: loc.count() for label, loc in form.required_locators().items()}
        assert counts == dict.fromkeys(counts, 1), counts

        search = TaxpayerSearchPage(page)
        page.goto(f"{release.base_url}{search.path}")
        search.submit_form(search.search_button)  # an empty search lists every taxpayer
        with page.expect_navigation():
            search.link_named("Auswählen", within=search.results).first.click()
        page.goto(f"{release.base_url}{TaxpayerPage(page).new_case_url()}")
        case_form = CaseFormPage(page)
        case_form.wait_loaded()
        counts = {label: loc.count() for label, loc in case_form.required_locators().items()}
        assert counts == dict.fromkeys(counts, 1), counts
        assert case_form.sepa.get_attribute("type") == "radio"
        assert case_form.mandate.get_attribute("type") == "checkbox"


def test_table_headers_with_colons_and_capitals_read_as_before(
    steuer: Any, make_bot: MakeBot
) -> None:
    with serve_reskin(steuer, "headers") as release:
        bot = make_bot(release)
        app = make_application(breed="DACK", insurance=True)
        reg = bot.register(app)
        assert reg.created and reg.tax_amount == Decimal("120.00")
        # The case list of the release (headers changed) finds the case: not entered twice.
        again = bot.register(app)
        assert not again.created and again.aktenzeichen == reg.aktenzeichen
        assert again.tax_amount == reg.tax_amount
        report = bot.check()
        assert report.ok, report.summary()
        bot.close()


def test_notice_in_capitals_and_without_its_name_is_clicked_away(
    steuer_faults: Any, make_bot: MakeBot, page: Page
) -> None:
    """Every screen shows the release's notice; the bot clicks it away wherever it blocks."""
    steuer_faults.set_faults(modal_rate=1.0)
    with serve_reskin(steuer_faults, "notice") as release:
        page.goto(f"{release.base_url}/login")
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("heading", name="HINWEIS", exact=True)).to_be_visible()
        expect(dialog.get_by_role("button", name="OK:", exact=True)).to_be_visible()
        # The handler's old exact locators miss it: no accessible name, no button "OK".
        assert page.get_by_role("dialog", name="Hinweis").count() == 0
        assert page.get_by_role("button", name="OK", exact=True).count() == 0
        release.changed.clear()

        bot = make_bot(release)
        app = make_application(breed="DACK", insurance=True)
        reg = bot.register(app)
        assert reg.created and reg.tax_amount == Decimal("120.00")
        [case] = [c for c in steuer_faults.export()["cases"] if c["fremdreferenz"] == app.reference]
        assert case["aktenzeichen"] == reg.aktenzeichen
        # The notice met the bot on the login, the taxpayer and the case screens.
        screens = {path.split("/")[1] for path in release.changed}
        assert {"login", "steuerpflichtige", "faelle"} <= screens, release.changed

        report = bot.check()
        assert report.ok, report.summary()
        bot.close()
