"""The core's meaning-locators on a legacy screen served by the test (real Chromium).

The screen (tests/fixtures/legacy.py) is ISO-8859-1, split into a frameset with an iframe,
laid out in a table whose label cells are not linked to their inputs, and has an image button,
a ``__doPostBack`` link and a lookup pop-up. A page object spanning the frameset fills and reads
its fields by the texts a person reads, clicks the buttons and picks from the pop-up. A grid
form is filled by the captions of its columns.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import FrameLocator, Locator, Page

from bots import PageObject, button_by_name, field_by_label, frame_named, link_by_name
from sandbox._common import ServedApp
from tests.fixtures.legacy import serve_legacy


@pytest.fixture(scope="module")
def legacy() -> Iterator[ServedApp]:
    with serve_legacy() as served:
        yield served


class ApplicationScreen(PageObject):
    """The frameset: navigation on the left, the application form (and its iframe) right."""

    screen = "Antrag erfassen"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.navigation = self.frame("navigation")
        self.content: FrameLocator = self.frame("inhalt")
        self.hints = frame_named(self.content, "hinweise")
        within = self.content
        self.heading = self.heading_named("Antrag erfassen", within=within)
        self.form_link = self.link_named("Antrag erfassen", within=self.navigation)
        self.family_name = self.labelled("Familienname", within=within)
        self.street = self.labelled("Straße", within=within)
        self.fee_key = self.labelled("Gebührenschlüssel", within=within)
        self.remark = self.labelled("Bemerkung", within=within)
        self.reduced = self.labelled("Ermäßigung beantragt", within=within)
        self.file_number = self.labelled("Aktenzeichen", within=self.hints)
        self.lookup = self.button_named("Gebührenschlüssel suchen", within=within)
        self.save = self.button_named("Speichern", within=within)
        self.check = self.button_named("prüfen", within=within)

    def landmark(self) -> Locator:
        return self.heading

    def required_locators(self) -> dict[str, Locator]:
        return {
            "Familienname": self.family_name, "Straße": self.street,
            "Gebührenschlüssel": self.fee_key, "Bemerkung": self.remark,
            "Ermäßigung beantragt": self.reduced, "Aktenzeichen": self.file_number,
            "Gebührenschlüssel suchen": self.lookup, "Speichern": self.save,
            "Prüfen": self.check, "Antrag erfassen (Navigation)": self.form_link,
        }  # fmt: skip

    def answer(self, label: str) -> str:
        """A value of the answer page "Antrag gespeichert" in the content frame."""
        self.heading_named("Antrag gespeichert", within=self.content).wait_for()
        return field_by_label(self.content, label).input_value()


def _open(page: Page, legacy: ServedApp) -> ApplicationScreen:
    page.goto(legacy.base_url + "/")
    screen = ApplicationScreen(page)
    screen.wait_loaded()
    return screen


def test_every_field_and_button_is_found_exactly_once(page: Page, legacy: ServedApp) -> None:
    screen = _open(page, legacy)
    counts = {label: loc.count() for label, loc in screen.required_locators().items()}
    assert counts == dict.fromkeys(counts, 1), counts
    # Each label names its own control, not its neighbour's.
    assert screen.family_name.get_attribute("name") == "ctl00$txt1"
    assert screen.street.get_attribute("name") == "ctl00$txt2"
    assert screen.fee_key.get_attribute("name") == "ctl00$txt3"
    assert screen.reduced.get_attribute("type") == "checkbox"


def test_fields_filled_in_frames_are_posted_by_the_postback_link(
    page: Page, legacy: ServedApp
) -> None:
    screen = _open(page, legacy)
    screen.fill(screen.family_name, "Müßiggang")
    screen.fill(screen.street, "Über der Förde 3")
    screen.fill(screen.remark, "Grüße aus Köln")
    screen.set_checked(screen.reduced, True)
    screen.fill(screen.file_number, "AZ-Ä-1")  # in the iframe inside the content frame
    assert screen.file_number.input_value() == "AZ-Ä-1"
    screen.check.click()  # javascript:__doPostBack(...) submits the form
    assert screen.answer("Aktion") == "Prüfen"
    assert screen.answer("Familienname") == "Müßiggang"  # ISO-8859-1 both ways
    assert screen.answer("Straße") == "Über der Förde 3"
    assert screen.answer("Bemerkung") == "Grüße aus Köln"
    assert screen.answer("Ermäßigung beantragt") == "on"


def test_image_button_submits_and_navigation_frame_leads_back(
    page: Page, legacy: ServedApp
) -> None:
    screen = _open(page, legacy)
    screen.fill(screen.family_name, "Schäfer")
    screen.save.click()
    assert screen.answer("Aktion") == "Speichern"
    assert screen.answer("Familienname") == "Schäfer"
    screen.form_link.click()  # target="inhalt": the form again, the frameset stays
    screen.wait_loaded()
    assert screen.family_name.input_value() == ""


def test_value_is_picked_from_the_lookup_popup(page: Page, legacy: ServedApp) -> None:
    screen = _open(page, legacy)
    popup = screen.open_popup(screen.lookup)
    assert link_by_name(popup, "A01 - Regelgebühr").count() == 1
    assert link_by_name(popup, "Regelgebühr").count() == 0  # whole text, not a part of it
    choice = link_by_name(popup, "b12 - ermäßigt")
    assert choice.count() == 1
    with popup.expect_event("close"):
        choice.click()
    assert screen.fee_key.input_value() == "B12"
    assert button_by_name(screen.content, "SPEICHERN:").count() == 1


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Benutzername", True), ("  benutzername :", True), ("BENUTZERNAME*", True),
        ("Benutzername\u00a0:", True), ("Benutzername des Bots", False), ("Name", False),
    ],
)  # fmt: skip
def test_name_pattern_tolerates_case_whitespace_and_a_trailing_colon_only(
    text: str, matches: bool
) -> None:
    from bots import name_pattern

    assert bool(name_pattern("Benutzername:").search(text)) is matches
    with pytest.raises(ValueError):
        name_pattern(" : ")


# The grid form: caption → the input's name, as a person reads the column (case, colon, spans).
_GRID = {
    "Name": "g_name", "vorname": "g_vorname", "GEBURTSDATUM": "g_geb",
    "Geburtsdatum :": "g_geb", "Hauptwohnsitz": "g_hws", "Familienstand": "g_stand",
    "Anschrift": "g_anschrift", "Gebühr": "z_gebuehr", "Geburtsjahr": "k_jahr1",
}  # fmt: skip


def test_grid_fields_are_found_by_the_caption_of_their_column(
    page: Page, legacy: ServedApp
) -> None:
    page.goto(legacy.base_url + "/raster")
    names = {caption: field_by_label(page, caption).get_attribute("name") for caption in _GRID}
    assert names == _GRID  # "Gebühr" counts the colspan of "Zeitraum" before it
    field_by_label(page, "Vorname").fill("Jürgen")
    field_by_label(page, "Anschrift").fill("Über der Förde 3")
    field_by_label(page, "Hauptwohnsitz").check()
    field_by_label(page, "Familienstand").select_option("verheiratet")
    values = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('input, select'))"
        ".map(e => [e.name, e.type === 'checkbox' ? e.checked : e.value]))"
    )
    assert values["g_vorname"] == "Jürgen" and values["g_anschrift"] == "Über der Förde 3"
    assert values["g_hws"] is True and values["g_stand"] == "verheiratet"
    assert values["g_name"] == "" and values["g_geb"] == ""  # the neighbours stay empty


def test_a_caption_takes_no_labelled_input_and_names_no_field_it_cannot_tell_apart(
    page: Page, legacy: ServedApp
) -> None:
    page.goto(legacy.base_url + "/raster")
    counts = {
        caption: field_by_label(page, caption).count()
        for caption in ("Aktenzeichen", "Altes Aktenzeichen", "Zeitraum", "Bemerkung", "Kind")
    }
    # "Aktenzeichen" heads an input labelled "Altes Aktenzeichen": that input is not its field.
    # "Zeitraum" spans two inputs, "Bemerkung" heads two columns, "Kind" a list of two rows.
    assert counts == {
        "Aktenzeichen": 0, "Altes Aktenzeichen": 1, "Zeitraum": 2, "Bemerkung": 2, "Kind": 2,
    }  # fmt: skip
    assert field_by_label(page, "Altes Aktenzeichen").get_attribute("name") == "g_az"
