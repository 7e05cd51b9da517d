"""Server-side checks of the back-office forms, with the exact German messages of the screens.

Pure functions: they take the decoded form (field key -> raw text) and return the parsed values
and a dict field key -> message. The messages are part of the screen contract bots rely on.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sandbox.steuer._config import BREEDS, LISTED_BREEDS

__all__ = [
    "MSG",
    "format_cents",
    "format_date",
    "iban_ok",
    "parse_amount",
    "parse_date",
    "validate_case",
    "validate_taxpayer",
]

MSG = {
    "required": "Bitte füllen Sie dieses Feld aus.",
    "date_format": "Bitte geben Sie das Datum im Format TT.MM.JJJJ ein.",
    "date_future": "Das Datum darf nicht in der Zukunft liegen.",
    "chip": "Die Transpondernummer muss aus 15 Ziffern bestehen.",
    "iban": "Die IBAN ist ungültig.",
    "breed": "Bitte wählen Sie eine Rasse aus.",
    "payment": "Bitte wählen Sie eine Zahlungsweise aus.",
    "mandate": "Für die SEPA-Lastschrift muss ein SEPA-Lastschriftmandat vorliegen.",
    "insurance": "Für Hunde der Rasse {breed} ist ein Nachweis der Haftpflichtversicherung "
    "erforderlich.",
    "amount": "Bitte geben Sie einen Betrag im Format 0,00 ein.",
    "discount_too_high": "Die Ermäßigung darf die Jahressteuer nicht übersteigen.",
    "duplicate_ref": "Zu dieser Fremdreferenz existiert bereits der Fall {az}.",
    "duplicate_chip": "Der Hund mit dieser Transpondernummer ist bereits angemeldet (Fall {az}).",
    "postcode": "Die Postleitzahl muss aus 5 Ziffern bestehen.",
    "email": "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    "too_long": "Der Text ist zu lang (höchstens {n} Zeichen).",
    "summary": "Bitte korrigieren Sie die markierten Felder.",
}

_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
_AMOUNT = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_date(text: str) -> date | None:
    """Parse ``TT.MM.JJJJ``; None if the format or the date is wrong."""
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def format_date(iso: str) -> str:
    """``2024-05-03`` -> ``03.05.2024``."""
    d = date.fromisoformat(iso)
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


def parse_amount(text: str) -> int | None:
    """Parse a German amount (``1.234,5`` / ``0,00`` / ``12``) into cents; None if malformed."""
    m = _AMOUNT.match(text.strip())
    if not m:
        return None
    euros = int(m.group(1).replace(".", ""))
    cents = int((m.group(2) or "0").ljust(2, "0"))
    return euros * 100 + cents


def format_cents(cents: int) -> str:
    """``12000`` -> ``120,00``; ``120000`` -> ``1.200,00``."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d}"


def iban_ok(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", s):
        return False
    if s.startswith("DE") and len(s) != 22:
        return False
    digits = "".join(str(int(ch, 36)) for ch in s[4:] + s[:4])
    return int(digits) % 97 == 1


def _date_field(
    form: dict[str, str], key: str, errors: dict[str, str], today: date, required: bool = True
) -> date | None:
    raw = form.get(key, "").strip()
    if not raw:
        if required:
            errors[key] = MSG["required"]
        return None
    d = parse_date(raw)
    if d is None:
        errors[key] = MSG["date_format"]
    elif d > today:
        errors[key] = MSG["date_future"]
        return None
    return d


def validate_taxpayer(form: dict[str, str], today: date) -> tuple[dict[str, str], dict[str, str]]:
    """Check the new-taxpayer form. Returns (data for the database, errors)."""
    errors: dict[str, str] = {}
    for key in ("tp_nachname", "tp_vorname", "tp_strasse", "tp_plz", "tp_ort"):
        if not form.get(key, "").strip():
            errors[key] = MSG["required"]
    born = _date_field(form, "tp_geburtsdatum", errors, today)
    plz = form.get("tp_plz", "").strip()
    if plz and not re.fullmatch(r"\d{5}", plz):
        errors["tp_plz"] = MSG["postcode"]
    email = form.get("tp_email", "").strip()
    if email and not _EMAIL.match(email):
        errors["tp_email"] = MSG["email"]
    for key in ("tp_nachname", "tp_vorname", "tp_strasse", "tp_ort", "tp_email"):
        if len(form.get(key, "")) > 200:
            errors[key] = MSG["too_long"].format(n=200)
    data = {
        "family_name": form.get("tp_nachname", "").strip(),
        "given_name": form.get("tp_vorname", "").strip(),
        "birth_date": born.isoformat() if born else "",
        "street": form.get("tp_strasse", "").strip(),
        "postal_code": plz,
        "city": form.get("tp_ort", "").strip(),
        "email": email,
    }
    return data, errors


def validate_case(form: dict[str, str], today: date) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the case form (all rules that need no database). Returns (data, errors)."""
    errors: dict[str, str] = {}
    ref = form.get("fremdreferenz", "").strip()
    if len(ref) > 100:
        errors["fremdreferenz"] = MSG["too_long"].format(n=100)
    name = form.get("hund_name", "").strip()
    if not name:
        errors["hund_name"] = MSG["required"]
    elif len(name) > 100:
        errors["hund_name"] = MSG["too_long"].format(n=100)
    breed = form.get("rasse", "")
    if breed not in BREEDS:
        errors["rasse"] = MSG["breed"]
    born = _date_field(form, "hund_geburtsdatum", errors, today)
    owned = _date_field(form, "halter_seit", errors, today)
    chip = form.get("transponder", "").replace(" ", "")
    if not chip:
        errors["transponder"] = MSG["required"]
    elif not re.fullmatch(r"\d{15}", chip):
        errors["transponder"] = MSG["chip"]
    payment = form.get("zahlungsweise", "")
    if payment not in ("sepa", "ueberweisung"):
        errors["zahlungsweise"] = MSG["payment"]
    mandate = "sepa_mandat" in form
    holder = form.get("kontoinhaber", "").strip()
    iban = form.get("iban", "").replace(" ", "").upper()
    if payment == "sepa":
        if not mandate:
            errors["sepa_mandat"] = MSG["mandate"]
        if not holder:
            errors["kontoinhaber"] = MSG["required"]
        if not iban:
            errors["iban"] = MSG["required"]
    if iban and not iban_ok(iban):
        errors["iban"] = MSG["iban"]
    insurance = "versicherung" in form
    if breed in LISTED_BREEDS and not insurance:
        errors["versicherung"] = MSG["insurance"].format(breed=BREEDS[breed][0])
    discount = parse_amount(form.get("ermaessigung", "").strip() or "0")
    if discount is None:
        errors["ermaessigung"] = MSG["amount"]
    remark = form.get("bemerkung", "")
    if len(remark) > 2000:
        errors["bemerkung"] = MSG["too_long"].format(n=2000)
    data: dict[str, Any] = {
        "fremdreferenz": ref,
        "dog_name": name,
        "breed_code": breed,
        "dog_birth_date": born.isoformat() if born else "",
        "chip": chip,
        "owned_since": owned.isoformat() if owned else "",
        "payment": payment,
        "sepa_mandate": mandate,
        "holder": holder,
        "iban": iban,
        "insurance": insurance,
        "discount_cents": discount or 0,
        "remark": remark,
    }
    return data, errors
