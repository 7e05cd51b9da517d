"""Fachverfahren Steuern: Musterstadt's legacy tax back office (server-rendered HTML only).

Bots drive it through the browser; there is no JSON API for them. Start it with
``create_app(SteuerConfig(data_dir=...))``. Runtime knobs (``PUT /admin/faults``, admin token):
the common ones of ``sandbox._common.Faults`` plus ``session_lifetime_s``, ``layout`` ("v1" /
"v2"), ``modal_rate`` and ``lockout_after`` (N failed logins in a row lock the account until
``POST /admin/accounts/{username}/unlock``; ``GET /admin/accounts`` shows the counters).
``GET /admin/export`` and ``POST /admin/reset`` are for tests.

Screen contract details beyond the brief (bots may rely on these):

- "Abmelden" is a *button* (a small POST form in the navigation), not a link.
- Names are shown as "Nachname, Vorname" (search result column "Name", taxpayer field "Name",
  case list column "Steuerpflichtiger"); addresses as "Straße Nr, PLZ Ort"; dates TT.MM.JJJJ.
- Taxpayer search is a POST form; names match exactly but case-insensitively, the birth date
  exactly. All fields empty lists every taxpayer (first 100).
- The case form also shows a read-only field "Steuerpflichtiger" ("Nachname, Vorname
  (Steuernummer)"). "Transpondernummer" is required. The v2 tab "Hund" holds Name des Hundes,
  Rasse, Transpondernummer, Geburtsdatum des Hundes, Halter seit, Haftpflichtversicherung
  nachgewiesen, Fremdreferenz; tab "Zahlung" holds Ermäßigung (EUR), Zahlungsweise, IBAN,
  Kontoinhaber, SEPA-Lastschriftmandat liegt vor, Bemerkung. After a failed submit in v2 the
  tab with the first error is active. Note that "SEPA-Lastschrift" (radio) is a substring of
  "SEPA-Lastschriftmandat liegt vor" (checkbox): use ``exact=True`` or the role.
- Further validation messages: required "Bitte füllen Sie dieses Feld aus.", future date
  "Das Datum darf nicht in der Zukunft liegen.", missing mandate "Für die SEPA-Lastschrift
  muss ein SEPA-Lastschriftmandat vorliegen.", discount above the tax "Die Ermäßigung darf die
  Jahressteuer nicht übersteigen.", amount "Bitte geben Sie einen Betrag im Format 0,00 ein.".
- After "Fall anlegen" the browser is redirected (303) to ``/faelle/bestaetigung/<Aktenzeichen>``.
- The case list without a Suchbegriff lists all cases, oldest first; "Status" is "angelegt".
- The random notice can appear on any page, the login page included. It is never shown
  together with the duplicate-taxpayer dialog (both are dialogs named "Hinweis"; the notice
  has the button "OK").
- A locked account gets the login page again with the alert "Konto gesperrt: zu viele
  fehlgeschlagene Anmeldungen. Bitte wenden Sie sich an die Systemverwaltung." (also with the
  right password); a wrong password "Benutzername oder Passwort falsch.".
- An expired session is redirected (303) to ``/login?next=<original path>``; the login page
  shows the expiry alert while the browser still holds the expired session cookie.
"""

from __future__ import annotations

from sandbox.steuer._app import NOTICES, create_app
from sandbox.steuer._config import (
    BREEDS,
    DEFAULT_ACCOUNTS,
    LISTED_BREEDS,
    SteuerConfig,
    SteuerFaults,
)

__all__ = [
    "BREEDS",
    "DEFAULT_ACCOUNTS",
    "LISTED_BREEDS",
    "NOTICES",
    "SteuerConfig",
    "SteuerFaults",
    "create_app",
]
