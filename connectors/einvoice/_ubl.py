"""The OASIS UBL 2.1 syntax (XRechnung UBL): Invoice and CreditNote, EN 16931 terms by XPath."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ._common import Reader, check_currency, check_iban, check_leitweg, to_date
from ._model import InvoiceLine

__all__ = ["UBL_NS", "UBL_ROOTS", "parse_ubl"]

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
#: Root element → document kind.
UBL_ROOTS = {
    f"{{{UBL_INVOICE_NS}}}Invoice": "Invoice",
    f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote": "CreditNote",
}


def parse_ubl(root: etree._Element, kind: str) -> dict[str, Any]:
    """The EN 16931 terms of a UBL Invoice or CreditNote (`kind`), as `Invoice` fields."""
    r = Reader(UBL_NS)
    total = "cac:LegalMonetaryTotal"
    currency = r.required(root, "cbc:DocumentCurrencyCode", "BT-5", "Währung")
    line_tag, qty_tag = (
        ("cac:InvoiceLine", "cbc:InvoicedQuantity")
        if kind == "Invoice"
        else ("cac:CreditNoteLine", "cbc:CreditedQuantity")
    )
    lines = []
    for item in root.xpath(line_tag, namespaces=r.ns):
        lines.append(
            InvoiceLine(
                id=r.required(item, "cbc:ID", "BT-126", "Positionsnummer"),
                name=r.required(item, "cac:Item/cbc:Name", "BT-153", "Artikelbezeichnung"),
                quantity=r.amount(item, qty_tag, "BT-129", "Menge"),
                unit_code=r.text(item, f"{qty_tag}/@unitCode"),
                unit_price=r.amount(
                    item, "cac:Price/cbc:PriceAmount", "BT-146", "Einzelpreis netto"
                ),
                net_amount=r.amount(
                    item, "cbc:LineExtensionAmount", "BT-131", "Nettobetrag der Position"
                ),
            )
        )
    type_path = "cbc:InvoiceTypeCode" if kind == "Invoice" else "cbc:CreditNoteTypeCode"
    party = "cac:AccountingSupplierParty/cac:Party"
    return {
        "syntax": "UBL",
        "specification_id": r.text(root, "cbc:CustomizationID"),
        "number": r.required(root, "cbc:ID", "BT-1", "Rechnungsnummer"),
        "type_code": r.required(root, type_path, "BT-3", "Rechnungsart"),
        "issue_date": to_date(
            r.required(root, "cbc:IssueDate", "BT-2", "Rechnungsdatum"),
            "%Y-%m-%d",
            "BT-2",
            "Rechnungsdatum",
        ),
        "due_date": (
            to_date(due, "%Y-%m-%d", "BT-9", "Fälligkeitsdatum")
            if (due := r.text(root, "cbc:DueDate")) is not None
            else None
        ),
        "leitweg_id": check_leitweg(r.text(root, "cbc:BuyerReference")),
        "seller_name": r.required(
            root,
            f"{party}/cac:PartyLegalEntity/cbc:RegistrationName",
            "BT-27",
            "Name des Verkäufers",
        ),
        "seller_vat_id": r.text(
            root, f"{party}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"
        ),
        "iban": check_iban(r.text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID")),
        "currency": currency,
        "line_total": r.amount(
            root, f"{total}/cbc:LineExtensionAmount", "BT-106", "Summe der Positionen"
        ),
        "allowance_total": r.amount(
            root, f"{total}/cbc:AllowanceTotalAmount", "BT-107", "Summe der Nachlässe", default="0"
        ),
        "charge_total": r.amount(
            root, f"{total}/cbc:ChargeTotalAmount", "BT-108", "Summe der Zuschläge", default="0"
        ),
        "net_total": r.amount(
            root, f"{total}/cbc:TaxExclusiveAmount", "BT-109", "Gesamtbetrag netto"
        ),
        "vat_total": r.amount(
            root,
            f"cac:TaxTotal/cbc:TaxAmount[@currencyID='{check_currency(currency)}']",
            "BT-110",
            "Umsatzsteuer gesamt",
            default="0",
        ),
        "gross_total": r.amount(
            root, f"{total}/cbc:TaxInclusiveAmount", "BT-112", "Gesamtbetrag brutto"
        ),
        "prepaid_amount": r.amount(
            root, f"{total}/cbc:PrepaidAmount", "BT-113", "Vorauszahlungen", default="0"
        ),
        "rounding_amount": r.amount(
            root, f"{total}/cbc:PayableRoundingAmount", "BT-114", "Rundungsbetrag", default="0"
        ),
        "amount_due": r.amount(root, f"{total}/cbc:PayableAmount", "BT-115", "Zahlbetrag"),
        "lines": tuple(lines),
    }
