"""The Fachverfahren Steuern over plain HTTP: CSRF, sessions and their counter, admin endpoints.

These checks need no browser: a small form reader maps visible labels to the generated field
names, exactly as a browser user would see them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
import lxml.html
import pytest

from sandbox.steuer import SteuerConfig, SteuerFaults
from tests.fixtures.steuer import SteuerServer

MakeSteuer = Callable[..., AbstractContextManager[SteuerServer]]
TOKEN = "__RequestVerificationToken"


def fields(html: str) -> tuple[str, dict[str, str]]:
    """The CSRF token and label text -> generated field name of the page's forms."""
    doc = lxml.html.fromstring(html)
    token = doc.xpath(f"//input[@name='{TOKEN}']/@value")[0]
    by_label = {}
    for label in doc.xpath("//label[@for]"):
        (control,) = doc.xpath(f"//*[@id='{label.get('for')}']")
        if control.get("name"):
            by_label[label.text_content().strip()] = control.get("name")
    return token, by_label


def login(client: httpx.Client, server: SteuerServer, user: str) -> httpx.Response:
    token, names = fields(client.get("/login").text)
    return client.post(
        "/login",
        data={TOKEN: token, names["Benutzername"]: user, names["Passwort"]: server.accounts[user]},
    )


def new_taxpayer(client: httpx.Client, family: str) -> int:
    token, names = fields(client.get("/steuerpflichtige/neu").text)
    data = {
        TOKEN: token,
        names["Nachname"]: family,
        names["Vorname"]: "Erika",
        names["Geburtsdatum"]: "12.08.1964",
        names["Straße und Hausnummer"]: "Am Markt 1",
        names["Postleitzahl"]: "44623",
        names["Ort"]: "Musterstadt",
    }
    r = client.post("/steuerpflichtige/neu", data=data)
    assert r.status_code == 303
    return int(r.headers["location"].rsplit("/", 1)[1])


def case_data(html: str, ref: str, dog: str = "Bello") -> dict[str, str]:
    token, names = fields(html)
    doc = lxml.html.fromstring(html)
    breed = doc.xpath("//option[text()='Mischling']/@value")[0]
    transfer = doc.xpath("//input[@id=//label[text()='Überweisung']/@for]/@value")[0]
    radio_name = doc.xpath("//input[@id=//label[text()='Überweisung']/@for]/@name")[0]
    return {
        TOKEN: token,
        names["Fremdreferenz"]: ref,
        names["Name des Hundes"]: dog,
        names["Rasse"]: breed,
        names["Geburtsdatum des Hundes"]: "01.01.2020",
        names["Transpondernummer"]: "276" + f"{uuid.uuid4().int % 10**12:012d}",
        names["Halter seit"]: "01.02.2020",
        radio_name: transfer,
        names["Ermäßigung (EUR)"]: "0,00",
    }


def test_csrf_missing_or_wrong_token_is_403(steuer: SteuerServer) -> None:
    with httpx.Client(base_url=steuer.base_url) as c:
        # login form without a token
        _, names = fields(c.get("/login").text)
        r = c.post("/login", data={names["Benutzername"]: "bot2", names["Passwort"]: "x"})
        assert r.status_code == 403
        assert "Ungültiges Formular-Token" in r.text
        assert login(c, steuer, "bot2").status_code == 303
        tid = new_taxpayer(c, f"Csrf-{uuid.uuid4().hex[:6]}")
        ref = f"csrf-{uuid.uuid4().hex[:6]}"
        data = case_data(c.get(f"/faelle/neu?stpfl={tid}").text, ref)
        for token in (None, "falsch"):
            bad = {k: v for k, v in data.items() if k != TOKEN}
            if token:
                bad[TOKEN] = token
            r = c.post(f"/faelle/neu?stpfl={tid}", data=bad)
            assert r.status_code == 403
            assert "<h1>Fehler 403 – Ungültiges Formular-Token</h1>" in r.text
        assert all(case["fremdreferenz"] != ref for case in steuer.export()["cases"])
        # a token of another session is also wrong
        with httpx.Client(base_url=steuer.base_url) as other:
            login(other, steuer, "bot3")
            foreign, _ = fields(other.get("/faelle").text)
        r = c.post(f"/faelle/neu?stpfl={tid}", data={**data, TOKEN: foreign})
        assert r.status_code == 403
        r = c.post(f"/faelle/neu?stpfl={tid}", data=data)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/faelle/bestaetigung/HSt-")


def test_unauthenticated_requests_redirect_to_login(steuer: SteuerServer) -> None:
    with httpx.Client(base_url=steuer.base_url) as c:
        r = c.get("/faelle/neu?stpfl=1")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=/faelle/neu%3Fstpfl%3D1"
        r = c.post("/faelle/neu?stpfl=1", data={"a": "b"})
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
        page = c.get("/login?next=/faelle").text
        assert "Sitzung ist abgelaufen" not in page


def test_expired_post_not_carried_out(make_steuer: MakeSteuer) -> None:
    with make_steuer() as server, httpx.Client(base_url=server.base_url) as c:
        login(c, server, "bot1")
        tid = new_taxpayer(c, "Abgelaufen")
        data = case_data(c.get(f"/faelle/neu?stpfl={tid}").text, "ref-expired")
        server.set_faults(session_lifetime_s=0)
        r = c.post(f"/faelle/neu?stpfl={tid}", data=data)
        assert r.status_code == 303
        assert r.headers["location"] == f"/login?next=/faelle/neu%3Fstpfl%3D{tid}"
        page = c.get(r.headers["location"]).text
        assert 'role="alert"' in page
        assert "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an." in page
        assert server.export()["cases"] == []


def test_session_counter_and_logout(make_steuer: MakeSteuer) -> None:
    with make_steuer() as server:
        clients = [httpx.Client(base_url=server.base_url) for _ in range(3)]
        try:
            for c, user in zip(clients, ("bot1", "bot2", "bot3"), strict=True):
                assert login(c, server, user).status_code == 303
            assert server.export()["sessions"] == {"current": 3, "max_seen": 3}
            token, _ = fields(clients[0].get("/start").text)
            r = clients[0].post("/abmelden", data={TOKEN: token})
            assert (r.status_code, r.headers["location"]) == (303, "/login")
            assert clients[0].get("/start").status_code == 303
            assert server.export()["sessions"] == {"current": 2, "max_seen": 3}
            # a logged-in client asking for the login page is sent on, no second session
            assert clients[1].get("/login").headers["location"] == "/start"
            login(clients[0], server, "bot1")
            assert server.export()["sessions"] == {"current": 3, "max_seen": 3}
            server.set_faults(session_lifetime_s=0)
            assert server.export()["sessions"]["current"] == 0
        finally:
            for c in clients:
                c.close()


def test_wrong_password_does_not_log_in(steuer: SteuerServer) -> None:
    with httpx.Client(base_url=steuer.base_url) as c:
        token, names = fields(c.get("/login").text)
        r = c.post(
            "/login", data={TOKEN: token, names["Benutzername"]: "bot1", names["Passwort"]: "x"}
        )
        assert r.status_code == 200
        assert re.search(r'role="alert"[^>]*>Benutzername oder Passwort falsch\.<', r.text)
        assert c.get("/start").status_code == 303


def test_case_list_pages_of_20(make_steuer: MakeSteuer) -> None:
    with make_steuer(year=2031) as server, httpx.Client(base_url=server.base_url) as c:
        login(c, server, "bot4")
        tid = new_taxpayer(c, "Viele")
        for i in range(23):
            data = case_data(c.get(f"/faelle/neu?stpfl={tid}").text, f"p-{i}", dog=f"Hund {i}")
            assert c.post(f"/faelle/neu?stpfl={tid}", data=data).status_code == 303
        page1 = lxml.html.fromstring(c.get("/faelle").text)
        rows = page1.xpath("//table[@aria-label='Fälle']/tbody/tr")
        assert len(rows) == 20
        assert rows[0].xpath("td")[0].text == "HSt-2031-000001"
        assert rows[1].xpath("td")[4].text == "180,00"  # the second dog
        assert page1.xpath("//a[text()='Zurück']") == []
        (weiter,) = page1.xpath("//a[text()='Weiter']/@href")
        page2 = lxml.html.fromstring(c.get(weiter).text)
        assert [r.xpath("td")[0].text for r in page2.xpath("//tbody/tr")] == [
            "HSt-2031-000021",
            "HSt-2031-000022",
            "HSt-2031-000023",
        ]
        assert page2.xpath("//a[text()='Weiter']") == []
        assert page2.xpath("//a[text()='Zurück']/@href") == ["/faelle?suchbegriff=&seite=1"]
        exported = server.export()
        assert len(exported["cases"]) == 23
        assert {c["created_by"] for c in exported["cases"]} == {"bot4"}
        assert [c["tax"] for c in exported["cases"][:2]] == ["120.00", "180.00"]
        # wiping the data (test isolation)
        with server._admin() as admin:
            admin.post("/admin/reset").raise_for_status()
        assert server.export()["cases"] == []


def test_admin_endpoints_need_the_admin_token(steuer: SteuerServer) -> None:
    with httpx.Client(base_url=steuer.base_url) as c:
        assert c.get("/admin/export").status_code == 401
        r = c.get("/admin/export", headers={"Authorization": "Bearer falsch"})
        assert r.status_code == 401
        assert c.put("/admin/faults", json={"layout": "v2"}).status_code == 401
        assert c.post("/admin/reset").status_code == 401
    export = steuer.export()
    assert set(export) == {"cases", "taxpayers", "sessions"}


def test_config_values_start_the_runtime_knobs() -> None:
    cfg = SteuerConfig(layout="v2", session_lifetime_s=5, faults=SteuerFaults(modal_rate=0.5))
    knobs = cfg.initial_faults()
    assert (knobs.layout, knobs.session_lifetime_s, knobs.modal_rate) == ("v2", 5, 0.5)
    assert SteuerConfig().initial_faults().session_lifetime_s == 1800
    with pytest.raises(ValueError):
        SteuerConfig(layout="v3")  # type: ignore[arg-type]


def test_taxpayer_form_validation(steuer: SteuerServer) -> None:
    with httpx.Client(base_url=steuer.base_url) as c:
        login(c, steuer, "bot2")
        token, names = fields(c.get("/steuerpflichtige/neu").text)
        r = c.post(
            "/steuerpflichtige/neu",
            data={
                TOKEN: token,
                names["Nachname"]: "Öztürk",
                names["Geburtsdatum"]: "31.02.1990",
                names["Postleitzahl"]: "4462",
                names["E-Mail"]: "kein-at-zeichen",
            },
        )
        assert r.status_code == 200
        doc = lxml.html.fromstring(r.text)

        def message(label: str) -> str:
            (field,) = doc.xpath(f"//*[@name='{names[label]}']")
            (alert,) = doc.xpath(f"//*[@id='{field.get('aria-describedby')}']")
            assert alert.get("role") == "alert"
            return str(alert.text_content())

        assert message("Vorname") == "Bitte füllen Sie dieses Feld aus."
        assert message("Geburtsdatum") == "Bitte geben Sie das Datum im Format TT.MM.JJJJ ein."
        assert message("Postleitzahl") == "Die Postleitzahl muss aus 5 Ziffern bestehen."
        assert message("E-Mail") == "Bitte geben Sie eine gültige E-Mail-Adresse ein."
        assert doc.xpath(f"//*[@name='{names['Nachname']}']/@value") == ["Öztürk"]
        assert "Bitte korrigieren Sie die markierten Felder." in r.text
    assert all(t["family_name"] != "Öztürk" for t in steuer.export()["taxpayers"])
