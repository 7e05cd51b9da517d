"""Page objects of the Fachverfahren Steuern, one class per screen, one module per screen group.

- `_login`: `LoginPage`, `StartPage` (every process of the back office passes them);
- `_taxpayer`: `TaxpayerSearchPage`, `TaxpayerResults`, `TaxpayerFormPage` (with
  `TaxpayerEntry`), `TaxpayerPage`;
- `_case`: `CaseFormPage` (with `CaseEntry`), `ConfirmationPage`, `CaseListPage`,
  `CaseResults` (the dog-tax case);
- `_base`: `SteuerPage`, the base that knows the login page (session expiry).

Locators by role, label and visible text only, so the same classes work on layout v1 and v2.
`raise_validation` comes from the bot core (`bots`) and is re-exported here; a refused login
raises the kernel's `amtsbote.LoginRefused`.
"""

from __future__ import annotations

from bots import raise_validation

from ._base import SteuerPage
from ._case import CaseEntry, CaseFormPage, CaseListPage, CaseResults, ConfirmationPage
from ._login import LoginPage, StartPage
from ._taxpayer import (
    TaxpayerEntry,
    TaxpayerFormPage,
    TaxpayerPage,
    TaxpayerResults,
    TaxpayerSearchPage,
)

__all__ = [
    "CaseEntry",
    "CaseFormPage",
    "CaseListPage",
    "CaseResults",
    "ConfirmationPage",
    "LoginPage",
    "StartPage",
    "SteuerPage",
    "TaxpayerEntry",
    "TaxpayerFormPage",
    "TaxpayerPage",
    "TaxpayerResults",
    "TaxpayerSearchPage",
    "raise_validation",
]
