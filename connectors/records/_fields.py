"""Building blocks every service record needs: the model base and checks of German fields.

A service's record (one module per service schema, e.g. `connectors.records.hundesteuer`)
composes these instead of writing its own: free text as a clerk would accept it, German
postcodes, e-mail addresses, IBANs (checksum and SEPA zone), dates checked against "today".

Each check raises `PydanticCustomError` whose type is our code (``iban-checksum`` …) and whose
message is German a citizen can read; `split_validation_error` passes both on unchanged. A check
says which kind it is: what a submission schema states (type, length, pattern, format) is
raised with ``schema=True`` and ends in reject-submission; a business rule (IBAN check digits,
SEPA zone, plausible dates …) is not, and ends in a rejection letter. Business rules are skipped
when the validation context says ``{"rules": False}`` (`checks_rules`): that is how the record of
a refused application is still built, to address the letter and file the application.

Names are kept exactly as entered (umlauts, ß, accents, right-to-left scripts, emoji) apart
from surrounding white space. Markup in a name is *not* an error here: it is text, and every
system that shows it must escape it.

Dates are checked against "today"; pass ``context={"today": date(...)}`` to `model_validate`
(or ``today=`` to `parse_record`) to pin it, e.g. in tests.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from schwifty import IBAN
from schwifty import exceptions as iban_errors

__all__ = [
    "EMAIL_MAX",
    "NAME_MAX",
    "CamelRecord",
    "check_email",
    "check_iban",
    "check_postal_code",
    "check_text",
    "checks_rules",
    "record_error",
    "today_of",
    "years_before",
]

NAME_MAX: Final = 100
EMAIL_MAX: Final = 254

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_POSTCODE = re.compile(r"^[0-9]{5}$")
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})


class CamelRecord(BaseModel):
    """Base of a record parsed from a portal's JSON: camelCase keys, frozen, extra keys ignored.

    Fields are named in snake_case in Python and read by their camelCase alias (or by name).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        str_strip_whitespace=False,
    )


def record_error(
    code: str, message: str, field: str | None = None, *, schema: bool = False
) -> PydanticCustomError:
    """A validation error with our `code` and a German `message`.

    Args:
        code: Our machine code, e.g. ``"iban-checksum"`` (the problem's code).
        message: German text the citizen reads.
        field: The data field (JSON path) to name instead of where the validator ran, e.g.
            ``"attachments"`` for a rule checked on the whole record.
        schema: True for what the submission schema itself states (type, length, pattern):
            a technical problem, sent back with reject-submission. False (the default) for a
            business rule: the application is accepted and refused by letter.
    """
    ctx: dict[str, Any] = {}
    if field:
        ctx["field"] = field
    if schema:
        ctx["schema"] = True
    return PydanticCustomError(code, message, ctx or None)


def checks_rules(info: ValidationInfo, *, whole_record: bool = False) -> bool:
    """Whether business rules apply in this validation (see the module docstring).

    False when the context says ``{"rules": False}``. A rule on the whole record (a model
    validator, which pydantic runs only once every field is valid) passes ``whole_record=True``
    and still applies when the context also says ``{"record_rules": True}``: that is how
    `parse_record` finds it next to broken field rules, so the citizen reads every reason in
    one letter.
    """
    ctx = info.context
    if not isinstance(ctx, dict) or ctx.get("rules") is not False:
        return True
    return whole_record and ctx.get("record_rules") is True


def today_of(info: ValidationInfo) -> date:
    """The day dates are checked against: ``context["today"]`` if given, else today."""
    ctx = info.context
    if isinstance(ctx, dict) and isinstance(ctx.get("today"), date):
        return ctx["today"]  # type: ignore[no-any-return]
    return date.today()


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def check_text(value: Any, *, max_len: int = NAME_MAX) -> str:
    """Strip and check a free-text field; kept otherwise unchanged."""
    if not isinstance(value, str):
        raise record_error("text-type", "Die Angabe muss ein Text sein.", schema=True)
    text: str = value.strip()
    if not text:
        raise record_error("text-empty", "Die Angabe fehlt.", schema=True)
    if len(text) > max_len:
        raise record_error(
            "text-too-long", f"Die Angabe ist zu lang (höchstens {max_len} Zeichen).", schema=True
        )
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in text):
        raise record_error(
            "text-control-character", "Die Angabe enthält unzulässige Steuerzeichen.", schema=True
        )
    return text


def check_postal_code(value: Any) -> str:
    """A German postcode: five digits, not starting with 00."""
    v = value.strip() if isinstance(value, str) else value
    if not isinstance(v, str) or not _POSTCODE.match(v) or v.startswith("00"):
        raise record_error(
            "postcode-invalid",
            "Die Postleitzahl ist ungültig (fünf Ziffern, z. B. 44623).",
            schema=True,
        )
    return v


def check_email(value: Any) -> str:
    """An e-mail address of plausible form (no deliverability check)."""
    v = value.strip() if isinstance(value, str) else value
    if not isinstance(v, str) or len(v) > EMAIL_MAX or not _EMAIL.match(v):
        raise record_error("email-invalid", "Die E-Mail-Adresse ist ungültig.", schema=True)
    return v


def check_iban(value: Any, *, rules: bool = True) -> str:
    """An IBAN with a valid checksum from a SEPA country, returned compact (no spaces).

    A missing IBAN is a schema problem; everything a bank would check (length per country,
    check digits, SEPA zone) is a business rule, skipped with ``rules=False`` (the IBAN is
    then returned compact and upper case as entered).
    """
    if not isinstance(value, str) or not value.strip():
        raise record_error("iban-missing", "Die IBAN fehlt.", schema=True)
    if not rules:
        return "".join(value.split()).upper()
    try:
        iban = IBAN(value)
    except iban_errors.InvalidChecksumDigits:
        raise record_error("iban-checksum", "Die IBAN ist ungültig (Prüfziffer falsch).") from None
    except iban_errors.InvalidLength:
        raise record_error("iban-length", "Die IBAN hat die falsche Länge.") from None
    except iban_errors.InvalidCountryCode:
        raise record_error("iban-country", "Die IBAN hat einen unbekannten Ländercode.") from None
    except iban_errors.SchwiftyException:
        raise record_error("iban-format", "Die IBAN ist ungültig.") from None
    if not iban.in_sepa_zone:
        raise record_error("iban-not-sepa", "Die IBAN gehört zu keinem Land des SEPA-Raums.")
    return str(iban.compact)
