"""The breed code list of the Hundesteuer record and the plausible chip-number countries.

The portal, the tax back office and the archive each keep their own copy of this list (shared
meaning, not shared code). A *listed* breed (gefährlicher Hund, Kampfhund) is taxed at a higher
rate and needs a liability-insurance certificate attached.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = ["BREEDS", "CHIP_COUNTRIES", "CHIP_PATTERN", "Breed", "breed_by_code"]

#: First three digits of a plausible ISO 11784 chip number besides the manufacturer codes
#: 900–999: Germany (276) and its neighbours, where many dogs come from.
CHIP_COUNTRIES: Final = frozenset(
    {"276", "040", "056", "203", "208", "250", "442", "528", "616", "756"}
)

CHIP_PATTERN: Final = re.compile(r"^[0-9]{15}$")


class Breed(NamedTuple):
    """One entry of the breed code list."""

    code: str
    name: str
    listed: bool


BREEDS: Final[dict[str, Breed]] = {
    b.code: b
    for b in (
        Breed("MISCH", "Mischling", False),
        Breed("LABR", "Labrador Retriever", False),
        Breed("GOLD", "Golden Retriever", False),
        Breed("DSH", "Deutscher Schäferhund", False),
        Breed("DACK", "Dackel", False),
        Breed("BEAG", "Beagle", False),
        Breed("BOXR", "Deutscher Boxer", False),
        Breed("PUDL", "Pudel", False),
        Breed("JRT", "Jack Russell Terrier", False),
        Breed("CHIH", "Chihuahua", False),
        Breed("FBUL", "Französische Bulldogge", False),
        Breed("HUSK", "Siberian Husky", False),
        Breed("BERN", "Berner Sennenhund", False),
        Breed("PITB", "Pitbull-Terrier", True),
        Breed("AMST", "American Staffordshire Terrier", True),
        Breed("STBT", "Staffordshire Bullterrier", True),
        Breed("BULT", "Bullterrier", True),
        Breed("ROTT", "Rottweiler", True),
        Breed("MAST", "Mastiff", True),
        Breed("DOAR", "Dogo Argentino", True),
    )
}


def breed_by_code(code: str) -> Breed | None:
    """Look a breed up by its code (exact, upper case), or None if the list does not have it."""
    return BREEDS.get(code)
