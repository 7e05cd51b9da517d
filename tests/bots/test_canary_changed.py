"""The canary tells a changed screen from an unreachable one, and checks every screen.

Real Chromium against the sandbox Fachverfahren Steuern: a release without ARIA markup on
tables and dialogs (knob ``strip_aria``), renamed labels, a renamed heading (rewritten in the
browser), a field the one-call input path cannot see (release variant ``component`` of
tests/fixtures/reskin.py) or finds twice must come out as changed screens naming screen and
element; maintenance as an outage.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from amtsbote import ApplicationError
from bots import CanaryFailed, look
from bots.steuer.pages import LoginPage, TaxpayerFormPage
from flows.engine import CanaryFailed as EngineCanaryFailed
from flows.engine._canary import canary
from tests.fixtures.bots import make_application
from tests.fixtures.reskin import serve_reskin

_SYSTEM = "Fachverfahren Steuern"


def _with_data(bot: Any) -> None:
    """One registration, so result tables, taxpayer and case form have something to show."""
    bot.register(make_application())
    assert bot.check().ok


def test_stripped_aria_is_a_changed_screen_on_every_broken_screen(
    steuer_faults: Any, make_bot: Any
) -> None:
    bot = make_bot(steuer_faults)
    _with_data(bot)
    steuer_faults.set_faults(strip_aria=True)
    report = bot.check()
    assert report.unreachable() == {}, report.summary()
    missing = report.missing()
    # Both tables lost their names: both screens are named, not only the first one.
    assert set(missing) == {"Suchergebnis", "Fälle"}, report.summary()
    assert "Suchergebnis" in missing["Suchergebnis"]
    assert "Fälle" in missing["Fälle"]
    # The screens after the broken result table were still opened and checked.
    checked = {s.screen: s for s in report.screens}
    assert checked["Steuerpflichtiger"].ok and not checked["Steuerpflichtiger"].skipped
    assert checked["Hundesteuerfall anlegen"].ok
    assert not checked["Hundesteuerfall anlegen"].skipped
    with pytest.raises(CanaryFailed) as raised:
        report.raise_for_problems()
    assert "Suchergebnis: FEHLT Suchergebnis" in raised.value.message
    # The engine re-exports the bot's class: one type to catch, and the report travels with it.
    assert EngineCanaryFailed is CanaryFailed
    with pytest.raises(CanaryFailed) as stopped:
        canary.fn(bot, _SYSTEM)
    assert "Suchergebnis" in stopped.value.message and "Fälle" in stopped.value.message
    assert stopped.value.report is not None
    assert set(stopped.value.report.missing()) == {"Suchergebnis", "Fälle"}
    assert "nicht erreichbar" not in stopped.value.message


def test_maintenance_is_an_outage_not_a_change(steuer_faults: Any, make_bot: Any) -> None:
    bot = make_bot(steuer_faults)
    _with_data(bot)
    steuer_faults.set_faults(maintenance=True)
    report = bot.check()
    assert not report.ok and not report.changed, report.summary()
    down = report.unreachable()
    assert {"Anmeldung", "Startseite", "Steuerpflichtige suchen", "Fälle"} <= set(down)
    assert set(down.values()) == {"http-503"}, down
    with pytest.raises(ApplicationError) as raised:
        report.raise_for_problems()
    assert not isinstance(raised.value, CanaryFailed)
    assert raised.value.code == "backoffice-unavailable"
    with pytest.raises(ApplicationError) as engine:
        canary.fn(bot, _SYSTEM)
    assert not isinstance(engine.value, CanaryFailed)
    assert engine.value.code == "backoffice-unavailable"
    assert "Startseite" in engine.value.message


def test_renamed_label_names_the_field_on_each_screen(steuer_faults: Any, make_bot: Any) -> None:
    bot = make_bot(steuer_faults)
    steuer_faults.set_faults(renamed_labels={"Nachname": "Familienname"})
    report = bot.check()
    assert report.unreachable() == {}
    assert report.missing() == {
        "Steuerpflichtige suchen": ["Nachname"],
        "Neuer Steuerpflichtiger": ["Nachname"],
    }
    with pytest.raises(CanaryFailed) as stopped:
        canary.fn(bot, _SYSTEM)
    assert "Steuerpflichtige suchen: Nachname" in stopped.value.message


def test_renamed_heading_on_a_loaded_page_is_missing_not_a_timeout(
    steuer: Any, make_bot: Any
) -> None:
    bot = make_bot(steuer)

    def renamed_heading(route: Route) -> None:
        response = route.fetch()
        body = response.text().replace("<h1>Fachverfahren Steuern</h1>", "<h1>Übersicht</h1>")
        route.fulfill(response=response, body=body)

    bot.page.route(re.compile(r"/start$"), renamed_heading)
    report = bot.check()
    assert report.unreachable() == {}, report.summary()
    assert report.missing() == {"Startseite": ["Fachverfahren Steuern"]}


def test_a_page_that_is_not_the_screen_is_unreachable(steuer: Any, make_bot: Any) -> None:
    bot = make_bot(steuer)

    def elsewhere(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><title>Wartungsarbeiten</title><h1>Bitte warten</h1>",
        )

    bot.page.route(re.compile(r"/faelle$"), elsewhere)
    report = bot.check()
    down = report.unreachable()
    assert down == {"Hundesteuerfälle": "maintenance", "Fälle": "maintenance"}, report.summary()
    assert not report.changed


def test_field_the_in_page_resolver_cannot_see_is_missing(
    steuer: Any, make_bot: Any, page: Page
) -> None:
    """A release draws "E-Mail" as a web component: found by its locator, not by ``simulate``."""
    with serve_reskin(steuer, "component") as release:
        page.goto(f"{release.base_url}/login")
        LoginPage(page).login("bot2", steuer.accounts["bot2"])
        page.goto(f"{release.base_url}{TaxpayerFormPage.path}")
        form = TaxpayerFormPage(page)
        # The locator sees into the shadow root (so counting locators alone passed) ...
        assert form.email.count() == 1
        # ... the screen's input method does not: entering the form would fail on the field.
        assert look(page, fields=["E-Mail", "Ort"]).missing == ["E-Mail"]
        with pytest.raises(ApplicationError) as failed:
            form.fill_form({"Ort": "Musterstadt", "E-Mail": "a@example.org"})
        assert failed.value.code == "field-not-found" and failed.value.field == "E-Mail"

        bot = make_bot(release)
        report = bot.check()
        assert report.unreachable() == {}, report.summary()
        assert report.missing() == {"Neuer Steuerpflichtiger": ["E-Mail"]}, report.summary()
        with pytest.raises(CanaryFailed) as stopped:
            canary.fn(bot, _SYSTEM)
        assert "Neuer Steuerpflichtiger: E-Mail" in stopped.value.message
        assert "nicht erreichbar" not in stopped.value.message
        bot.close()


def test_field_found_twice_is_missing_not_ok(steuer: Any, make_bot: Any) -> None:
    """A release adds a second address block: "Ort" twice, which a one-call form cannot pick."""
    bot = make_bot(steuer)

    def two_places(route: Route) -> None:
        response = route.fetch()
        row = re.search(
            r'<div class="row">\n<label for="[^"]*">Ort</label>.*?</div>', response.text(), re.S
        )
        assert row is not None
        second = re.sub(r'(id|for|name)="([^"]*)"', r'\1="\2_post"', row.group(0))
        body = response.text().replace(row.group(0), row.group(0) + "\n" + second)
        route.fulfill(response=response, body=body)

    bot.page.route(re.compile(r"/steuerpflichtige/neu$"), two_places)
    report = bot.check()
    assert report.unreachable() == {}, report.summary()
    assert report.missing() == {"Neuer Steuerpflichtiger": ["Ort"]}, report.summary()
