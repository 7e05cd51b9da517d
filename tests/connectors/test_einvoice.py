"""E-invoices: Factur-X / ZUGFeRD PDFs and XRechnung XML (CII and UBL) → `Invoice`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from amtsbote import BusinessRuleError
from connectors.documents import extract_invoice_xml
from connectors.einvoice import (
    Invoice,
    leitweg_check_digits,
    parse_invoice,
    read_invoice,
    validate_leitweg_id,
)
from tests.connectors import _samples
from tests.connectors._samples import InvoiceData, Line

EXPECTED_NET = Decimal("1166.00")  # 12 h × 85,50 + 3,5 h × 40,00
EXPECTED_VAT = Decimal("221.54")
EXPECTED_GROSS = Decimal("1387.54")


@pytest.fixture(scope="module")
def cii() -> bytes:
    return _samples.cii_xml()


@pytest.fixture(scope="module")
def facturx(cii: bytes) -> bytes:
    return _samples.facturx_pdf(cii)


def _assert_sample(invoice: Invoice, syntax: str) -> None:
    assert invoice.syntax == syntax
    assert invoice.number == "RE-2026-0815"
    assert invoice.type_code == "380"
    assert invoice.issue_date == date(2026, 11, 2)
    assert invoice.due_date == date(2026, 12, 2)
    assert invoice.leitweg_id == _samples.LEITWEG_ID
    assert invoice.seller_name == "Grünpflege Rhein-Ruhr GmbH"
    assert invoice.seller_vat_id == _samples.SELLER_VAT_ID
    assert invoice.iban == _samples.SELLER_IBAN
    assert invoice.currency == "EUR"
    assert invoice.specification_id is not None
    assert invoice.specification_id.endswith("xrechnung_3.0")
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total, invoice.amount_due) == (
        EXPECTED_NET,
        EXPECTED_VAT,
        EXPECTED_GROSS,
        EXPECTED_GROSS,
    )
    assert all(isinstance(v, Decimal) for v in (invoice.net_total, invoice.gross_total))
    assert [
        (line.id, line.name, line.quantity, line.unit_price, line.net_amount)
        for line in invoice.lines
    ] == [
        ("1", "Baumschnitt Stadtpark", Decimal("12"), Decimal("85.50"), Decimal("1026.00")),
        ("2", "Entsorgung Grünschnitt", Decimal("3.5"), Decimal("40.00"), Decimal("140.00")),
    ]
    assert invoice.lines[0].unit_code == "HUR"


def test_cii_xml(cii: bytes) -> None:
    _assert_sample(parse_invoice(cii), "CII")


def test_ubl_xml() -> None:
    _assert_sample(parse_invoice(_samples.ubl_xml()), "UBL")


def test_facturx_pdf_made_by_factur_x(facturx: bytes, cii: bytes) -> None:
    name, xml = extract_invoice_xml(facturx)
    assert name == "factur-x.xml"
    assert xml == cii
    _assert_sample(read_invoice(facturx), "CII")


@pytest.mark.parametrize("name", ["ZUGFeRD-invoice.xml", "zugferd-invoice.xml", "xrechnung.xml"])
def test_older_zugferd_attachment_names(cii: bytes, name: str) -> None:
    pdf = _samples.pdf_with_attachment(name, cii)
    assert extract_invoice_xml(pdf) == (name, cii)
    assert read_invoice(pdf).gross_total == EXPECTED_GROSS


def test_read_invoice_accepts_xml_with_bom_and_blank_lines() -> None:
    xml = b"\xef\xbb\xbf\n" + _samples.ubl_xml()
    assert read_invoice(xml).number == "RE-2026-0815"


def test_cii_vat_in_accounting_currency_is_ignored(cii: bytes) -> None:
    # BT-111: VAT in the accounting currency is a second TaxTotalAmount; BT-110 stays EUR.
    marker = b"<ram:GrandTotalAmount"
    extra = b'<ram:TaxTotalAmount currencyID="USD">999.99</ram:TaxTotalAmount>'
    assert parse_invoice(cii.replace(marker, extra + marker)).vat_total == EXPECTED_VAT


def test_ubl_credit_note() -> None:
    xml = (
        _samples.ubl_xml()
        .replace(b"xsd:Invoice-2", b"xsd:CreditNote-2")
        .replace(b"<Invoice", b"<CreditNote")
        .replace(b"</Invoice>", b"</CreditNote>")
        .replace(b"InvoiceTypeCode>380", b"CreditNoteTypeCode>381")
        .replace(b"</cbc:InvoiceTypeCode>", b"</cbc:CreditNoteTypeCode>")
        .replace(b"cac:InvoiceLine", b"cac:CreditNoteLine")
        .replace(b"cbc:InvoicedQuantity", b"cbc:CreditedQuantity")
    )
    invoice = parse_invoice(xml)
    assert invoice.type_code == "381"
    assert len(invoice.lines) == 2
    assert invoice.gross_total == EXPECTED_GROSS


def test_invoice_without_iban_is_fine() -> None:
    assert parse_invoice(_samples.ubl_xml(InvoiceData(iban=None))).iban is None


def test_iban_with_blanks_is_normalised() -> None:
    xml = _samples.ubl_xml(InvoiceData(iban="de02 1203 0000 0000 2020 51"))
    assert parse_invoice(xml).iban == "DE02120300000000202051"


# ----------------------------------------------------------------------------- Leitweg-ID


@pytest.mark.parametrize(
    ("base", "digits"),
    [("04011000-1234512345", "06"), ("991-33333TEST", "33"), ("05315000", "")],
)
def test_leitweg_check_digits(base: str, digits: str) -> None:
    computed = leitweg_check_digits(base)
    if digits:
        assert computed == digits
    assert validate_leitweg_id(f"{base}-{computed}") == f"{base}-{computed}".upper()


def test_leitweg_lowercase_is_normalised() -> None:
    assert validate_leitweg_id(" 991-33333test-33 ") == "991-33333TEST-33"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("04011000-1234512345-07", "leitweg-id-checksum"),
        ("04011000-1234512354-06", "leitweg-id-checksum"),  # swapped digits
        ("991-33333TEST-34", "leitweg-id-checksum"),
        ("1-33333TEST-33", "leitweg-id-invalid"),  # coarse address too short
        ("991_33333TEST_33", "leitweg-id-invalid"),
        ("991-33333-TEST-33", "leitweg-id-invalid"),
        ("", "leitweg-id-invalid"),
    ],
)
def test_bad_leitweg_ids(value: str, code: str) -> None:
    with pytest.raises(BusinessRuleError) as info:
        validate_leitweg_id(value)
    assert info.value.code == code
    assert info.value.field == "BT-10"


def test_leitweg_check_digits_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="Leitweg"):
        leitweg_check_digits("abc")


def test_invoice_sums_with_allowance_and_rounding() -> None:
    inv = InvoiceData(lines=[Line("1", "Streusalz", Decimal("10"), Decimal("10.00"))])
    xml = _samples.ubl_xml(inv)
    # Document-level allowance of 10,00 (BT-107) and rounding of -0,01 (BT-114).
    xml = xml.replace(
        b'<cbc:TaxExclusiveAmount currencyID="EUR">100.00',
        b'<cbc:AllowanceTotalAmount currencyID="EUR">10.00</cbc:AllowanceTotalAmount>'
        b'<cbc:TaxExclusiveAmount currencyID="EUR">90.00',
    )
    xml = xml.replace(b">19.00<", b">17.10<").replace(b">119.00<", b">107.10<")
    xml = xml.replace(
        b'<cbc:PayableAmount currencyID="EUR">107.10',
        b'<cbc:PayableRoundingAmount currencyID="EUR">-0.10</cbc:PayableRoundingAmount>'
        b'<cbc:PayableAmount currencyID="EUR">107.00',
    )
    invoice = parse_invoice(xml)
    assert (invoice.line_total, invoice.allowance_total, invoice.net_total) == (
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("90.00"),
    )
    assert (invoice.gross_total, invoice.rounding_amount, invoice.amount_due) == (
        Decimal("107.10"),
        Decimal("-0.10"),
        Decimal("107.00"),
    )
