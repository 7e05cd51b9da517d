"""The typed invoice record both XML syntaxes (CII and UBL) are read into.

Only the business terms a municipal inbox needs to route, check and pay an invoice; amounts
are `Decimal` (never float), dates are `date`. BT numbers refer to EN 16931.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Invoice", "InvoiceLine"]


class InvoiceLine(BaseModel):
    """One invoice line (BG-25)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="BT-126 line id")
    name: str = Field(description="BT-153 item name")
    quantity: Decimal = Field(description="BT-129 invoiced quantity")
    unit_code: str | None = Field(default=None, description="BT-130 unit of measure")
    unit_price: Decimal = Field(description="BT-146 item net price")
    net_amount: Decimal = Field(description="BT-131 line net amount")


class Invoice(BaseModel):
    """An e-invoice (XRechnung / ZUGFeRD / Factur-X) as a typed record."""

    model_config = ConfigDict(frozen=True)

    syntax: Literal["CII", "UBL"] = Field(description="XML syntax the invoice came in")
    specification_id: str | None = Field(default=None, description="BT-24")
    number: str = Field(description="BT-1 invoice number")
    type_code: str = Field(description="BT-3 (380 invoice, 381 credit note …)")
    issue_date: date = Field(description="BT-2")
    due_date: date | None = Field(default=None, description="BT-9")
    leitweg_id: str = Field(description="BT-10 buyer reference, check digits verified")
    seller_name: str = Field(description="BT-27")
    seller_vat_id: str | None = Field(default=None, description="BT-31")
    iban: str | None = Field(default=None, description="BT-84, checksum verified")
    currency: str = Field(description="BT-5")
    line_total: Decimal = Field(description="BT-106 sum of line net amounts")
    allowance_total: Decimal = Field(default=Decimal("0"), description="BT-107")
    charge_total: Decimal = Field(default=Decimal("0"), description="BT-108")
    net_total: Decimal = Field(description="BT-109 total without VAT")
    vat_total: Decimal = Field(description="BT-110 total VAT")
    gross_total: Decimal = Field(description="BT-112 total with VAT")
    prepaid_amount: Decimal = Field(default=Decimal("0"), description="BT-113")
    rounding_amount: Decimal = Field(default=Decimal("0"), description="BT-114")
    amount_due: Decimal = Field(description="BT-115 amount due for payment")
    lines: tuple[InvoiceLine, ...] = Field(description="BG-25 invoice lines")
