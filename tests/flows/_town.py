"""Seeding helpers of the flow tests: a batch with every kind of application and a Klärfall."""

from __future__ import annotations

import copy
import random
from typing import Any

from sandbox.seed import GeneratedApplication, SeededApplication, generate_applications, seed_portal
from tests.flows.conftest import Musterstadt

#: What the process must do with each kind the seeder makes.
EXPECTED = {
    "valid": "done",
    "script-in-name": "done",  # markup is text: entered and shown as text, never run
    # business rules: accepted at the portal (the receipt is technical), refused by letter
    "invalid-iban": "rejected",
    "listed-breed-without-insurance": "rejected",
    "future-birth-date": "rejected",
    "duplicate": "rejected",  # the same dog again: the back office refuses; a rejection letter
    "moved-owner": "klaerfall",  # same person, other address than in the back office
}


#: Kinds that are technically sound but break a business rule: never a reject-submission.
BUSINESS_REFUSALS = frozenset(
    {"invalid-iban", "listed-breed-without-insurance", "future-birth-date"}
)


def moved_owner(app: GeneratedApplication, rng: random.Random) -> GeneratedApplication:
    """A second dog of the same owner, filed with a different address (a Klärfall)."""
    data: dict[str, Any] = copy.deepcopy(app.data)
    data["owner"]["street"] = "Am Neuen Weg"
    data["owner"]["houseNumber"] = str(rng.randint(1, 99))
    data["dog"]["name"] = "Zweithund"
    data["dog"]["chipNumber"] = "276" + "".join(rng.choice("0123456789") for _ in range(12))
    data["dog"]["breed"] = "DACK"
    return GeneratedApplication(data, [], "moved-owner")


def seed_batch(town: Musterstadt, n: int, seed: int) -> list[SeededApplication]:
    rng = random.Random(seed)
    apps = generate_applications(n, bad_share=0.5, rng=rng)
    first_valid = next(a for a in apps if a.label == "valid")
    apps.append(moved_owner(first_valid, rng))
    return seed_portal(
        town.portal.base_url,
        len(apps),
        applications=apps,
        client_id=town.portal.sender.client_id,
        client_secret=town.portal.sender.client_secret,
        destination_id=town.portal.destination_id,
    )
