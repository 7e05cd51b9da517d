"""Code lists and fixed identifiers of the Serviceportal Musterstadt.

The breed list mirrors the table in ``sandbox/README.md``; each sandbox system keeps its own
copy on purpose (as real systems do), so a change here does not silently change the back office.
"""

from __future__ import annotations

__all__ = [
    "BREEDS",
    "DEFAULT_DESTINATION_ID",
    "EVENT_ACCEPT",
    "EVENT_BASE",
    "EVENT_CREATE",
    "EVENT_REJECT",
    "EVENT_SUBMIT",
    "HUNDESTEUER_SCHEMA_URI",
    "HUNDESTEUER_SERVICE",
    "LISTED_BREEDS",
    "PROBLEM_BASE",
]

DEFAULT_DESTINATION_ID = "7b1c2f3e-5a6d-4e8f-9a0b-1c2d3e4f5a6b"

HUNDESTEUER_SCHEMA_URI = "https://schema.musterstadt.example/hundesteuer-anmeldung/1.0.0.json"
HUNDESTEUER_SERVICE: dict[str, str] = {
    "name": "Hundesteuer – Anmeldung eines Hundes",
    "identifier": "urn:de:fim:leika:leistung:99108013001000",
}

PROBLEM_BASE = "https://schema.fitko.de/fit-connect/submission-api/problems/"
EVENT_BASE = "https://schema.fitko.de/fit-connect/events/"
EVENT_CREATE = EVENT_BASE + "create-submission"
EVENT_SUBMIT = EVENT_BASE + "submit-submission"
EVENT_ACCEPT = EVENT_BASE + "accept-submission"
EVENT_REJECT = EVENT_BASE + "reject-submission"

#: code -> (German name, listed as dangerous)
BREEDS: dict[str, tuple[str, bool]] = {
    "MISCH": ("Mischling", False),
    "LABR": ("Labrador Retriever", False),
    "GOLD": ("Golden Retriever", False),
    "DSH": ("Deutscher Schäferhund", False),
    "DACK": ("Dackel", False),
    "BEAG": ("Beagle", False),
    "BOXR": ("Deutscher Boxer", False),
    "PUDL": ("Pudel", False),
    "JRT": ("Jack Russell Terrier", False),
    "CHIH": ("Chihuahua", False),
    "FBUL": ("Französische Bulldogge", False),
    "HUSK": ("Siberian Husky", False),
    "BERN": ("Berner Sennenhund", False),
    "PITB": ("Pitbull-Terrier", True),
    "AMST": ("American Staffordshire Terrier", True),
    "STBT": ("Staffordshire Bullterrier", True),
    "BULT": ("Bullterrier", True),
    "ROTT": ("Rottweiler", True),
    "MAST": ("Mastiff", True),
    "DOAR": ("Dogo Argentino", True),
}
LISTED_BREEDS: frozenset[str] = frozenset(code for code, (_, listed) in BREEDS.items() if listed)
