"""The Fachverfahren Steuern through real Chromium: the screen contract bots are written against."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.fixtures.steuer import SteuerServer

MakeSteuer = Callable[..., AbstractContextManager[SteuerServer]]


def _chip() -> str:
    return "276" + f"{uuid.uuid4().int % 10**12:012d}"


def _uniq() -> str:
    return uuid.uuid4().hex[:8]


def login(page: Page, server: SteuerServer, user: str = "bot1") -> None:
    page.goto(server.base_url + "/login")
    expect(page.get_by_role("heading", name="Anmeldung – Fachverfahren Steuern")).to_be_visible()
    page.get_by_label("Benutzername").fill(user)
    page.get_by_label("Passwort").fill(server.accounts[user])
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Fachverfahren Steuern", exact=True)).to_be_visible()


def new_taxpayer(page: Page, family: str, given: str = "Jürgen", born: str = "01.04.1980") -> None:
    page.get_by_role("link", name="Neuer Steuerpflichtiger").click()
    expect(page.get_by_role("heading", name="Neuer Steuerpflichtiger")).to_be_visible()
    page.get_by_label("Nachname").fill(family)
    page.get_by_label("Vorname").fill(given)
    page.get_by_label("Geburtsdatum").fill(born)
    page.get_by_label("Straße und Hausnummer").fill("Hauptstraße 12a")
    page.get_by_label("Postleitzahl").fill("44623")
    page.get_by_label("Ort", exact=True).fill("Musterstadt")
    page.get_by_label("E-Mail").fill("j.weiss@example.org")
    page.get_by_role("button", name="Speichern").click()


def fill_case(page: Page, ref: str, **over: Any) -> None:
    v: dict[str, Any] = {
        "name": "Bello",
        "breed": "Labrador Retriever",
        "born": "03.05.2024",
        "chip": _chip(),  # a dog can be registered only once
        "since": "01.10.2026",
        "payment": "SEPA-Lastschrift",
        "mandate": True,
        "holder": "Jürgen Weiß",
        "iban": "DE02120300000000202051",
        "insurance": False,
        "discount": None,
        **over,
    }
    page.get_by_label("Fremdreferenz").fill(ref)
    page.get_by_label("Name des Hundes").fill(v["name"])
    page.get_by_label("Rasse").select_option(label=v["breed"])
    page.get_by_label("Geburtsdatum des Hundes").fill(v["born"])
    page.get_by_label("Transpondernummer").fill(v["chip"])
    page.get_by_label("Halter seit").fill(v["since"])
    page.get_by_role("radio", name=v["payment"]).check()
    page.get_by_label("SEPA-Lastschriftmandat liegt vor").set_checked(v["mandate"])
    page.get_by_label("Kontoinhaber").fill(v["holder"])
    page.get_by_label("IBAN").fill(v["iban"])
    page.get_by_label("Haftpflichtversicherung nachgewiesen").set_checked(v["insurance"])
    if v["discount"] is not None:
        page.get_by_label("Ermäßigung (EUR)").fill(v["discount"])


def test_login_ok_and_wrong(page: Page, steuer: SteuerServer) -> None:
    page.goto(steuer.base_url + "/login")
    page.get_by_label("Benutzername").fill("bot1")
    page.get_by_label("Passwort").fill("falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_have_text("Benutzername oder Passwort falsch.")
    login(page, steuer)
    assert page.url.endswith("/start")
    for link in ("Steuerpflichtige suchen", "Neuer Steuerpflichtiger", "Hundesteuerfälle"):
        expect(page.get_by_role("link", name=link, exact=True)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "FVSTEUER_SID")
    assert cookie["httpOnly"] is True
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("heading", name="Anmeldung – Fachverfahren Steuern")).to_be_visible()


def test_taxpayer_case_confirmation_search_and_list(page: Page, steuer: SteuerServer) -> None:
    family = f"Weiß-{_uniq()}"
    ref = f"sub-{_uniq()}"
    login(page, steuer)
    new_taxpayer(page, family)
    expect(page.get_by_role("heading", name="Steuerpflichtiger", exact=True)).to_be_visible()
    assert page.get_by_label("Name", exact=True).input_value() == f"{family}, Jürgen"
    assert page.get_by_label("Geburtsdatum").input_value() == "01.04.1980"
    assert page.get_by_label("Anschrift").input_value() == "Hauptstraße 12a, 44623 Musterstadt"
    steuernummer = page.get_by_label("Steuernummer").input_value()
    assert re.fullmatch(r"\d{3}/\d{6}/\d", steuernummer)

    page.get_by_role("link", name="Hundesteuerfall anlegen").click()
    expect(page.get_by_role("heading", name="Hundesteuerfall anlegen")).to_be_visible()
    expect(page.get_by_label("Ermäßigung (EUR)")).to_have_value("0,00")
    fill_case(page, ref)
    page.get_by_role("button", name="Fall anlegen").click()
    expect(page.get_by_role("heading", name="Fall angelegt")).to_be_visible()
    az = page.get_by_label("Aktenzeichen").input_value()
    assert re.fullmatch(r"HSt-\d{4}-\d{6}", az)
    assert page.get_by_label("Jahressteuer (EUR)").input_value() == "120,00"
    assert page.get_by_label("Fremdreferenz").input_value() == ref

    # a second dog of the same taxpayer costs 180,00, minus the discount
    page.go_back()
    page.goto(page.url)  # fresh form
    fill_case(page, f"sub-{_uniq()}", name="Luna", discount="30,50")
    page.get_by_role("button", name="Fall anlegen").click()
    expect(page.get_by_role("heading", name="Fall angelegt")).to_be_visible()
    assert page.get_by_label("Jahressteuer (EUR)").input_value() == "149,50"
    az2 = page.get_by_label("Aktenzeichen").input_value()
    assert int(az2[-6:]) == int(az[-6:]) + 1

    # search finds the taxpayer, the row's link opens it
    page.get_by_role("link", name="Steuerpflichtige suchen").click()
    page.get_by_label("Nachname").fill(family.upper())
    page.get_by_label("Geburtsdatum").fill("01.04.1980")
    page.get_by_role("button", name="Suchen").click()
    table = page.get_by_role("table", name="Suchergebnis")
    row = table.get_by_role("row").filter(has_text=f"{family}, Jürgen")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(steuernummer)
    row.get_by_role("link", name="Auswählen").click()
    assert page.get_by_label("Steuernummer").input_value() == steuernummer
    page.get_by_role("link", name="Steuerpflichtige suchen").click()
    page.get_by_label("Nachname").fill(f"Niemand-{_uniq()}")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_text("Keine Steuerpflichtigen gefunden.")).to_be_visible()

    # case list by Fremdreferenz, by name, and empty
    page.get_by_role("link", name="Hundesteuerfälle").click()
    page.get_by_label("Suchbegriff").fill(ref)
    page.get_by_role("button", name="Suchen").click()
    cases = page.get_by_role("table", name="Fälle")
    expect(cases.get_by_role("row")).to_have_count(2)  # header + 1
    expect(cases.get_by_role("row").nth(1)).to_contain_text(az)
    expect(cases.get_by_role("row").nth(1)).to_contain_text("Labrador Retriever")
    page.get_by_label("Suchbegriff").fill(family)
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("table", name="Fälle").get_by_role("row")).to_have_count(3)
    page.get_by_label("Suchbegriff").fill(f"nichts-{_uniq()}")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_text("Keine Fälle gefunden.")).to_be_visible()

    exported = {c["aktenzeichen"]: c for c in steuer.export()["cases"]}
    assert exported[az]["fremdreferenz"] == ref
    assert exported[az]["tax"] == "120.00"
    assert exported[az]["created_by"] == "bot1"
    assert exported[az2]["discount"] == "30.50"


def test_validation_errors_inline_values_kept(page: Page, steuer: SteuerServer) -> None:
    login(page, steuer)
    new_taxpayer(page, f"Valid-{_uniq()}")
    page.get_by_role("link", name="Hundesteuerfall anlegen").click()
    fill_case(
        page,
        f"sub-{_uniq()}",
        breed="Rottweiler",
        born="3.5.2024",
        chip="27609810654321",
        since="01.01.2999",
        iban="DE02120300000000202052",
        mandate=False,
        discount="abc",
    )
    page.get_by_role("button", name="Fall anlegen").click()
    expect(page.get_by_text("Bitte korrigieren Sie die markierten Felder.")).to_have_attribute(
        "role", "alert"
    )

    def error_of(label: str) -> str:
        field = page.get_by_label(label, exact=True)
        described = field.get_attribute("aria-describedby")
        assert described, label
        alert = page.locator(f"#{described}")
        assert alert.get_attribute("role") == "alert"
        return alert.inner_text()

    assert (
        error_of("Geburtsdatum des Hundes") == "Bitte geben Sie das Datum im Format TT.MM.JJJJ ein."
    )
    assert error_of("Halter seit") == "Das Datum darf nicht in der Zukunft liegen."
    assert error_of("Transpondernummer") == "Die Transpondernummer muss aus 15 Ziffern bestehen."
    assert error_of("IBAN") == "Die IBAN ist ungültig."
    assert error_of("SEPA-Lastschriftmandat liegt vor").startswith("Für die SEPA-Lastschrift")
    assert error_of("Haftpflichtversicherung nachgewiesen") == (
        "Für Hunde der Rasse Rottweiler ist ein Nachweis der Haftpflichtversicherung erforderlich."
    )
    assert error_of("Ermäßigung (EUR)") == "Bitte geben Sie einen Betrag im Format 0,00 ein."
    # entered values are kept
    expect(page.get_by_label("Name des Hundes")).to_have_value("Bello")
    expect(page.get_by_label("Transpondernummer")).to_have_value("27609810654321")
    expect(page.get_by_label("Rasse")).to_have_value(
        page.get_by_role("option", name="Rottweiler").get_attribute("value") or "?"
    )
    expect(page.get_by_role("radio", name="SEPA-Lastschrift")).to_be_checked()
    # fix everything: a listed breed costs 600,00
    fill_case(
        page,
        page.get_by_label("Fremdreferenz").input_value(),
        breed="Rottweiler",
        insurance=True,
        discount="0,00",
    )
    page.get_by_role("button", name="Fall anlegen").click()
    expect(page.get_by_role("heading", name="Fall angelegt")).to_be_visible()
    assert page.get_by_label("Jahressteuer (EUR)").input_value() == "600,00"


def test_fremdreferenz_cannot_be_used_twice(page: Page, steuer: SteuerServer) -> None:
    ref = f"sub-{_uniq()}"
    login(page, steuer)
    new_taxpayer(page, f"Doppelt-{_uniq()}")
    form_url = page.get_by_role("link", name="Hundesteuerfall anlegen").get_attribute("href")
    page.goto(steuer.base_url + str(form_url))
    fill_case(page, ref)
    page.get_by_role("button", name="Fall anlegen").click()
    az = page.get_by_label("Aktenzeichen").input_value()
    page.goto(steuer.base_url + str(form_url))
    fill_case(page, ref, name="Zweitversuch")
    page.get_by_role("button", name="Fall anlegen").click()
    expect(
        page.get_by_text(f"Zu dieser Fremdreferenz existiert bereits der Fall {az}.")
    ).to_be_visible()
    assert [c["aktenzeichen"] for c in steuer.export()["cases"] if c["fremdreferenz"] == ref] == [
        az
    ]


def test_duplicate_taxpayer_modal(page: Page, steuer: SteuerServer) -> None:
    family = f"Zwilling-{_uniq()}"
    login(page, steuer)
    new_taxpayer(page, family)
    expect(page.get_by_role("heading", name="Steuerpflichtiger", exact=True)).to_be_visible()
    new_taxpayer(page, family)
    dialog = page.get_by_role("dialog", name="Hinweis")
    expect(dialog).to_contain_text("Steuerpflichtiger existiert bereits – trotzdem anlegen?")
    # the dialog overlays the form: the page's own button cannot be clicked
    dialog.get_by_role("button", name="Abbrechen").click()
    expect(dialog).to_have_count(0)
    assert sum(t["family_name"] == family for t in steuer.export()["taxpayers"]) == 1
    page.get_by_role("button", name="Speichern").click()
    page.get_by_role("dialog", name="Hinweis").get_by_role("button", name="Ja, anlegen").click()
    expect(page.get_by_role("heading", name="Steuerpflichtiger", exact=True)).to_be_visible()
    assert sum(t["family_name"] == family for t in steuer.export()["taxpayers"]) == 2


def test_session_expiry_redirects_and_post_not_carried_out(
    page: Page, make_steuer: MakeSteuer
) -> None:
    with make_steuer(session_lifetime_s=1800) as server:
        login(page, server)
        new_taxpayer(page, "Ablauf")
        page.get_by_role("link", name="Hundesteuerfall anlegen").click()
        fill_case(page, "sub-expiry")
        form_path = page.url.removeprefix(server.base_url)
        assert server.export()["sessions"]["current"] == 1
        server.set_faults(session_lifetime_s=0)  # the session is now past its lifetime
        page.get_by_role("button", name="Fall anlegen").click()
        expect(
            page.get_by_role("heading", name="Anmeldung – Fachverfahren Steuern")
        ).to_be_visible()
        expect(page.get_by_role("alert")).to_have_text(
            "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
        )
        assert "/login?next=" in page.url
        exported = server.export()
        assert exported["cases"] == []
        assert exported["sessions"]["current"] == 0
        # a GET lands on the login page too, and logging in leads back to where one was
        server.set_faults(session_lifetime_s=1800)
        page.goto(server.base_url + form_path)
        page.get_by_label("Benutzername").fill("bot1")
        page.get_by_label("Passwort").fill(server.accounts["bot1"])
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("heading", name="Hundesteuerfall anlegen")).to_be_visible()


def test_session_expires_by_time(page: Page, make_steuer: MakeSteuer) -> None:
    with make_steuer(session_lifetime_s=1) as server:
        login(page, server)
        page.wait_for_timeout(1100)
        page.get_by_role("link", name="Hundesteuerfälle").click()
        expect(page.get_by_role("alert")).to_have_text(
            "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
        )


def _ids(page: Page, labels: list[str]) -> dict[str, str]:
    return {lab: str(page.get_by_label(lab, exact=True).get_attribute("id")) for lab in labels}


def test_layouts_v1_v2_ids_differ_labels_same_tabs(page: Page, make_steuer: MakeSteuer) -> None:
    labels = ["Fremdreferenz", "Name des Hundes", "Rasse", "IBAN", "Kontoinhaber"]
    with make_steuer(layout="v1") as server:
        login(page, server)
        new_taxpayer(page, "Layout")
        page.get_by_role("link", name="Hundesteuerfall anlegen").click()
        v1_ids = _ids(page, labels)
        expect(page.get_by_role("tablist")).to_have_count(0)
        server.set_faults(layout="v2")
        page.reload()
        tabs = page.get_by_role("tablist")
        expect(tabs.get_by_role("tab")).to_have_text(["Hund", "Zahlung"])
        # the payment fields are on the hidden tab until it is clicked
        expect(page.get_by_label("IBAN")).to_be_hidden()
        page.get_by_role("tab", name="Zahlung").click()
        expect(page.get_by_label("IBAN")).to_be_visible()
        expect(page.get_by_label("Name des Hundes")).to_be_hidden()
        page.get_by_role("tab", name="Hund").click()
        v2_ids = _ids(page, labels)
        for lab in labels:
            assert v1_ids[lab] != v2_ids[lab]
            assert re.fullmatch(r"ctl00_\w+\d+", v2_ids[lab])
        # fill both tabs and submit
        page.get_by_label("Fremdreferenz").fill("sub-v2")
        page.get_by_label("Name des Hundes").fill("Rex")
        page.get_by_label("Rasse").select_option(label="Dackel")
        page.get_by_label("Geburtsdatum des Hundes").fill("01.02.2023")
        page.get_by_label("Transpondernummer").fill(_chip())
        page.get_by_label("Halter seit").fill("01.03.2023")
        page.get_by_role("tab", name="Zahlung").click()
        page.get_by_role("radio", name="Überweisung").check()
        page.get_by_label("Bemerkung").fill("Zweitwohnsitz 🐕 مرحبا")
        page.get_by_role("button", name="Fall anlegen").click()
        expect(page.get_by_role("heading", name="Fall angelegt")).to_be_visible()
        assert page.get_by_label("Jahressteuer (EUR)").input_value() == "120,00"
        (case,) = server.export()["cases"]
        assert case["breed_code"] == "DACK"
        assert case["payment"] == "ueberweisung"
        assert case["remark"] == "Zweitwohnsitz 🐕 مرحبا"


def test_random_notice_blocks_until_ok(page: Page, steuer_faults: SteuerServer) -> None:
    login(page, steuer_faults)
    steuer_faults.set_faults(modal_rate=1.0)
    page.get_by_role("link", name="Hundesteuerfälle").click()
    dialog = page.get_by_role("dialog", name="Hinweis")
    expect(dialog).to_be_visible()
    text = dialog.inner_text()
    assert "Wartungsarbeiten" in text or "Öffnungszeiten" in text or "Hebesätze" in text
    # the overlay intercepts clicks on the page below
    with pytest.raises(PlaywrightTimeoutError):
        page.get_by_role("button", name="Suchen").click(timeout=500)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Suchen").click(timeout=2000)
    expect(page.get_by_role("heading", name="Hundesteuerfälle")).to_be_visible()


def test_fault_pages(page: Page, steuer_faults: SteuerServer) -> None:
    steuer_faults.set_faults(error_rate=1.0)
    response = page.goto(steuer_faults.base_url + "/login")
    assert response is not None and response.status in (500, 503)
    assert page.title() in (
        "Fehler 503 – Dienst nicht verfügbar",
        "Fehler 500 – Interner Serverfehler",
    )
    steuer_faults.set_faults(error_rate=0.0, maintenance=True)
    response = page.goto(steuer_faults.base_url + "/login")
    assert response is not None and response.status == 503
    expect(page.get_by_role("heading", name="Fehler 503 – Wartungsarbeiten")).to_be_visible()
    steuer_faults.reset_faults()
    response = page.goto(steuer_faults.base_url + "/login")
    assert response is not None and response.status == 200


def test_script_in_name_is_text_and_unicode_round_trips(page: Page, steuer: SteuerServer) -> None:
    family = f"<script>alert(1)</script>{_uniq()}"
    given = "Zoë-Åsa ß שלום 😀"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, steuer)
    new_taxpayer(page, family, given=given)
    expect(page.get_by_role("heading", name="Steuerpflichtiger", exact=True)).to_be_visible()
    assert page.get_by_label("Name", exact=True).input_value() == f"{family}, {given}"
    page.get_by_role("link", name="Steuerpflichtige suchen").click()
    page.get_by_label("Nachname").fill(family)
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("table", name="Suchergebnis")).to_contain_text(family)
    assert dialogs == []
    (tp,) = [t for t in steuer.export()["taxpayers"] if t["family_name"] == family]
    assert tp["given_name"] == given
