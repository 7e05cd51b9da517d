"""Configuration and fault knobs of the Fachverfahren Steuern, and its copy of the breed list."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sandbox._common import Faults

__all__ = ["BREEDS", "DEFAULT_ACCOUNTS", "LISTED_BREEDS", "SteuerConfig", "SteuerFaults"]

LayoutVersion = Literal["v1", "v2"]

#: breed code -> (breed name, listed as dangerous) — Musterstadt's code list (sandbox/README.md)
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
LISTED_BREEDS = frozenset(code for code, (_, listed) in BREEDS.items() if listed)

#: demo service accounts of the bots and one clerk (sandbox only, not secrets)
DEFAULT_ACCOUNTS: dict[str, str] = {
    "bot1": "bot1-Musterstadt!",
    "bot2": "bot2-Musterstadt!",
    "bot3": "bot3-Musterstadt!",
    "bot4": "bot4-Musterstadt!",
    "sachbearbeiter": "sb-Musterstadt!",
}


class SteuerFaults(Faults):
    """The common fault knobs plus the back office's own, all changeable at runtime."""

    session_lifetime_s: float = Field(
        1800.0, ge=0, description="session ends this long after login"
    )
    layout: LayoutVersion = Field("v1", description="screen layout version (ids, order, tabs)")
    modal_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of pages with a notice")
    renamed_labels: dict[str, str] = Field(
        default_factory=dict,
        description="field labels a new release renamed, e.g. {'IBAN': 'Konto (IBAN)'}",
    )
    lockout_after: int | None = Field(
        None, ge=0, description="failed logins in a row that lock an account (0/None: never)"
    )
    strip_aria: bool = Field(
        False,
        description="a release without the ARIA roles and labels of tables and dialogs",
    )


class SteuerConfig(BaseModel):
    """Start configuration of the Fachverfahren Steuern.

    ``session_lifetime_s``, ``layout``, ``modal_rate`` and ``lockout_after`` are the start
    values of the runtime knobs of the same names in `SteuerFaults`; a value set here wins over
    one in ``faults``.
    """

    data_dir: Path = Field(Path("var/sandbox/steuer"), description="holds steuer.sqlite3")
    accounts: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    admin_token: str = "steuer-admin-token"
    session_lifetime_s: float = Field(1800.0, ge=0)
    layout: LayoutVersion = "v1"
    modal_rate: float = Field(0.0, ge=0.0, le=1.0)
    lockout_after: int | None = Field(None, ge=0)
    faults: Faults = Field(default_factory=SteuerFaults)
    seed: int | None = Field(None, description="seed of fault and notice randomness")
    year: int = Field(default_factory=lambda: date.today().year, description="in Aktenzeichen")

    def initial_faults(self) -> SteuerFaults:
        """The knobs the app starts with (top-level values win when set or not in faults)."""
        merged = self.faults.model_dump()
        for key in ("session_lifetime_s", "layout", "modal_rate", "lockout_after"):
            if key in self.model_fields_set or key not in self.faults.model_fields_set:
                merged[key] = getattr(self, key)
        return SteuerFaults.model_validate(merged)
