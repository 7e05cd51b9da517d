"""Reading XRechnung / ZUGFeRD / Factur-X invoices (CII and UBL) into an `Invoice` record.

Both syntaxes carry the same EN 16931 business terms at different paths; each has a small
reader here that pulls the terms out by XPath, and one shared check makes sure the figures add
up (lines → net, net + VAT → gross, gross − prepaid → due) before anybody pays the invoice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from pydantic import ValidationError
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from amtsbote import BusinessRuleError
from connectors.documents import extract_invoice_xml

from ._leitweg import validate_leitweg_id
from ._model import Invoice, InvoiceLine
from ._xml import parse_untrusted_xml

__all__ = ["parse_invoice", "read_invoice"]

CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_CII_ROOT = f"{{{CII_NS['rsm']}}}CrossIndustryInvoice"
_UBL_ROOTS = {
    f"{{{UBL_INVOICE_NS}}}Invoice": "Invoice",
    f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote": "CreditNote",
}

_CENT = Decimal("0.01")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL = re.compile(r"^[+-]?\d{1,18}(\.\d{1,10})?$")


class _Reader:
    """XPath helpers bound to one namespace map, raising readable errors for missing terms."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.ns = namespaces

    def text(self, node: etree._Element, path: str) -> str | None:
        found = node.xpath(path, namespaces=self.ns)
        if not found:
            return None
        first = found[0]
        value = first if isinstance(first, str) else first.text
        value = (value or "").strip()
        return value or None

    def required(self, node: etree._Element, path: str, term: str, label: str) -> str:
        value = self.text(node, path)
        if value is None:
            raise BusinessRuleError(
                f"In der E-Rechnung fehlt die Angabe „{label}“ ({term}).",
                code="einvoice-field-missing",
                field=term,
            )
        return value

    def amount(
        self, node: etree._Element, path: str, term: str, label: str, *, default: str | None = None
    ) -> Decimal:
        value = self.text(node, path)
        if value is None:
            if default is not None:
                return Decimal(default)
            value = self.required(node, path, term, label)
        return _decimal(value, term, label)


def _decimal(value: str, term: str, label: str) -> Decimal:
    # EN 16931 amounts and quantities are plain decimals ("1234.50"): no exponent, no comma,
    # no NaN/Infinity — which also keeps later rounding from overflowing on "1E+999999".
    if not _DECIMAL.match(value):
        raise BusinessRuleError(
            f"Die Angabe „{label}“ ({term}) ist keine gültige Zahl.",
            code="einvoice-amount-invalid",
            field=term,
        )
    return Decimal(value)


def _date(value: str, fmt: str, term: str, label: str) -> date:
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError as exc:
        raise BusinessRuleError(
            f"Die Angabe „{label}“ ({term}) ist kein gültiges Datum.",
            code="einvoice-date-invalid",
            field=term,
        ) from exc


def _cii_date(r: _Reader, node: etree._Element, path: str, term: str, label: str) -> date | None:
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
    return _date(value, "%Y%m%d", term, label)


def _currency(code: str) -> str:
    # Checked before it goes into an XPath expression: three capital letters (ISO 4217).
    if not _CURRENCY.match(code):
        raise BusinessRuleError(
            f"Die Währung „{code[:10]}“ (BT-5) ist kein gültiger Währungscode (z. B. EUR).",
            code="einvoice-currency-invalid",
            field="BT-5",
        )
    return code


def _leitweg(value: str | None) -> str:
    if value is None:
        raise BusinessRuleError(
            "In der E-Rechnung fehlt die Leitweg-ID des Rechnungsempfängers (BT-10, "
            "Käuferreferenz; Regel BR-DE-15). Ohne Leitweg-ID kann die Rechnung nicht "
            "zugeordnet werden.",
            code="einvoice-leitweg-id-missing",
            field="BT-10",
        )
    return validate_leitweg_id(value)


def _iban(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise BusinessRuleError(
            "Die IBAN des Zahlungsempfängers (BT-84) in der E-Rechnung ist ungültig "
            "(Prüfsumme oder Format falsch).",
            code="iban-invalid",
            field="BT-84",
        ) from exc


def _parse_cii(root: etree._Element) -> dict[str, Any]:
    r = _Reader(CII_NS)
    tx = "rsm:SupplyChainTradeTransaction"
    hta = f"{tx}/ram:ApplicableHeaderTradeAgreement"
    hts = f"{tx}/ram:ApplicableHeaderTradeSettlement"
    sums = f"{hts}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    currency = r.required(root, f"{hts}/ram:InvoiceCurrencyCode", "BT-5", "Währung")
    issue = _cii_date(r, root, "rsm:ExchangedDocument/ram:IssueDateTime", "BT-2", "Rechnungsdatum")
    if issue is None:
        r.required(root, "rsm:ExchangedDocument/ram:IssueDateTime", "BT-2", "Rechnungsdatum")
    # BT-110 may appear twice (invoice currency and VAT accounting currency, BT-111).
    vat_path = f"{sums}/ram:TaxTotalAmount[@currencyID='{_currency(currency)}' or not(@currencyID)]"
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
        "due_date": _cii_date(
            r,
            root,
            f"{hts}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime",
            "BT-9",
            "Fälligkeitsdatum",
        ),
        "leitweg_id": _leitweg(r.text(root, f"{hta}/ram:BuyerReference")),
        "seller_name": r.required(
            root, f"{hta}/ram:SellerTradeParty/ram:Name", "BT-27", "Name des Verkäufers"
        ),
        "seller_vat_id": r.text(
            root, f"{hta}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"
        ),
        "iban": _iban(
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


def _parse_ubl(root: etree._Element, kind: str) -> dict[str, Any]:
    r = _Reader(UBL_NS)
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
        "issue_date": _date(
            r.required(root, "cbc:IssueDate", "BT-2", "Rechnungsdatum"),
            "%Y-%m-%d",
            "BT-2",
            "Rechnungsdatum",
        ),
        "due_date": (
            _date(due, "%Y-%m-%d", "BT-9", "Fälligkeitsdatum")
            if (due := r.text(root, "cbc:DueDate")) is not None
            else None
        ),
        "leitweg_id": _leitweg(r.text(root, "cbc:BuyerReference")),
        "seller_name": r.required(
            root,
            f"{party}/cac:PartyLegalEntity/cbc:RegistrationName",
            "BT-27",
            "Name des Verkäufers",
        ),
        "seller_vat_id": r.text(
            root, f"{party}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"
        ),
        "iban": _iban(r.text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID")),
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
            f"cac:TaxTotal/cbc:TaxAmount[@currencyID='{_currency(currency)}']",
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


def _euro(amount: Decimal, currency: str) -> str:
    text = f"{amount.quantize(_CENT):,.2f}".replace(",", "\0").replace(".", ",")
    return f"{text.replace(chr(0), '.')} {currency}"


def _check_sums(inv: Invoice) -> None:
    def mismatch(what: str, expected: Decimal, stated: Decimal, term: str) -> None:
        if expected.quantize(_CENT) != stated.quantize(_CENT):
            raise BusinessRuleError(
                f"Die Beträge der E-Rechnung gehen nicht auf: {what} ergibt "
                f"{_euro(expected, inv.currency)}, angegeben sind "
                f"{_euro(stated, inv.currency)} ({term}).",
                code="einvoice-sums-mismatch",
                field=term,
            )

    line_sum = sum((line.net_amount for line in inv.lines), Decimal("0"))
    if inv.lines:
        mismatch("die Summe der Positionen", line_sum, inv.line_total, "BT-106")
    mismatch(
        "Positionen abzüglich Nachlässe zuzüglich Zuschläge",
        inv.line_total - inv.allowance_total + inv.charge_total,
        inv.net_total,
        "BT-109",
    )
    mismatch(
        "Nettobetrag plus Umsatzsteuer", inv.net_total + inv.vat_total, inv.gross_total, "BT-112"
    )
    mismatch(
        "Bruttobetrag abzüglich Vorauszahlungen zuzüglich Rundung",
        inv.gross_total - inv.prepaid_amount + inv.rounding_amount,
        inv.amount_due,
        "BT-115",
    )


_PARSERS: dict[str, Callable[[etree._Element], dict[str, Any]]] = {
    _CII_ROOT: _parse_cii,
    **{tag: functools.partial(_parse_ubl, kind=kind) for tag, kind in _UBL_ROOTS.items()},
}


def parse_invoice(xml: bytes) -> Invoice:
    """Read an XRechnung / EN 16931 invoice in CII or UBL syntax.

    Args:
        xml: The invoice XML.

    Returns:
        The invoice record, with Leitweg-ID and IBAN checksums verified and its sums checked.

    Raises:
        BusinessRuleError: ``xml-invalid`` / ``xml-unsafe`` / ``xml-too-large`` (see
            `parse_untrusted_xml`), ``einvoice-unknown-format`` (neither CII nor UBL root, or a
            wrong namespace), ``einvoice-field-missing``, ``einvoice-leitweg-id-missing``
            (BR-DE-15), ``leitweg-id-invalid`` / ``leitweg-id-checksum``, ``iban-invalid``,
            ``einvoice-amount-invalid``, ``einvoice-date-invalid``,
            ``einvoice-sums-mismatch`` (message names both figures).
    """
    root = parse_untrusted_xml(xml)
    parse = _PARSERS.get(root.tag) if isinstance(root.tag, str) else None
    if parse is None:
        raise BusinessRuleError(
            "Die XML-Datei ist keine E-Rechnung im Format XRechnung/EN 16931 "
            "(erwartet: CII CrossIndustryInvoice oder UBL Invoice/CreditNote).",
            code="einvoice-unknown-format",
        )
    try:
        invoice = Invoice.model_validate(parse(root))
    except ValidationError as exc:
        raise BusinessRuleError(
            "Die E-Rechnung enthält ungültige Angaben.", code="einvoice-invalid"
        ) from exc
    _check_sums(invoice)
    return invoice


def read_invoice(data: bytes) -> Invoice:
    """Read an e-invoice given as XML (XRechnung) or as a ZUGFeRD / Factur-X PDF.

    Args:
        data: The file's bytes; a PDF is recognised by its ``%PDF-`` header.

    Returns:
        The invoice record (see `parse_invoice`).

    Raises:
        BusinessRuleError: Everything `parse_invoice` and
            `connectors.documents.extract_invoice_xml` raise.
    """
    if b"%PDF-" in data[:1024]:
        _, xml = extract_invoice_xml(data)
        return parse_invoice(xml)
    return parse_invoice(data)
