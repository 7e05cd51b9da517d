"""Variant 1, the HTTP floor: the same registration as plain form posts with httpx.

What any UI automation pays on top of: the same requests the browser makes for the documents
(login with CSRF token, case search, taxpayer search, taxpayer form, case form, confirmation),
without rendering. Fields are found by their label's ``for`` in the served HTML, like the UI
variants, because the back office's control names are generated.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
from lxml import html

from bench._data import AKTENZEICHEN, Fields, fields_of
from connectors.records.hundesteuer import DogTaxApplication

__all__ = ["HttpFloor"]

CSRF_FIELD = "__RequestVerificationToken"


class _Form:
    """A served form: its action, hidden fields, and controls by label."""

    def __init__(self, doc: html.HtmlElement) -> None:
        self.doc = doc
        forms = [f for f in doc.forms if f.action != "/abmelden"]  # not the logout button
        self.action = forms[0].action if forms else ""
        self.data: dict[str, str] = {}
        token = doc.xpath(f"//input[@name='{CSRF_FIELD}']/@value")
        if token:
            self.data[CSRF_FIELD] = token[0]

    def control(self, label: str) -> html.HtmlElement:
        (target,) = self.doc.xpath("//label[normalize-space()=$t]/@for", t=label)
        (element,) = self.doc.xpath("//*[@id=$i]", i=target)
        return element

    def set(self, label: str, value: str) -> None:
        self.data[self.control(label).get("name")] = value

    def check(self, label: str) -> None:
        el = self.control(label)
        self.data[el.get("name")] = el.get("value") or "on"

    def select(self, label: str, text: str) -> None:
        el = self.control(label)
        (value,) = el.xpath("option[normalize-space()=$t]/@value", t=text)
        self.data[el.get("name")] = value

    def value(self, label: str) -> str:
        return str(self.control(label).get("value") or "").strip()


class HttpFloor:
    """Registers applications with httpx (one client, one login, like a script would)."""

    name = "http"

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.client: httpx.Client | None = None

    def _page(self, method: str, url: str, **kwargs: object) -> html.HtmlElement:
        assert self.client is not None
        resp = self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        resp.raise_for_status()
        return html.fromstring(resp.text)

    def start(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, follow_redirects=True, timeout=30)
        form = _Form(self._page("GET", "/login"))
        form.set("Benutzername", self.username)
        form.set("Passwort", self.password)
        doc = self._page("POST", form.action or "/login", data=form.data)
        assert doc.xpath("//h1[normalize-space()='Fachverfahren Steuern']"), "login failed"

    def register(self, app: DogTaxApplication) -> str:
        f = fields_of(app)
        cases = self._page("GET", f"/faelle?suchbegriff={quote(f.reference, safe='')}")
        if cases.xpath("//table//td[normalize-space()=$r]", r=f.reference):
            raise AssertionError("case exists already")
        search = _Form(self._page("GET", "/steuerpflichtige"))
        search.set("Nachname", f.family_name)
        search.set("Vorname", f.given_name)
        search.set("Geburtsdatum", f.birth_date)
        found = self._page("POST", search.action, data=search.data)
        if found.xpath("//table//td[normalize-space()=$n]", n=f"{f.family_name}, {f.given_name}"):
            raise AssertionError("taxpayer exists already")
        taxpayer = self._create_taxpayer(f)
        steuernummer = taxpayer.value("Steuernummer")
        (link,) = taxpayer.doc.xpath("//a[normalize-space()='Hundesteuerfall anlegen']/@href")
        case = _Form(self._page("GET", link))
        case.set("Fremdreferenz", f.reference)
        case.set("Name des Hundes", f.dog_name)
        case.select("Rasse", f.breed_name)
        case.set("Geburtsdatum des Hundes", f.dog_birth_date)
        case.set("Transpondernummer", f.chip)
        case.set("Halter seit", f.owned_since)
        case.check("SEPA-Lastschrift")
        case.check("SEPA-Lastschriftmandat liegt vor")
        case.set("Kontoinhaber", f.account_holder)
        case.set("IBAN", f.iban)
        case.set("Ermäßigung (EUR)", "0,00")
        case.set("Bemerkung", f.remark)
        done = _Form(self._page("POST", case.action, data=case.data))
        aktenzeichen = done.value("Aktenzeichen")
        assert steuernummer and AKTENZEICHEN.match(aktenzeichen), "no Aktenzeichen"
        assert done.value("Fremdreferenz") == f.reference
        return aktenzeichen

    def _create_taxpayer(self, f: Fields) -> _Form:
        form = _Form(self._page("GET", "/steuerpflichtige/neu"))
        form.set("Nachname", f.family_name)
        form.set("Vorname", f.given_name)
        form.set("Geburtsdatum", f.birth_date)
        form.set("Straße und Hausnummer", f.street)
        form.set("Postleitzahl", f.postal_code)
        form.set("Ort", f.city)
        form.set("E-Mail", f.email)
        return _Form(self._page("POST", form.action, data=form.data))

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
