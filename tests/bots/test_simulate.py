"""The input method ``simulate``: one call per form, on the Steuern back office and small pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Page

from amtsbote import ApplicationError
from bots import BrowserSession, FieldValue, Option, PageObject, simulate_form
from bots.steuer import SteuerBot
from bots.steuer.pages import CaseFormPage, TaxpayerEntry, TaxpayerFormPage
from sandbox._common import serve_in_thread
from tests.fixtures.legacy import serve_legacy

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


@pytest.fixture(scope="module")
def grid_url() -> Iterator[str]:
    with serve_legacy() as served:
        yield served.base_url + "/raster"


_GRID_VALUES: dict[str, FieldValue] = {
    "NAME": "Müller", "Vorname:": "Jürgen", "Geburtsdatum": "01.02.1970", "Hauptwohnsitz": True,
    "Familienstand": Option("verheiratet"), "Anschrift": "Über der Förde 3", "Gebühr": "12,50",
}  # fmt: skip
_GRID_NAMES = {
    "g_name": "Müller", "g_vorname": "Jürgen", "g_geb": "01.02.1970", "g_hws": True,
    "g_stand": "verheiratet", "g_anschrift": "Über der Förde 3", "z_gebuehr": "12,50",
}  # fmt: skip
_GRID_JS = """Object.fromEntries(Array.from(document.querySelectorAll('input, select'))
  .map(e => [e.name, e.type === 'checkbox' ? e.checked : e.value]))"""


def test_a_grid_is_filled_by_the_captions_of_its_columns(page: Page, grid_url: str) -> None:
    page.goto(grid_url)  # ISO-8859-1, captions above their columns, no label linked
    read = simulate_form(page, _GRID_VALUES, screen="Beteiligte erfassen")
    assert read == {k: (str(v) if isinstance(v, Option) else v) for k, v in _GRID_VALUES.items()}
    shown = page.evaluate(_GRID_JS)
    assert {name: shown[name] for name in _GRID_NAMES} == _GRID_NAMES
    untouched = set(shown) - set(_GRID_NAMES)
    assert all(shown[name] == "" for name in untouched), shown


def test_a_grid_caption_takes_no_labelled_input_and_resolves_no_doubt(
    page: Page, grid_url: str
) -> None:
    page.goto(grid_url)
    unsure = {"Aktenzeichen": "AZ-1", "Zeitraum": "2025", "Bemerkung": "eilig", "Kind": "Anna"}
    with pytest.raises(ApplicationError) as info:
        simulate_form(page, unsure, screen="Beteiligte erfassen")
    assert info.value.code == "field-not-found" and info.value.field == "Aktenzeichen"
    message = info.value.message
    assert "„Aktenzeichen“ nicht gefunden" in message  # its input has a label of its own
    for caption in ("Zeitraum", "Bemerkung", "Kind"):  # two inputs each: none is taken
        assert f"„{caption}“ mehrfach gefunden" in message
    assert set(page.evaluate(_GRID_JS).values()) <= {"", False, "ledig"}  # nothing entered
    assert simulate_form(page, {"Altes Aktenzeichen": "AZ-1"}) == {"Altes Aktenzeichen": "AZ-1"}
