"""Seeding: the Musterstadt citizens' dog-tax applications the demo's run works on.

Always the same applications (a fixed random seed), so two demos show the same counts: 24
generated ones, a quarter of them bad in one way or another, plus one that needs a clerk — a
second dog of an owner already filed, with another address (a Klärfall).
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from demo._common import HOST, PORTAL_PORT

if TYPE_CHECKING:
    from sandbox.seed import GeneratedApplication

APPLICATIONS = 24  # plus one Klärfall
BAD_SHARE = 0.25
SEED = 2026


def _moved_owner(app: GeneratedApplication, rng: random.Random) -> GeneratedApplication:
    """A second dog of an owner already filed, with another address: the back office's data
    does not match, so a clerk decides (a Klärfall)."""
    from sandbox.seed import GeneratedApplication

    data: dict[str, Any] = copy.deepcopy(app.data)
    data["owner"]["street"] = "Am Neuen Weg"
    data["owner"]["houseNumber"] = str(rng.randint(1, 99))
    data["dog"]["name"] = "Zweithund"
    data["dog"]["chipNumber"] = "276" + "".join(rng.choice("0123456789") for _ in range(12))
    data["dog"]["breed"] = "DACK"
    return GeneratedApplication(data, [], "moved-owner")


def seed() -> Counter[str]:
    """File the applications at the demo's portal.

    Returns:
        How many of each kind were filed (``valid``, the kinds of bad ones, ``moved-owner``).
    """
    from sandbox.seed import generate_applications, seed_portal

    rng = random.Random(SEED)
    apps = generate_applications(APPLICATIONS, bad_share=BAD_SHARE, rng=rng)
    first_valid = next(a for a in apps if a.label == "valid")
    apps.append(_moved_owner(first_valid, rng))
    seeded = seed_portal(f"http://{HOST}:{PORTAL_PORT}", len(apps), applications=apps)
    return Counter(item.label for item in seeded)
