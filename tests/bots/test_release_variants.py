"""A re-skinned release of the Fachverfahren Steuern does not break the bot (real Chromium).

Each variant is the real sandbox behind an HTML-rewriting proxy (tests/fixtures/reskin.py):
renamed ids and reordered rows, labels no longer linked to their inputs but in a table cell
beside them, button texts with a colon or in capitals, table headers with a colon or in
capitals. The bot logs in, registers a dog and
its canary finds every screen intact; a control check shows that the old exact locators would
indeed have failed on the variant.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page

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
