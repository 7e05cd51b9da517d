"""The DOM-call path (`bots.look`, `bots.DomPage`): one call per read and per submit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse
from playwright.sync_api import Locator, Page

from amtsbote import ApplicationError
from bots import BrowserSession, DomPage, field_by_label, look, read_table
from bots._dom import fill_and_submit
from sandbox._common import serve_in_thread
from tests.fixtures.legacy import serve_legacy

_FORM = """<!doctype html><html><body><h1>Suche:</h1>
<form method="post" action="/suche">
<table><tr><td>Nachname</td><td><input name="n"></td></tr></table>
<label>Ort <input name="ort" value="Musterstadt"></label>
<button type="submit">SUCHEN</button>
<button type="button" disabled>Gesperrt</button>
</form></body></html>"""

_RESULT = """<!doctype html><html><body><h1>Suche</h1>
<table aria-label="Treffer"><thead><tr><th>Name</th><th>Ort</th></tr></thead>
<tbody><tr><td> {n} </td><td>Musterstadt</td></tr><tr><td>Andere</td><td>Dorf</td></tr></tbody>
</table><p>Keine weiteren Treffer.</p><p style="display:none">Verborgen</p>
<a href="/weiter?x=1">Weiter</a></body></html>"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = FastAPI()
    app.get("/suche")(lambda: HTMLResponse(_FORM))

    @app.post("/suche")
    def result(n: str = Form(...)) -> HTMLResponse:
        return HTMLResponse(_RESULT.format(n=n))

    with serve_in_thread(app) as served:
        yield served.base_url + "/suche"


@pytest.fixture
def page(bot_session: BrowserSession) -> Iterator[Page]:
    context = bot_session.new_context()
    yield context.new_page()
    context.close()


class SearchPage(DomPage):
    screen = "Suche"
    input_method = "simulate"

    def landmark(self) -> Locator:
        return self.heading_named("Suche")


def test_fill_and_submit_clicks_the_named_button_and_waits_for_the_answer(
    page: Page, url: str
) -> None:
    page.goto(url)
    search = SearchPage(page)
    seen = search.arrive_seen("suche", search.landmark(), fields=["Ort"])
    assert seen.values == {"Ort": "Musterstadt"} and not seen.missing
    search.submit_values({"Nachname": "Muster"}, search.button_named("Suchen"), "Suchen")
    texts = ["Keine weiteren Treffer.", "Verborgen"]
    seen = look(page, tables=["Treffer"], links=["Weiter"], texts=texts)
    assert seen.tables["Treffer"] == [
        {"Name": "Muster", "Ort": "Musterstadt"},
        {"Name": "Andere", "Ort": "Dorf"},
    ]
    table = page.get_by_role("table", name="Treffer")  # as the locators read it (the fallback)
    assert read_table(table, table.get_by_role("row")) == seen.tables["Treffer"]
    assert seen.links == {"Weiter": "/weiter?x=1"}
    assert seen.texts == {"Keine weiteren Treffer.": True, "Verborgen": False}


def test_a_missing_field_names_its_label_and_nothing_is_clicked(page: Page, url: str) -> None:
    page.goto(url)
    with pytest.raises(ApplicationError) as info:
        fill_and_submit(page, {"Vorname": "Erika"}, "Suchen", screen="Suche")
    assert info.value.code == "field-not-found" and info.value.field == "Vorname"
    assert page.url == url  # still the form


def test_a_disabled_or_unknown_button_is_left_to_playwright(page: Page, url: str) -> None:
    page.goto(url)
    assert fill_and_submit(page, {"Nachname": "Muster"}, "Gesperrt") is False
    assert fill_and_submit(page, {"Nachname": "Muster"}, "Absenden") is False
    assert page.get_by_role("textbox").first.input_value() == "Muster"  # filled all the same
    assert page.url == url


def test_a_table_or_link_not_found_once_is_none(page: Page, url: str) -> None:
    page.goto(url)
    seen = look(page, fields=["Vorname"], tables=["Treffer"], links=["Weiter"])
    assert seen.tables == {"Treffer": None} and seen.links == {"Weiter": None}
    assert seen.missing == ["Vorname"] and seen.shows("SUCHE") and not seen.shows("Treffer")


def test_headers_of_a_new_release_answer_to_their_usual_names(page: Page) -> None:
    page.set_content(
        '<h1>Suche</h1><table aria-label="Treffer"><thead><tr><th>NAME:</th>'
        "<th> Ort\u00a0</th></tr></thead><tbody><tr><td>Muster</td><td>Musterstadt</td></tr>"
        "</tbody></table>"
    )
    (seen,) = look(page, tables=["Treffer"]).tables["Treffer"] or [None]
    table = page.get_by_role("table", name="Treffer")
    rows = read_table(table, table.get_by_role("row"))
    assert rows == [{"NAME:": "Muster", "Ort": "Musterstadt"}]  # as the screen shows them
    for row in (seen, rows[0]):
        assert row is not None
        assert row["Name"] == "Muster" and row.get("ort") == "Musterstadt"
        assert "Name" in row and "Anschrift" not in row and row.get("Anschrift", "-") == "-"


def test_look_reads_a_grid_by_its_captions_as_the_locators_do(page: Page) -> None:
    with serve_legacy() as legacy:
        page.goto(legacy.base_url + "/raster")
        page.locator("[name=g_vorname]").fill("Jürgen")  # set up by name: not what is tested
        page.locator("[name=g_hws]").check()
        page.locator("[name=z_gebuehr]").fill("12,50")
        captions = [
            "Vorname", "HAUPTWOHNSITZ", "Familienstand", "Gebühr:", "Name",
            "Aktenzeichen", "Zeitraum", "Bemerkung", "Kind",
        ]  # fmt: skip
        seen = look(page, fields=captions)
        assert seen.values == {
            "Vorname": "Jürgen", "HAUPTWOHNSITZ": True, "Familienstand": "ledig",
            "Gebühr:": "12,50", "Name": "",
        }  # fmt: skip
        assert seen.missing == ["Aktenzeichen", "Zeitraum", "Bemerkung", "Kind"]
        # The one-call path and the locators agree on every caption.
        for caption in captions:
            assert (field_by_label(page, caption).count() == 1) is (caption in seen.values)
