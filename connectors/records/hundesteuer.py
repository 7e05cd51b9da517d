"""Hundesteuer (dog tax): the typed record of a dog registration, its rules and code list.

Parse at the edge, trust inside: the portal's JSON (camelCase keys) of the schema
`HUNDESTEUER_SCHEMA_URI` becomes a `DogTaxApplication` here, and every later layer (bot,
documents, archive) trusts its fields. Validators check what a clerk would check first: IBAN
checksum, microchip number, postcode, plausible dates, breed from the code list, e-mail form,
names without control characters.

The record is registered on import (`connectors.records` imports this module), so
``parse_record(HUNDESTEUER_SCHEMA_URI, data, envelope=...)`` and a portal submission's
``record()`` both end here; `parse_application` is the same with the envelope's facts given
one by one. What the schema states (types, required fields, lengths, the patterns of postcode,
house number and chip number, e-mail form) is technical: a `SubmissionInvalid`, sent back with
reject-submission. The rules a clerk applies (IBAN check digits and SEPA zone, ages and
plausible dates, a chip number's country, the breed list, the insurance certificate for a
listed breed) are business rules: a `RulesBroken` that carries the record as it came in, so the
application is accepted and refused by letter. Every text is German and names the field by its
label in `FIELD_LABELS`.

The breed code list and the chip-number countries are in `connectors.records._breeds`
(re-exported here).

Dates are checked against "today"; pass ``context={"today": date(...)}`` to `model_validate`
(or ``today=`` to `parse_application`) to pin it, e.g. in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final, cast

from pydantic import ValidationInfo, field_validator, model_validator

from connectors.records._breeds import BREEDS, CHIP_COUNTRIES, CHIP_PATTERN, Breed, breed_by_code
from connectors.records._fields import (
    CamelRecord,
    check_email,
    check_iban,
    check_postal_code,
    check_text,
    checks_rules,
    record_error,
    today_of,
    years_before,
)
from connectors.records._registry import Envelope, parse_record, register_record

__all__ = [
    "BREEDS",
    "FIELD_LABELS",
    "HUNDESTEUER_SCHEMA_URI",
    "Breed",
    "Dog",
    "DogTaxApplication",
    "Owner",
    "SepaMandate",
    "breed_by_code",
    "parse_application",
]

HUNDESTEUER_SCHEMA_URI: Final = (
    "https://schema.musterstadt.example/hundesteuer-anmeldung/1.0.0.json"
)

HOUSE_NUMBER_MAX: Final = 12
OWNER_MIN_AGE: Final = 18
OWNER_MAX_AGE: Final = 120
DOG_MAX_AGE: Final = 30
OWNED_SINCE_AHEAD: Final = timedelta(days=31)
PDF: Final = "application/pdf"


#: German labels of the data fields (JSON paths of the Hundesteuer schema).
FIELD_LABELS: Final[Mapping[str, str]] = {
    "owner": "Halter/in",
    "owner.givenName": "Vorname",
    "owner.familyName": "Familienname",
    "owner.birthDate": "Geburtsdatum der Halterin/des Halters",
    "owner.street": "Straße",
    "owner.houseNumber": "Hausnummer",
    "owner.postalCode": "Postleitzahl",
    "owner.city": "Ort",
    "owner.email": "E-Mail-Adresse",
    "dog": "Hund",
    "dog.name": "Name des Hundes",
    "dog.breed": "Rasse",
    "dog.birthDate": "Geburtsdatum des Hundes",
    "dog.chipNumber": "Chipnummer",
    "dog.ownedSince": "Halter/in seit",
    "sepaMandate": "SEPA-Lastschriftmandat",
    "sepaMandate.accountHolder": "Kontoinhaber/in",
    "sepaMandate.iban": "IBAN",
}


class Owner(CamelRecord):
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
        return check_text(v)

    @field_validator("house_number", mode="before")
    @classmethod
    def _house_number(cls, v: Any) -> str:
        text = check_text(v, max_len=HOUSE_NUMBER_MAX)
        if not text[0].isdigit():
            raise record_error(
                "house-number-invalid",
                "Die Hausnummer muss mit einer Ziffer beginnen.",
                schema=True,
            )
        return text

    @field_validator("postal_code", mode="before")
    @classmethod
    def _postal_code(cls, v: Any) -> str:
        return check_postal_code(v)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v: Any) -> str:
        return check_email(v)

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, v: date, info: ValidationInfo) -> date:
        if not checks_rules(info):
            return v
        today = today_of(info)
        if v > today:
            raise record_error("date-in-future", "Das Geburtsdatum liegt in der Zukunft.")
        if v > years_before(today, OWNER_MIN_AGE):
            raise record_error(
                "owner-too-young",
                f"Hunde anmelden können nur volljährige Personen (ab {OWNER_MIN_AGE} Jahren).",
            )
        if v < years_before(today, OWNER_MAX_AGE):
            raise record_error("birth-date-implausible", "Das Geburtsdatum ist nicht plausibel.")
        return v


class Dog(CamelRecord):
    """The dog to be registered for tax."""

    name: str
    breed: str
    birth_date: date
    chip_number: str
    owned_since: date

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        return check_text(v)

    @field_validator("breed", mode="before")
    @classmethod
    def _breed(cls, v: Any, info: ValidationInfo) -> str:
        if not isinstance(v, str) or not v.strip():
            raise record_error("breed-missing", "Die Rasse fehlt.", schema=True)
        code = v.strip().upper()
        if code not in BREEDS and checks_rules(info):
            raise record_error("breed-unknown", "Die Rasse ist nicht in der Rassenliste enthalten.")
        return code

    @field_validator("chip_number", mode="before")
    @classmethod
    def _chip(cls, v: Any, info: ValidationInfo) -> str:
        v = v.replace(" ", "").strip() if isinstance(v, str) else v
        if not isinstance(v, str) or not CHIP_PATTERN.match(v):
            raise record_error(
                "chip-format", "Die Chipnummer muss aus genau 15 Ziffern bestehen.", schema=True
            )
        prefix = v[:3]
        plausible = prefix in CHIP_COUNTRIES or 900 <= int(prefix) <= 999
        if not plausible and checks_rules(info):
            raise record_error(
                "chip-implausible",
                "Die Chipnummer ist nicht plausibel (Länder- oder Herstellerkennung unbekannt).",
            )
        return v

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, v: date, info: ValidationInfo) -> date:
        if not checks_rules(info):
            return v
        today = today_of(info)
        if v > today:
            raise record_error(
                "date-in-future", "Das Geburtsdatum des Hundes liegt in der Zukunft."
            )
        if v < years_before(today, DOG_MAX_AGE):
            raise record_error(
                "birth-date-implausible", "Das Geburtsdatum des Hundes ist nicht plausibel."
            )
        return v

    @field_validator("owned_since")
    @classmethod
    def _owned_since(cls, v: date, info: ValidationInfo) -> date:
        if not checks_rules(info):
            return v
        born = info.data.get("birth_date")
        if isinstance(born, date) and v < born:
            raise record_error(
                "owned-before-birth",
                "Das Datum „Halter/in seit“ liegt vor dem Geburtsdatum des Hundes.",
            )
        if v > today_of(info) + OWNED_SINCE_AHEAD:
            raise record_error(
                "date-in-future",
                "Das Datum „Halter/in seit“ liegt mehr als einen Monat in der Zukunft.",
            )
        return v

    @property
    def breed_name(self) -> str:
        """The German name of the breed (from the code list; the code if it is not listed)."""
        known = BREEDS.get(self.breed)
        return known.name if known else self.breed

    @property
    def is_listed(self) -> bool:
        """True for a listed (dangerous) breed: higher tax, insurance certificate required."""
        known = BREEDS.get(self.breed)
        return known.listed if known else False


class SepaMandate(CamelRecord):
    """The direct-debit mandate for the tax."""

    account_holder: str
    iban: str

    @field_validator("account_holder", mode="before")
    @classmethod
    def _holder(cls, v: Any) -> str:
        return check_text(v)

    @field_validator("iban", mode="before")
    @classmethod
    def _iban(cls, v: Any, info: ValidationInfo) -> str:
        return check_iban(v, rules=checks_rules(info))


class DogTaxApplication(CamelRecord):
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
            raise record_error("id-missing", "Die Vorgangskennung fehlt.", schema=True)
        return v.strip()

    @model_validator(mode="after")
    def _insurance(self, info: ValidationInfo) -> DogTaxApplication:
        # A business rule, not a technical one: the submission is complete as the sender
        # announced it; what is missing is a proof the office asks for.
        if (
            self.dog.is_listed
            and not self.has_insurance_certificate
            and checks_rules(info, whole_record=True)
        ):
            raise record_error(
                "insurance-missing",
                f"Für die Rasse {self.dog.breed_name} ist ein Nachweis der "
                "Haftpflichtversicherung als PDF-Anlage erforderlich.",
                field="attachments",
            )
        return self


def _from_envelope(envelope: Envelope) -> dict[str, Any]:
    """The record's fields that come from the submission, not from its data."""
    return {
        "reference": envelope.item_key,
        "caseId": envelope.case_id,
        "hasInsuranceCertificate": PDF in envelope.attachment_types,
    }


register_record(
    HUNDESTEUER_SCHEMA_URI,
    DogTaxApplication,
    field_labels=FIELD_LABELS,
    from_envelope=_from_envelope,
)


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
        SubmissionInvalid: The data breaks the schema (one problem per error, German texts).
        RulesBroken: The data is sound but breaks business rules (one finding per rule; the
            record as it came in is its `record`).
    """
    envelope = Envelope(
        item_key=reference,
        case_id=case_id,
        attachment_types=(PDF,) if has_insurance_certificate else (),
    )
    # the registry refuses any other model for this schema, so the cast holds
    return cast(
        DogTaxApplication,
        parse_record(HUNDESTEUER_SCHEMA_URI, data, envelope=envelope, today=today),
    )
