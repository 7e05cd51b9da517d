"""The DogTaxApplication record: valid data kept exactly, each rule refused in plain German.

Two kinds of refusal: what the submission schema states (types, required fields, patterns) is a
technical `SubmissionInvalid` with FIT-Connect problems for reject-submission; a broken business
rule (IBAN check digits, ages, the breed list, the insurance certificate) is a `RulesBroken`
that still carries the record, for the rejection letter.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from amtsbote import BusinessRuleError
from connectors.records import PROBLEM_BASE, TITLES, RulesBroken, SubmissionInvalid
from connectors.records.hundesteuer import DogTaxApplication, parse_application

TODAY = date(2026, 11, 22)

VALID: dict[str, Any] = {
    "owner": {
        "givenName": "Jürgen",
        "familyName": "Weiß",
        "birthDate": "1980-04-01",
        "street": "Hauptstraße",
        "houseNumber": "12a",
        "postalCode": "44623",
        "city": "Musterstadt",
        "email": "j.weiss@example.org",
    },
    "dog": {
        "name": "Bello",
        "breed": "LABR",
        "birthDate": "2024-05-03",
        "chipNumber": "276098106543210",
        "ownedSince": "2026-10-01",
    },
    "sepaMandate": {"accountHolder": "Jürgen Weiß", "iban": "DE02120300000000202051"},
}


def data(**changes: Any) -> dict[str, Any]:
    """VALID with ``section__field=value`` changes (value None deletes the key)."""
    out = copy.deepcopy(VALID)
    for key, value in changes.items():
        section, fieldname = key.split("__")
        if value is None:
            del out[section][fieldname]
        else:
            out[section][fieldname] = value
    return out


def parse(d: dict[str, Any], **kw: Any) -> DogTaxApplication:
    return parse_application(d, reference="sub-1", case_id="case-1", today=TODAY, **kw)


def refused(d: dict[str, Any], **kw: Any) -> SubmissionInvalid:
    """A technical refusal: every problem of a documented FIT-Connect type."""
    with pytest.raises(SubmissionInvalid) as info:
        parse(d, **kw)
    for p in info.value.problems:
        assert p.type.removeprefix(PROBLEM_BASE) in TITLES
    return info.value


def broken(d: dict[str, Any], **kw: Any) -> RulesBroken:
    """A business refusal: never a `SubmissionInvalid`, and the record is there for the letter."""
    with pytest.raises(RulesBroken) as info:
        parse(d, **kw)
    exc = info.value
    assert not isinstance(exc, SubmissionInvalid)
    assert isinstance(exc.record, DogTaxApplication)
    assert exc.record.reference == "sub-1"
    return exc


def test_valid_application_parses_with_camel_case_aliases() -> None:
    app = parse(VALID)
    assert app.reference == "sub-1" and app.case_id == "case-1"
    assert app.owner.given_name == "Jürgen" and app.owner.family_name == "Weiß"
    assert app.owner.birth_date == date(1980, 4, 1)
    assert app.dog.chip_number == "276098106543210"
    assert app.dog.breed == "LABR" and app.dog.breed_name == "Labrador Retriever"
    assert app.dog.is_listed is False
    assert app.sepa_mandate.iban == "DE02120300000000202051"
    assert app.has_insurance_certificate is False


def test_record_can_be_built_by_field_names_too() -> None:
    app = DogTaxApplication.model_validate(
        {
            "reference": "r",
            "case_id": "c",
            "owner": VALID["owner"],
            "dog": VALID["dog"],
            "sepa_mandate": VALID["sepaMandate"],
        },
        context={"today": TODAY},
    )
    assert app.sepa_mandate.account_holder == "Jürgen Weiß"


@pytest.mark.parametrize(
    "name",
    [
        "Zoë-Ångström Müßig",
        "François Çağlar",
        "محمد عبد الله",  # Arabic, right to left
        "דוד כהן",  # Hebrew
        "Łukasz 🐶 Kowalski",
        "Anna\u200fMaria",  # right-to-left mark is a format character, not a control one
        "<script>alert(1)</script>",  # text at this layer; every system must escape it
    ],
)
def test_names_are_kept_unchanged(name: str) -> None:
    app = parse(data(owner__givenName=name, dog__name=name, sepaMandate__accountHolder=name))
    assert app.owner.given_name == name
    assert app.dog.name == name
    assert app.sepa_mandate.account_holder == name


def test_names_are_stripped() -> None:
    assert parse(data(owner__familyName="  Weiß \t")).owner.family_name == "Weiß"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Weiß\x00", "text-control-character"),
        ("We\niß", "text-control-character"),
        ("We\u2028iß", "text-control-character"),
        ("   ", "text-empty"),
        ("x" * 101, "text-too-long"),
    ],
)
def test_bad_names_are_refused(value: str, code: str) -> None:
    exc = refused(data(owner__familyName=value))
    assert exc.code == code
    assert exc.field == "owner.familyName"
    assert exc.message.startswith("Familienname: ")


def test_bad_iban_checksum_is_a_business_rule_with_clear_german_reason() -> None:
    exc = broken(data(sepaMandate__iban="de02 1203 0000 0000 2020 52"))
    assert isinstance(exc, BusinessRuleError)
    assert exc.code == "iban-checksum"
    assert exc.field == "sepaMandate.iban"
    assert exc.message == "IBAN: Die IBAN ist ungültig (Prüfziffer falsch)."
    assert exc.reasons() == [("IBAN", "Die IBAN ist ungültig (Prüfziffer falsch).")]
    # the record as entered (compact, upper case), to address the letter and file it
    assert exc.record.sepa_mandate.iban == "DE02120300000000202052"
    assert exc.record.owner.family_name == "Weiß"


def test_schema_problem_has_documented_shape() -> None:
    exc = refused(data(owner__postalCode="4462"))
    (p,) = exc.problems
    assert p.type == PROBLEM_BASE + "schema-violation"
    assert p.instance == "data"
    assert p.as_dict() == {
        "type": p.type,
        "title": "Angaben im Antrag fehlerhaft",
        "detail": exc.message,
        "instance": "data",
    }


def test_iban_with_spaces_is_normalised() -> None:
    app = parse(data(sepaMandate__iban="de02 1203 0000 0000 2020 51"))
    assert app.sepa_mandate.iban == "DE02120300000000202051"


@pytest.mark.parametrize(
    ("iban", "code"),
    [("DE0212030000000020205", "iban-length"), ("XX02120300000000202051", "iban-country")],
)
def test_other_iban_errors(iban: str, code: str) -> None:
    assert broken(data(sepaMandate__iban=iban)).code == code


def test_missing_iban_is_technical() -> None:
    assert refused(data(sepaMandate__iban="  ")).code == "iban-missing"


@pytest.mark.parametrize(
    ("chip", "code"),
    [
        ("27609810654321", "chip-format"),  # 14 digits
        ("2760981065432101", "chip-format"),  # 16 digits
        ("27609810654321X", "chip-format"),
        ("123098106543210", "chip-implausible"),  # neither a known country nor 900–999
    ],
)
def test_bad_chip_numbers(chip: str, code: str) -> None:
    with pytest.raises((SubmissionInvalid, RulesBroken)) as info:
        parse(data(dog__chipNumber=chip))
    exc = info.value
    # the pattern is the schema's; a plausible country or manufacturer code is a rule
    assert isinstance(exc, RulesBroken) == (code == "chip-implausible")
    assert exc.code == code and exc.field == "dog.chipNumber"
    assert "Chipnummer" in exc.message


@pytest.mark.parametrize("chip", ["276098106543210", "941000012345678", "040098106543210"])
def test_plausible_chip_numbers(chip: str) -> None:
    assert parse(data(dog__chipNumber=chip)).dog.chip_number == chip


@pytest.mark.parametrize("postcode", ["4462", "446233", "00123", "4462a", ""])
def test_bad_postcodes(postcode: str) -> None:
    exc = refused(data(owner__postalCode=postcode))
    assert exc.code == "postcode-invalid"
    assert exc.message == "Postleitzahl: Die Postleitzahl ist ungültig (fünf Ziffern, z. B. 44623)."


@pytest.mark.parametrize("email", ["no-at.example.org", "a@b", "a b@example.org", "a@@x.de"])
def test_bad_email(email: str) -> None:
    assert refused(data(owner__email=email)).code == "email-invalid"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"owner__birthDate": "2027-01-01"}, "date-in-future", "owner.birthDate"),
        ({"owner__birthDate": "2010-01-01"}, "owner-too-young", "owner.birthDate"),
        ({"owner__birthDate": "1900-01-01"}, "birth-date-implausible", "owner.birthDate"),
        ({"dog__birthDate": "2026-12-01"}, "date-in-future", "dog.birthDate"),
        ({"dog__birthDate": "1990-01-01"}, "birth-date-implausible", "dog.birthDate"),
        ({"dog__ownedSince": "2024-01-01"}, "owned-before-birth", "dog.ownedSince"),
        ({"dog__ownedSince": "2027-02-01"}, "date-in-future", "dog.ownedSince"),
        ({"dog__birthDate": "03.05.2024"}, "date-invalid", "dog.birthDate"),
    ],
)
def test_implausible_dates(changes: dict[str, str], code: str, field: str) -> None:
    # a date that is no date breaks the schema; an implausible one is a business rule
    exc = refused(data(**changes)) if code == "date-invalid" else broken(data(**changes))
    assert (exc.code, exc.field) == (code, field)


def test_owner_exactly_eighteen_today_is_fine() -> None:
    assert parse(data(owner__birthDate="2008-11-22")).owner.birth_date == date(2008, 11, 22)


def test_owned_since_within_a_month_ahead_is_fine() -> None:
    assert parse(data(dog__ownedSince="2026-12-15")).dog.owned_since == date(2026, 12, 15)


def test_unknown_breed() -> None:
    exc = broken(data(dog__breed="WOLF"))
    assert exc.record.dog.breed_name == "WOLF"
    assert exc.code == "breed-unknown"
    assert exc.message == "Rasse: Die Rasse ist nicht in der Rassenliste enthalten."


def test_listed_breed_needs_insurance_certificate() -> None:
    exc = broken(data(dog__breed="ROTT"))
    assert exc.code == "insurance-missing"
    assert exc.findings[0].field == "attachments"
    assert exc.record.dog.is_listed and not exc.record.has_insurance_certificate
    assert "Rottweiler" in exc.message and "Haftpflichtversicherung" in exc.message
    app = parse(data(dog__breed="ROTT"), has_insurance_certificate=True)
    assert app.dog.is_listed and app.dog.breed_name == "Rottweiler"


def test_all_business_rules_are_listed_at_once() -> None:
    exc = broken(
        data(
            owner__birthDate="2015-01-01",
            sepaMandate__iban="DE02120300000000202052",
            dog__breed="ROTT",
        )
    )
    assert sorted(exc.codes) == ["iban-checksum", "insurance-missing", "owner-too-young"]
    assert exc.message.startswith("Der Antrag enthält mehrere Fehler:")
    assert [label for label, _ in exc.reasons()] == [
        "Geburtsdatum der Halterin/des Halters",
        "IBAN",
        None,
    ]


def test_schema_problems_win_over_business_rules() -> None:
    """A submission that breaks the schema is rejected technically; its business findings
    are not sent (the sender must fix the data first)."""
    exc = refused(
        data(
            owner__postalCode="00123",
            owner__city=None,
            sepaMandate__iban="DE02120300000000202052",
            dog__chipNumber="1",
        )
    )
    assert sorted(exc.codes) == ["chip-format", "field-missing", "postcode-invalid"]
    assert {p.field for p in exc.problems} == {
        "owner.postalCode",
        "owner.city",
        "dog.chipNumber",
    }
    assert exc.message.startswith("Der Antrag enthält mehrere Fehler:")
    assert "Ort: Die Angabe fehlt." in exc.message
    assert all(p.instance == "data" for p in exc.problems)


def test_data_that_is_not_an_object() -> None:
    exc = refused(["not", "an", "object"])  # type: ignore[arg-type]
    assert exc.problems[0].type == PROBLEM_BASE + "schema-violation"


def test_record_is_immutable() -> None:
    app = parse(VALID)
    with pytest.raises(ValueError):
        app.owner.city = "Anderswo"  # type: ignore[misc]
