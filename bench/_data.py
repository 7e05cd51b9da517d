"""The applications every variant registers: one generator, so all do the same kind of work.

Every application is valid, has a new owner (each registration creates a taxpayer and a case:
the longest path through the back office) and no attachment (the back office only records that
insurance exists, so the baselines could not carry one either).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from typing import Protocol

from connectors.records.hundesteuer import DogTaxApplication, parse_application
from sandbox.seed import GeneratedApplication, generate_applications

__all__ = ["AKTENZEICHEN", "Applications", "Fields", "ItemVariant", "fields_of"]

AKTENZEICHEN = re.compile(r"^HSt-\d{4}-\d{6}$")


class ItemVariant(Protocol):
    """A variant that registers one application at a time in a long-lived session."""

    name: str

    def start(self) -> None: ...
    def register(self, app: DogTaxApplication) -> str: ...
    def close(self) -> None: ...


class Applications:
    """Endless fresh, valid applications (one random stream for all variants)."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)

    def generated(self, n: int) -> list[GeneratedApplication]:
        """`n` applications as a citizen files them (for seeding the portal)."""
        return generate_applications(n, bad_share=0.0, rng=self.rng, listed_share=0.0)

    def records(self, n: int, variant: str) -> list[DogTaxApplication]:
        """`n` typed records with a unique reference each (for the back-office-only variants)."""
        return [
            parse_application(
                g.data, reference=f"bench-{variant}-{uuid.uuid4()}", case_id=str(uuid.uuid4())
            )
            for g in self.generated(n)
        ]


@dataclass(frozen=True)
class Fields:
    """The strings a clerk types, as the back office wants them (TT.MM.JJJJ dates)."""

    reference: str
    family_name: str
    given_name: str
    birth_date: str
    street: str
    postal_code: str
    city: str
    email: str
    dog_name: str
    breed_name: str
    dog_birth_date: str
    chip: str
    owned_since: str
    account_holder: str
    iban: str
    remark: str


def fields_of(app: DogTaxApplication) -> Fields:
    """The form values of `app` (the same mapping as `bots.steuer.SteuerBot`)."""
    o, d, s = app.owner, app.dog, app.sepa_mandate
    return Fields(
        reference=app.reference,
        family_name=o.family_name,
        given_name=o.given_name,
        birth_date=f"{o.birth_date:%d.%m.%Y}",
        street=f"{o.street} {o.house_number}",
        postal_code=o.postal_code,
        city=o.city,
        email=o.email,
        dog_name=d.name,
        breed_name=d.breed_name,
        dog_birth_date=f"{d.birth_date:%d.%m.%Y}",
        chip=d.chip_number,
        owned_since=f"{d.owned_since:%d.%m.%Y}",
        account_holder=s.account_holder,
        iban=s.iban,
        remark=f"Portal-Antrag {app.case_id}",
    )
