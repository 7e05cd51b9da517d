"""The typed record of a dog-tax application (Hundesteuer-Anmeldung) and its validators.

Parse at the edge, trust inside: the portal's JSON (camelCase keys) becomes a
`DogTaxApplication` here, and every later layer (bot, documents, archive) trusts its fields.
Validators check what a clerk would check first: IBAN checksum, microchip number, postcode,
plausible dates, breed from the code list, e-mail form, names without control characters.

Validation failures carry our code as the pydantic error type and a German message a citizen
can read (`PydanticCustomError`); `parse_application` turns them into one `SubmissionInvalid`
listing every problem, ready for the portal's reject event.

Names are kept exactly as entered (umlauts, ß, accents, right-to-left scripts, emoji) apart from
surrounding white space. Markup in a name is *not* an error here: it is text, and every system
that shows it must escape it.

Dates are checked against "today"; pass ``context={"today": date(...)}`` to `model_validate`
(or ``today=`` to `parse_application`) to pin it, e.g. in tests.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from schwifty import IBAN
from schwifty import exceptions as iban_errors

from connectors.portal._codes import BREEDS
from connectors.portal._problems import from_validation_error

__all__ = ["Dog", "DogTaxApplication", "Owner", "SepaMandate", "parse_application"]

NAME_MAX: Final = 100
HOUSE_NUMBER_MAX: Final = 12
EMAIL_MAX: Final = 254
OWNER_MIN_AGE: Final = 18
OWNER_MAX_AGE: Final = 120
DOG_MAX_AGE: Final = 30
OWNED_SINCE_AHEAD: Final = timedelta(days=31)

#: First three digits of a plausible ISO 11784 chip number besides the manufacturer codes
#: 900–999: Germany (276) and its neighbours, where many dogs come from.
CHIP_COUNTRIES: Final = frozenset(
    {"276", "040", "056", "203", "208", "250", "442", "528", "616", "756"}
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_POSTCODE = re.compile(r"^[0-9]{5}$")
_CHIP = re.compile(r"^[0-9]{15}$")
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _err(code: str, message: str, field: str | None = None) -> PydanticCustomError:
    return PydanticCustomError(code, message, {"field": field} if field else None)


def _today(info: ValidationInfo) -> date:
    ctx = info.context
    if isinstance(ctx, dict) and isinstance(ctx.get("today"), date):
        return ctx["today"]  # type: ignore[no-any-return]
    return date.today()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _text(value: Any, *, max_len: int = NAME_MAX) -> str:
    """Strip and check a free-text field; kept otherwise unchanged."""
    if not isinstance(value, str):
        raise _err("text-type", "Die Angabe muss ein Text sein.")
    text: str = value.strip()
    if not text:
        raise _err("text-empty", "Die Angabe fehlt.")
    if len(text) > max_len:
        raise _err("text-too-long", f"Die Angabe ist zu lang (höchstens {max_len} Zeichen).")
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in text):
        raise _err("text-control-character", "Die Angabe enthält unzulässige Steuerzeichen.")
    return text


class _Record(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        str_strip_whitespace=False,
    )


class Owner(_Record):
    """The dog's owner (Halter/in), who files and pays."""

    given_name: str
    family_name: str
    birth_date: date
    street: str
    house_number: str
    postal_code: str
    city: str
    email: str

    @field_validator("given_name", "family_name", "street", "city", mode="before")
    @classmethod
    def _names(cls, v: Any) -> str:
        return _text(v)

    @field_validator("house_number", mode="before")
    @classmethod
    def _house_number(cls, v: Any) -> str:
        text = _text(v, max_len=HOUSE_NUMBER_MAX)
        if not text[0].isdigit():
            raise _err("house-number-invalid", "Die Hausnummer muss mit einer Ziffer beginnen.")
        return text

    @field_validator("postal_code", mode="before")
    @classmethod
    def _postal_code(cls, v: Any) -> str:
        v = v.strip() if isinstance(v, str) else v
        if not isinstance(v, str) or not _POSTCODE.match(v) or v.startswith("00"):
            raise _err(
                "postcode-invalid",
                "Die Postleitzahl ist ungültig (fünf Ziffern, z. B. 44623).",
            )
        return v

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v: Any) -> str:
        v = v.strip() if isinstance(v, str) else v
        if not isinstance(v, str) or len(v) > EMAIL_MAX or not _EMAIL.match(v):
            raise _err("email-invalid", "Die E-Mail-Adresse ist ungültig.")
        return v

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, v: date, info: ValidationInfo) -> date:
        today = _today(info)
        if v > today:
            raise _err("date-in-future", "Das Geburtsdatum liegt in der Zukunft.")
        if v > _years_before(today, OWNER_MIN_AGE):
            raise _err(
                "owner-too-young",
                f"Hunde anmelden können nur volljährige Personen (ab {OWNER_MIN_AGE} Jahren).",
            )
        if v < _years_before(today, OWNER_MAX_AGE):
            raise _err("birth-date-implausible", "Das Geburtsdatum ist nicht plausibel.")
        return v


class Dog(_Record):
    """The dog to be registered for tax."""

    name: str
    breed: str
    birth_date: date
    chip_number: str
    owned_since: date

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        return _text(v)

    @field_validator("breed", mode="before")
    @classmethod
    def _breed(cls, v: Any) -> str:
        v = v.strip().upper() if isinstance(v, str) else v
        if not isinstance(v, str) or v not in BREEDS:
            raise _err("breed-unknown", "Die Rasse ist nicht in der Rassenliste enthalten.")
        return v

    @field_validator("chip_number", mode="before")
    @classmethod
    def _chip(cls, v: Any) -> str:
        v = v.replace(" ", "").strip() if isinstance(v, str) else v
        if not isinstance(v, str) or not _CHIP.match(v):
            raise _err("chip-format", "Die Chipnummer muss aus genau 15 Ziffern bestehen.")
        prefix = v[:3]
        if prefix not in CHIP_COUNTRIES and not 900 <= int(prefix) <= 999:
            raise _err(
                "chip-implausible",
                "Die Chipnummer ist nicht plausibel (Länder- oder Herstellerkennung unbekannt).",
            )
        return v

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, v: date, info: ValidationInfo) -> date:
        today = _today(info)
        if v > today:
            raise _err("date-in-future", "Das Geburtsdatum des Hundes liegt in der Zukunft.")
        if v < _years_before(today, DOG_MAX_AGE):
            raise _err("birth-date-implausible", "Das Geburtsdatum des Hundes ist nicht plausibel.")
        return v

    @field_validator("owned_since")
    @classmethod
    def _owned_since(cls, v: date, info: ValidationInfo) -> date:
        born = info.data.get("birth_date")
        if isinstance(born, date) and v < born:
            raise _err(
                "owned-before-birth",
                "Das Datum „Halter/in seit“ liegt vor dem Geburtsdatum des Hundes.",
            )
        if v > _today(info) + OWNED_SINCE_AHEAD:
            raise _err(
                "date-in-future",
                "Das Datum „Halter/in seit“ liegt mehr als einen Monat in der Zukunft.",
            )
        return v

    @property
    def breed_name(self) -> str:
        """The German name of the breed (from the code list)."""
        return BREEDS[self.breed].name

    @property
    def is_listed(self) -> bool:
        """True for a listed (dangerous) breed: higher tax, insurance certificate required."""
        return BREEDS[self.breed].listed


class SepaMandate(_Record):
    """The direct-debit mandate for the tax."""

    account_holder: str
    iban: str

    @field_validator("account_holder", mode="before")
    @classmethod
    def _holder(cls, v: Any) -> str:
        return _text(v)

    @field_validator("iban", mode="before")
    @classmethod
    def _iban(cls, v: Any) -> str:
        if not isinstance(v, str) or not v.strip():
            raise _err("iban-missing", "Die IBAN fehlt.")
        try:
            iban = IBAN(v)
        except iban_errors.InvalidChecksumDigits:
            raise _err("iban-checksum", "Die IBAN ist ungültig (Prüfziffer falsch).") from None
        except iban_errors.InvalidLength:
            raise _err("iban-length", "Die IBAN hat die falsche Länge.") from None
        except iban_errors.InvalidCountryCode:
            raise _err("iban-country", "Die IBAN hat einen unbekannten Ländercode.") from None
        except iban_errors.SchwiftyException:
            raise _err("iban-format", "Die IBAN ist ungültig.") from None
        if not iban.in_sepa_zone:
            raise _err("iban-not-sepa", "Die IBAN gehört zu keinem Land des SEPA-Raums.")
        return str(iban.compact)


class DogTaxApplication(_Record):
    """A citizen's application to register a dog for dog tax (Hundesteuer-Anmeldung).

    Attributes:
        reference: The portal's submission id — the business key of every later step.
        case_id: The portal's case id (events and replies go there).
        owner: The owner.
        dog: The dog.
        sepa_mandate: The direct-debit mandate.
        has_insurance_certificate: Whether a liability-insurance certificate (PDF) is attached;
            required for listed breeds.
    """

    reference: str
    case_id: str
    owner: Owner
    dog: Dog
    sepa_mandate: SepaMandate
    has_insurance_certificate: bool = False

    @field_validator("reference", "case_id", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> str:
        if not isinstance(v, str) or not v.strip():
            raise _err("id-missing", "Die Vorgangskennung fehlt.")
        return v.strip()

    @model_validator(mode="after")
    def _insurance(self) -> DogTaxApplication:
        if self.dog.is_listed and not self.has_insurance_certificate:
            raise _err(
                "insurance-missing",
                f"Für die Rasse {self.dog.breed_name} ist ein Nachweis der "
                "Haftpflichtversicherung als PDF-Anlage erforderlich.",
                field="attachments",
            )
        return self


def parse_application(
    data: Any,
    *,
    reference: str,
    case_id: str,
    has_insurance_certificate: bool = False,
    today: date | None = None,
) -> DogTaxApplication:
    """Validate the portal's Hundesteuer JSON into a `DogTaxApplication`.

    Args:
        data: The decrypted data part (a dict with ``owner``, ``dog``, ``sepaMandate``).
        reference: The submission id.
        case_id: The case id.
        has_insurance_certificate: Whether a usable PDF attachment came with it.
        today: The day to check dates against (default: today).

    Returns:
        The validated record.

    Raises:
        SubmissionInvalid: With one problem per error found (German texts).
    """
    if not isinstance(data, dict):
        raise from_validation_error(
            ValidationError.from_exception_data(
                "DogTaxApplication",
                [{"type": "dict_type", "loc": (), "input": None}],
            )
        )
    payload = {
        **data,
        "reference": reference,
        "caseId": case_id,
        "hasInsuranceCertificate": has_insurance_certificate,
    }
    context = {"today": today} if today else None
    try:
        return DogTaxApplication.model_validate(payload, context=context)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
