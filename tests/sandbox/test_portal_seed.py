"""Seeding: realistic applications, bad ones exactly as labelled, deterministic per seed."""

from __future__ import annotations

import io
import json
import random
import re
from collections import Counter
from datetime import date

import pypdf
import pytest
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from sandbox.portal import LISTED_BREEDS, decrypt_part, sha512_hex
from sandbox.seed import (
    BAD_KINDS,
    GeneratedApplication,
    generate_applications,
    german_iban,
    insurance_pdf,
    seed_portal,
)
from tests.fixtures.portal import PortalHandle

TODAY = date(2026, 11, 22)


def _iban_ok(value: str) -> bool:
    try:
        IBAN(value)
    except SchwiftyException:
        return False
    return True


@pytest.fixture(scope="module")
def apps() -> list[GeneratedApplication]:
    return generate_applications(200, 0.25, random.Random(7), today=TODAY)


def test_deterministic_for_a_seed() -> None:
    first = generate_applications(30, 0.2, random.Random(42), today=TODAY)
    again = generate_applications(30, 0.2, random.Random(42), today=TODAY)
    other = generate_applications(30, 0.2, random.Random(43), today=TODAY)
    assert [(a.data, a.label, a.attachments) for a in first] == [
        (a.data, a.label, a.attachments) for a in again
    ]
    assert [a.data for a in first] != [a.data for a in other]


def test_share_and_every_bad_kind(apps: list[GeneratedApplication]) -> None:
    counts = Counter(a.label for a in apps)
    assert sum(n for label, n in counts.items() if label != "valid") == 50
    assert set(counts) == {"valid", *BAD_KINDS}
    assert generate_applications(10, 0.0, random.Random(1), today=TODAY)[0].label == "valid"
    with pytest.raises(ValueError):
        generate_applications(3, 1.5, random.Random(1))


def test_valid_applications_are_plausible(apps: list[GeneratedApplication]) -> None:
    valid = [a for a in apps if a.is_valid]
    names = " ".join(a.data["owner"]["givenName"] + a.data["owner"]["familyName"] for a in valid)
    assert re.search("[äöü]", names) and "ß" in names
    for a in valid:
        owner, dog, sepa = a.data["owner"], a.data["dog"], a.data["sepaMandate"]
        assert re.fullmatch(r"\d{5}", owner["postalCode"])
        assert owner["email"].rsplit("@", 1)[1] in ("example.org", "example.net", "example.com")
        assert _iban_ok(sepa["iban"]) and sepa["iban"].startswith("DE")
        assert re.fullmatch(r"276\d{12}", dog["chipNumber"])
        born, owned = date.fromisoformat(dog["birthDate"]), date.fromisoformat(dog["ownedSince"])
        assert born <= owned <= TODAY
        assert (TODAY - date.fromisoformat(owner["birthDate"])).days >= 18 * 365
        assert "<" not in json.dumps(a.data)
        if dog["breed"] in LISTED_BREEDS:
            ((filename, mime, pdf),) = a.attachments
            assert (filename, mime) == ("versicherungsnachweis.pdf", "application/pdf")
            text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
            assert "Versicherungsnachweis" in text and sepa["accountHolder"] in text
        else:
            assert a.attachments == []


def test_bad_applications_are_bad_as_labelled(apps: list[GeneratedApplication]) -> None:
    for i, a in enumerate(apps):
        dog = a.data["dog"]
        if a.label == "invalid-iban":
            assert not _iban_ok(a.data["sepaMandate"]["iban"])
        elif a.label == "listed-breed-without-insurance":
            assert dog["breed"] in LISTED_BREEDS and a.attachments == []
        elif a.label == "future-birth-date":
            assert date.fromisoformat(dog["birthDate"]) > TODAY
        elif a.label == "duplicate":
            assert a.duplicate_of is not None and a.duplicate_of < i
            assert apps[a.duplicate_of].is_valid and apps[a.duplicate_of].data == a.data
        elif a.label == "script-in-name":
            names = a.data["owner"]["givenName"] + a.data["owner"]["familyName"]
            assert "<" in names and ">" in names
        if a.label != "invalid-iban":
            assert _iban_ok(a.data["sepaMandate"]["iban"])


def test_iban_and_pdf_helpers() -> None:
    rng = random.Random(5)
    assert all(_iban_ok(german_iban(rng)) for _ in range(100))
    assert german_iban(random.Random(0), "12030000")[4:12] == "12030000"
    pdf = insurance_pdf("Käthe Groß", "Bello (Rüde)", "HV-1")
    assert "Käthe Groß" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_seed_portal_files_labelled_applications(portal: PortalHandle) -> None:
    seeded = seed_portal(
        portal.base_url,
        8,
        bad_share=0.5,
        seed=3,
        client_id=portal.sender.client_id,
        client_secret=portal.sender.client_secret,
        today=TODAY,
    )
    assert len(seeded) == 8 and Counter(s.label != "valid" for s in seeded)[True] == 4
    key = portal.receiver_keys["encryption"]
    with portal.receiver_api() as receiver:
        listed = set(receiver.listed_ids())
        for item in seeded:
            sid = item.ref["submissionId"]
            assert sid in listed
            sub = receiver.submission(sid)
            data = decrypt_part(sub["encryptedData"], key)
            assert json.loads(data) == item.application.data
            meta = json.loads(decrypt_part(sub["encryptedMetadata"], key))
            assert meta["contentStructure"]["data"]["hash"]["content"] == sha512_hex(data)
            assert len(sub["attachments"]) == len(item.application.attachments)
