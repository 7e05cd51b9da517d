"""The input method ``simulate``: one call per form, on the Steuern back office and small pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Page

from amtsbote import ApplicationError
from bots import BrowserSession, Option, PageObject, simulate_form
from bots.steuer import SteuerBot
from bots.steuer.pages import CaseFormPage, TaxpayerEntry, TaxpayerFormPage
from sandbox._common import serve_in_thread

MakeBot = Callable[..., SteuerBot]

_CASE = {
    "Fremdreferenz": "sub-simulate-1",
    "Name des Hundes": "Bello",
    "Rasse": Option("Dackel"),
    "Geburtsdatum des Hundes": "03.05.2023",
    "Transpondernummer": "276098106123456",
    "Halter seit": "01.10.2025",
    "Haftpflichtversicherung nachgewiesen": True,
    "SEPA-Lastschrift": True,
    "SEPA-Lastschriftmandat liegt vor": True,
    "Kontoinhaber": "Erika Muster",
    "IBAN": "DE02120300000000202051",
    "Ermäßigung (EUR)": "0,00",
    "Bemerkung": "Portal-Antrag case-1",
}


def _case_form(bot: SteuerBot, family_name: str) -> CaseFormPage:
    """A new taxpayer, then its "Hundesteuerfall anlegen" form."""
    form = TaxpayerFormPage(bot.page)
    bot.goto(TaxpayerFormPage.path)
    taxpayer = form.create(
        TaxpayerEntry(
            family_name=family_name, given_name="Erika", birth_date="01.02.1970",
            street_and_number="Hauptstraße 1", postal_code="44623", city="Musterstadt",
            email="erika@example.org",
        ),
        confirm_duplicate=True,
    )  # fmt: skip
    bot.goto(taxpayer.new_case_url())
    case = CaseFormPage(bot.page)
    case.arrive(case.heading)
    return case


def test_simulate_round_trip_on_the_case_form_is_accepted(steuer: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer)
    case = _case_form(bot, "Simulata")
    values = dict(_CASE, Fremdreferenz="sub-simulate-rt")
    read = case.fill_form(values, method="simulate")
    assert read == {k: (str(v) if isinstance(v, Option) else v) for k, v in values.items()}
    # What the page shows is what was read back (not just what the script believes).
    assert case.iban.input_value() == "DE02120300000000202051"
    assert case.sepa.is_checked() and not case.transfer.is_checked()
    assert case.breed.evaluate("s => s.options[s.selectedIndex].text") == "Dackel"
    aktenzeichen, tax, ref = case.submit().read()
    assert ref == "sub-simulate-rt" and aktenzeichen.startswith("HSt-")
    [stored] = [c for c in steuer.export()["cases"] if c["fremdreferenz"] == ref]
    assert stored["iban"] == "DE02120300000000202051"


def test_an_option_the_select_lacks_is_a_mismatch_naming_the_label(
    steuer: Any, make_bot: MakeBot
) -> None:
    bot = make_bot(steuer)
    case = _case_form(bot, "Simulatb")
    with pytest.raises(ApplicationError) as info:
        case.fill_form({"Name des Hundes": "Bello", "Rasse": Option("Einhorn")}, method="simulate")
    assert info.value.code == "input-mismatch" and info.value.field == "Rasse"
    assert "Rasse" in info.value.message
    with pytest.raises(ApplicationError) as missing:
        case.fill_form({"Farbe des Hundes": "braun"}, method="simulate")
    assert missing.value.code == "field-not-found" and missing.value.field == "Farbe des Hundes"


def test_fields_behind_tabs_are_revealed(make_steuer: Any, make_bot: MakeBot) -> None:
    with make_steuer(layout="v2") as server:
        bot = make_bot(server)
        case = _case_form(bot, "Simulatc")
        assert not case.iban.is_visible()  # v2: "IBAN" sits in the closed tab "Zahlung"
        read = case.fill_form({"IBAN": "DE02120300000000202051"}, method="simulate")
        assert read == {"IBAN": "DE02120300000000202051"}
        assert case.iban.is_visible() and not case.dog_name.is_visible()
        read = case.fill_form({"Name des Hundes": "Bello"}, method="simulate")
        assert case.dog_name.is_visible() and case.dog_name.input_value() == "Bello"
        assert case.iban.input_value() == "DE02120300000000202051"
        bot.close()


# A legacy form: labels in cells beside the inputs (not associated), a mask that rewrites the
# value on input, a listener that records the events a person's typing leaves behind.
_LEGACY = """<!doctype html><html lang=de><body><h1>Altverfahren</h1><form><table>
<tr><td>Benutzername :</td><td><input name=u></td></tr>
<tr><td>PLZ</td><td><input name=plz oninput="this.value=this.value.replace(/\\D/g,'')"></td></tr>
<tr><td><input type=checkbox name=v></td><td>Versichert</td></tr>
<tr><td>Ort</td><td><input name=ort></td></tr></table></form>
<script>window.seen = [];
for (const t of ['focus', 'input', 'change', 'blur'])
  document.querySelector('[name=ort]').addEventListener(t, e => seen.push(e.type));
</script></body></html>"""


@pytest.fixture(scope="module")
def legacy_url() -> Iterator[str]:
    app = FastAPI()
    app.get("/alt")(lambda: HTMLResponse(_LEGACY))
    with serve_in_thread(app) as served:
        yield served.base_url + "/alt"


@pytest.fixture
def page(bot_session: BrowserSession) -> Iterator[Page]:
    context = bot_session.new_context()
    yield context.new_page()
    context.close()


def test_label_cells_events_and_a_mask_that_changes_the_value(page: Page, legacy_url: str) -> None:
    page.goto(legacy_url)
    read = simulate_form(page, {"benutzername": "bot1", "VERSICHERT": True, "Ort": "Musterstadt"})
    assert read == {"benutzername": "bot1", "VERSICHERT": True, "Ort": "Musterstadt"}
    assert page.evaluate("window.seen") == ["focus", "input", "change", "blur"]
    assert page.evaluate("document.querySelector('[name=u]').value") == "bot1"
    with pytest.raises(ApplicationError) as info:  # the mask drops the letters: read back differs
        simulate_form(page, {"PLZ": "D-44623"}, screen="Altverfahren")
    assert info.value.field == "PLZ" and "Altverfahren" in info.value.message


class _LegacyPage(PageObject):
    screen = "Altverfahren"
    input_method = "simulate"
    fill_fields = frozenset({"PLZ"})


def test_fill_fields_keep_playwright_fill_in_a_simulate_form(page: Page, legacy_url: str) -> None:
    page.goto(legacy_url)
    legacy = _LegacyPage(page)
    read = legacy.fill_form({"Ort": "Musterstadt", "PLZ": "44623"})
    assert read == {"Ort": "Musterstadt", "PLZ": "44623"}
    assert page.evaluate("document.querySelector('[name=plz]').value") == "44623"
