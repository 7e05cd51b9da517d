"""The UN/CEFACT CII syntax (XRechnung CII, ZUGFeRD, Factur-X): EN 16931 terms by XPath."""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import etree

from amtsbote import BusinessRuleError

from ._common import Reader, check_currency, check_iban, check_leitweg, to_date
from ._model import InvoiceLine

__all__ = ["CII_NS", "CII_ROOT", "parse_cii"]

CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
CII_ROOT = f"{{{CII_NS['rsm']}}}CrossIndustryInvoice"


def cii_date(r: Reader, node: etree._Element, path: str, term: str, label: str) -> date | None:
    """A CII date (format 102, JJJJMMTT) at `path`, None if absent."""
    value = r.text(node, path + "/udt:DateTimeString")
    if value is None:
        return None
    fmt = r.text(node, path + "/udt:DateTimeString/@format") or "102"
    if fmt != "102":
        raise BusinessRuleError(
            f"Das Datumsformat {fmt} bei „{label}“ ({term}) wird nicht unterstützt "
            "(erwartet: 102 = JJJJMMTT).",
            code="einvoice-date-invalid",
            field=term,
        )
    return to_date(value, "%Y%m%d", term, label)


def parse_cii(root: etree._Element) -> dict[str, Any]:
    """The EN 16931 terms of a CII invoice, as `Invoice` fields."""
    r = Reader(CII_NS)
    tx = "rsm:SupplyChainTradeTransaction"
    hta = f"{tx}/ram:ApplicableHeaderTradeAgreement"
    hts = f"{tx}/ram:ApplicableHeaderTradeSettlement"
    sums = f"{hts}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    currency = r.required(root, f"{hts}/ram:InvoiceCurrencyCode", "BT-5", "Währung")
    issue = cii_date(r, root, "rsm:ExchangedDocument/ram:IssueDateTime", "BT-2", "Rechnungsdatum")
    if issue is None:
        r.required(root, "rsm:ExchangedDocument/ram:IssueDateTime", "BT-2", "Rechnungsdatum")
    # BT-110 may appear twice (invoice currency and VAT accounting currency, BT-111).
    vat_path = (
        f"{sums}/ram:TaxTotalAmount[@currencyID='{check_currency(currency)}' or not(@currencyID)]"
    )
    lines = []
    for item in root.xpath(f"{tx}/ram:IncludedSupplyChainTradeLineItem", namespaces=r.ns):
        lines.append(
            InvoiceLine(
                id=r.required(
                    item,
                    "ram:AssociatedDocumentLineDocument/ram:LineID",
                    "BT-126",
                    "Positionsnummer",
                ),
                name=r.required(
                    item, "ram:SpecifiedTradeProduct/ram:Name", "BT-153", "Artikelbezeichnung"
                ),
                quantity=r.amount(
                    item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", "BT-129", "Menge"
                ),
                unit_code=r.text(
                    item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode"
                ),
                unit_price=r.amount(
                    item,
                    "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
                    "BT-146",
                    "Einzelpreis netto",
                ),
                net_amount=r.amount(
                    item,
                    "ram:SpecifiedLineTradeSettlement"
                    "/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                    "BT-131",
                    "Nettobetrag der Position",
                ),
            )
        )
    return {
        "syntax": "CII",
        "specification_id": r.text(
            root,
            "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
        ),
        "number": r.required(root, "rsm:ExchangedDocument/ram:ID", "BT-1", "Rechnungsnummer"),
        "type_code": r.required(root, "rsm:ExchangedDocument/ram:TypeCode", "BT-3", "Rechnungsart"),
        "issue_date": issue,
        "due_date": cii_date(
            r,
            root,
            f"{hts}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime",
            "BT-9",
            "Fälligkeitsdatum",
        ),
        "leitweg_id": check_leitweg(r.text(root, f"{hta}/ram:BuyerReference")),
        "seller_name": r.required(
            root, f"{hta}/ram:SellerTradeParty/ram:Name", "BT-27", "Name des Verkäufers"
        ),
        "seller_vat_id": r.text(
            root, f"{hta}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"
        ),
        "iban": check_iban(
            r.text(
                root,
                f"{hts}/ram:SpecifiedTradeSettlementPaymentMeans"
                "/ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
            )
        ),
        "currency": currency,
        "line_total": r.amount(
            root, f"{sums}/ram:LineTotalAmount", "BT-106", "Summe der Positionen"
        ),
        "allowance_total": r.amount(
            root, f"{sums}/ram:AllowanceTotalAmount", "BT-107", "Summe der Nachlässe", default="0"
        ),
        "charge_total": r.amount(
            root, f"{sums}/ram:ChargeTotalAmount", "BT-108", "Summe der Zuschläge", default="0"
        ),
        "net_total": r.amount(
            root, f"{sums}/ram:TaxBasisTotalAmount", "BT-109", "Gesamtbetrag netto"
        ),
        "vat_total": r.amount(root, vat_path, "BT-110", "Umsatzsteuer gesamt", default="0"),
        "gross_total": r.amount(
            root, f"{sums}/ram:GrandTotalAmount", "BT-112", "Gesamtbetrag brutto"
        ),
        "prepaid_amount": r.amount(
            root, f"{sums}/ram:TotalPrepaidAmount", "BT-113", "Vorauszahlungen", default="0"
        ),
        "rounding_amount": r.amount(
            root, f"{sums}/ram:RoundingAmount", "BT-114", "Rundungsbetrag", default="0"
        ),
        "amount_due": r.amount(root, f"{sums}/ram:DuePayableAmount", "BT-115", "Zahlbetrag"),
        "lines": tuple(lines),
    }
