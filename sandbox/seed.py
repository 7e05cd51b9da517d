"""Realistic Hundesteuer applications for the portal, with a labelled share of bad ones.

Seeding, the demo, tests and benchmarks need many applications that look like what citizens
file — German names with umlauts and ß, 5-digit postcodes, valid IBANs, 15-digit chip numbers —
plus deliberately bad ones the authority must catch. Each generated item carries a label saying
which badness it has, so a test can check that exactly those were rejected. Everything is
deterministic for a given seed and reference date.

Labels: ``valid``, ``invalid-iban``, ``listed-breed-without-insurance``, ``future-birth-date``
(the dog's), ``duplicate`` (same data as an earlier application), ``script-in-name``.
"""

from __future__ import annotations

import copy
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from faker import Faker

from sandbox.portal import BREEDS, LISTED_BREEDS, SenderClient, SubmissionRef
from sandbox.portal._codes import DEFAULT_DESTINATION_ID
from sandbox.portal._config import PortalConfig

__all__ = [
    "BAD_KINDS",
    "GeneratedApplication",
    "SeededApplication",
    "generate_applications",
    "german_iban",
    "insurance_pdf",
    "seed_portal",
]

VALID = "valid"
BAD_KINDS: tuple[str, ...] = (
    "invalid-iban",
    "listed-breed-without-insurance",
    "future-birth-date",
    "duplicate",
    "script-in-name",
)

# Real-looking German bank codes (BLZ) of large institutions.
_BANK_CODES = (
    "10010010",
    "12030000",
    "20041155",
    "37040044",
    "44050199",
    "50010517",
    "60050101",
    "70150000",
    "76050101",
    "43060967",
)
_POSTCODES = ("44623", "44625", "44627", "44628", "44629")
_GIVEN_UMLAUT = ("Jürgen", "Björn", "Sören", "Jörg", "Günther", "Käthe", "Lütfiye", "Bärbel")
_FAMILY_UMLAUT = ("Weiß", "Müller", "Schröder", "Groß", "Krüger", "Strauß", "Jäger", "Böhm")
_DOG_NAMES = (
    "Bello",
    "Luna",
    "Balu",
    "Emma",
    "Rocky",
    "Frieda",
    "Paul",
    "Lotte",
    "Maja",
    "Oskar",
    "Sammy",
    "Kira",
    "Bruno",
    "Nala",
    "Wölfchen",
)
_SCRIPT_NAMES = (
    '<script>alert("x")</script>',
    "Müller<img src=x onerror=alert(1)>",
    '"><svg onload=alert(document.cookie)>',
)


@dataclass
class GeneratedApplication:
    """One application as a citizen would file it, with its badness label."""

    data: dict[str, Any]
    attachments: list[tuple[str, str, bytes]]
    label: str
    duplicate_of: int | None = None

    @property
    def is_valid(self) -> bool:
        """True for the applications meant to pass the authority's checks."""
        return self.label == VALID


@dataclass
class SeededApplication:
    """A generated application and the ids the portal gave it."""

    application: GeneratedApplication
    ref: SubmissionRef
    label: str = field(init=False)

    def __post_init__(self) -> None:
        self.label = self.application.label


def german_iban(rng: random.Random, bank_code: str | None = None) -> str:
    """A German IBAN with correct mod-97 check digits (bank code from a real-looking list)."""
    blz = bank_code or rng.choice(_BANK_CODES)
    account = "".join(rng.choice(string.digits) for _ in range(10))
    bban = blz + account
    check = 98 - int(bban + "131400") % 97  # "DE" -> 13 14, then "00"
    return f"DE{check:02d}{bban}"


def _break_iban(iban: str) -> str:
    check = int(iban[2:4])
    wrong = (check + 1) % 97 + 2 if check != 97 else 2
    if wrong == check:
        wrong = 3 if check != 3 else 4
    return f"{iban[:2]}{wrong:02d}{iban[4:]}"


def _pdf_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def insurance_pdf(holder: str, dog_name: str, policy_number: str) -> bytes:
    """A small, valid one-page PDF: a liability insurance certificate for a dog.

    Built by hand (no PDF library needed), with a correct cross-reference table so pypdf and
    viewers open it without repair.
    """
    lines = [
        "Versicherungsnachweis Hundehalter-Haftpflicht",
        f"Versicherungsnehmer: {holder}",
        f"Hund: {dog_name}",
        f"Versicherungsschein-Nr.: {policy_number}",
        "Deckungssumme: 5.000.000 EUR pauschal",
    ]
    ops = ["BT", "/F1 12 Tf", "72 760 Td", "16 TL"]
    for line in lines:
        ops.append(f"({_pdf_text(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _email(given: str, family: str, rng: random.Random) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "", "-": ""})
    local = f"{given.lower().translate(table)}.{family.lower().translate(table)}"
    local = "".join(c for c in local if c in string.ascii_lowercase + string.digits + ".")
    return f"{local}@{rng.choice(('example.org', 'example.net', 'example.com'))}"


def _valid_application(fake: Faker, rng: random.Random, today: date, listed: bool) -> Any:
    given = rng.choice(_GIVEN_UMLAUT) if rng.random() < 0.3 else fake.first_name()
    family = rng.choice(_FAMILY_UMLAUT) if rng.random() < 0.3 else fake.last_name()
    owner_birth = today - timedelta(days=rng.randint(18 * 365 + 5, 85 * 365))
    dog_birth = today - timedelta(days=rng.randint(90, 14 * 365))
    owned_since = dog_birth + timedelta(days=rng.randint(56, max(57, (today - dog_birth).days)))
    owned_since = min(owned_since, today)
    common = [c for c in BREEDS if c not in LISTED_BREEDS]
    breed = rng.choice(sorted(LISTED_BREEDS)) if listed else rng.choice(common)
    dog_name = rng.choice(_DOG_NAMES)
    holder = f"{given} {family}"
    data = {
        "owner": {
            "givenName": given,
            "familyName": family,
            "birthDate": owner_birth.isoformat(),
            "street": fake.street_name(),
            "houseNumber": str(rng.randint(1, 180))
            + (rng.choice("abc") if rng.random() < 0.15 else ""),
            "postalCode": rng.choice(_POSTCODES),
            "city": "Musterstadt",
            "email": _email(given, family, rng),
        },
        "dog": {
            "name": dog_name,
            "breed": breed,
            "birthDate": dog_birth.isoformat(),
            "chipNumber": "276" + "".join(rng.choice(string.digits) for _ in range(12)),
            "ownedSince": owned_since.isoformat(),
        },
        "sepaMandate": {"accountHolder": holder, "iban": german_iban(rng)},
    }
    attachments: list[tuple[str, str, bytes]] = []
    if listed:
        policy = f"HV-{rng.randint(10**7, 10**8 - 1)}"
        pdf = insurance_pdf(holder, dog_name, policy)
        attachments.append(("versicherungsnachweis.pdf", "application/pdf", pdf))
    return data, attachments


def generate_applications(
    n: int,
    bad_share: float = 0.2,
    rng: random.Random | None = None,
    *,
    today: date | None = None,
    listed_share: float = 0.12,
) -> list[GeneratedApplication]:
    """Generate `n` applications, ``round(n * bad_share)`` of them deliberately bad.

    Bad kinds are spread evenly (round robin from a random start), so every kind shows up once
    there are at least five bad ones. A ``duplicate`` repeats an earlier valid application.

    Args:
        n: How many applications.
        bad_share: Share of bad applications (0..1).
        rng: Random source; ``random.Random(42)`` if omitted.
        today: Reference date for ages and "future" dates (default: today).
        listed_share: Share of valid applications with a listed breed (with insurance PDF).

    Returns:
        The applications in filing order, each labelled.
    """
    if not 0.0 <= bad_share <= 1.0:
        raise ValueError("bad_share must be between 0 and 1")
    rng = rng or random.Random(42)
    today = today or date.today()
    fake = Faker("de_DE")
    fake.seed_instance(rng.getrandbits(32))
    bad_positions = set(rng.sample(range(n), round(n * bad_share))) if n else set()
    kinds = list(BAD_KINDS)
    start = rng.randrange(len(kinds))
    out: list[GeneratedApplication] = []
    bad_index = 0
    for i in range(n):
        if i not in bad_positions:
            data, atts = _valid_application(fake, rng, today, rng.random() < listed_share)
            out.append(GeneratedApplication(data, atts, VALID))
            continue
        kind = kinds[(start + bad_index) % len(kinds)]
        bad_index += 1
        earlier = [j for j, a in enumerate(out) if a.is_valid]
        if kind == "duplicate" and not earlier:
            kind = "invalid-iban"
        if kind == "duplicate":
            j = rng.choice(earlier)
            original = out[j]
            out.append(
                GeneratedApplication(
                    copy.deepcopy(original.data), list(original.attachments), kind, duplicate_of=j
                )
            )
            continue
        data, atts = _valid_application(fake, rng, today, kind == "listed-breed-without-insurance")
        if kind == "invalid-iban":
            data["sepaMandate"]["iban"] = _break_iban(data["sepaMandate"]["iban"])
        elif kind == "listed-breed-without-insurance":
            atts = []
        elif kind == "future-birth-date":
            future = today + timedelta(days=rng.randint(10, 400))
            data["dog"]["birthDate"] = future.isoformat()
            data["dog"]["ownedSince"] = future.isoformat()
        elif kind == "script-in-name":
            field_name = rng.choice(("givenName", "familyName"))
            data["owner"][field_name] = rng.choice(_SCRIPT_NAMES)
        out.append(GeneratedApplication(data, atts, kind))
    return out


def seed_portal(
    portal_url: str,
    count: int,
    *,
    bad_share: float = 0.2,
    seed: int = 42,
    client_id: str | None = None,
    client_secret: str | None = None,
    destination_id: str = DEFAULT_DESTINATION_ID,
    today: date | None = None,
    applications: Sequence[GeneratedApplication] | None = None,
) -> list[SeededApplication]:
    """File `count` generated applications to a running portal via the sender API.

    Args:
        portal_url: The portal's base URL.
        count: How many applications to file.
        bad_share: Share of deliberately bad ones.
        seed: Seed of the generator (same seed, same date → same applications).
        client_id: Sender client id (demo default if omitted).
        client_secret: Sender client secret (demo default if omitted).
        destination_id: The destination to file to.
        today: Reference date for the generator.
        applications: File these instead of generating (count is then ignored).

    Returns:
        Each application with its submission and case id.
    """
    defaults = PortalConfig()
    apps = (
        list(applications)
        if applications is not None
        else generate_applications(count, bad_share, random.Random(seed), today=today)
    )
    out: list[SeededApplication] = []
    with SenderClient(
        portal_url,
        client_id or defaults.sender_client_id,
        client_secret or defaults.sender_client_secret,
        destination_id=destination_id,
    ) as client:
        for app in apps:
            ref = client.submit_application(app.data, app.attachments)
            out.append(SeededApplication(app, ref))
    return out
