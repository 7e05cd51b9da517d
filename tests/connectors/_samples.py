"""Test documents made on the fly: fillable PDF forms, CII/UBL invoices, Factur-X PDFs, and a
corpus of broken or hostile files. Nothing is downloaded; every sample is built here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

LEITWEG_ID = "04011000-1234512345-06"
SELLER_IBAN = "DE02120300000000202051"
SELLER_VAT_ID = "DE123456789"


# --------------------------------------------------------------------------- PDFs


def blank_pdf(pages: int = 1) -> bytes:
    """A valid PDF with blank A4 pages and no form."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def fillable_pdf(fields: list[tuple[str, str]]) -> bytes:
    """A one-page PDF with AcroForm fields: ``(name, "text" | "checkbox")``."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    font_ref = writer._add_object(font)
    refs = ArrayObject()
    y = 780.0
    for name, kind in fields:
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/T"): TextStringObject(name),
                NameObject("/F"): NumberObject(4),
                NameObject("/P"): page.indirect_reference,
            }
        )
        if kind == "text":
            widget[NameObject("/FT")] = NameObject("/Tx")
            widget[NameObject("/DA")] = TextStringObject("/Helv 10 Tf 0 g")
            rect = [150.0, y, 450.0, y + 20]
        else:
            widget[NameObject("/FT")] = NameObject("/Btn")
            widget[NameObject("/V")] = NameObject("/Off")
            widget[NameObject("/AS")] = NameObject("/Off")
            on, off = StreamObject(), StreamObject()
            on.set_data(b"q 0 g BT /ZaDb 12 Tf 2 4 Td (4) Tj ET Q")
            off.set_data(b"")
            widget[NameObject("/AP")] = DictionaryObject(
                {
                    NameObject("/N"): DictionaryObject(
                        {
                            NameObject("/Yes"): writer._add_object(on),
                            NameObject("/Off"): writer._add_object(off),
                        }
                    )
                }
            )
            rect = [150.0, y, 166.0, y + 16]
        widget[NameObject("/Rect")] = ArrayObject(FloatObject(v) for v in rect)
        refs.append(writer._add_object(widget))
        y -= 40
    page[NameObject("/Annots")] = ArrayObject(refs)
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {
            NameObject("/Fields"): refs,
            NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
            NameObject("/DR"): DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/Helv"): font_ref})}
            ),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(source: bytes | None = None) -> bytes:
    """A password-protected PDF (AES-256)."""
    writer = PdfWriter(clone_from=io.BytesIO(source or blank_pdf()))
    writer.encrypt("geheim", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_attachment(name: str, data: bytes) -> bytes:
    """A blank PDF carrying one embedded file (no Factur-X metadata)."""
    writer = PdfWriter(clone_from=io.BytesIO(blank_pdf()))
    writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def facturx_pdf(xml: bytes) -> bytes:
    """A Factur-X / ZUGFeRD PDF made by the ``factur-x`` package from a pypdf blank page."""
    import facturx

    return bytes(
        facturx.generate_from_binary(
            blank_pdf(), xml, flavor="factur-x", level="autodetect", check_xsd=False
        )
    )


# --------------------------------------------------------------------------- invoices


@dataclass
class Line:
    id: str
    name: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def net(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


@dataclass
class InvoiceData:
    """Figures of a sample invoice; totals are computed unless overridden."""

    number: str = "RE-2026-0815"
    issue_date: date = date(2026, 11, 2)
    due_date: date = date(2026, 12, 2)
    leitweg_id: str | None = LEITWEG_ID
    seller_name: str = "Grünpflege Rhein-Ruhr GmbH"
    seller_vat_id: str = SELLER_VAT_ID
    iban: str | None = SELLER_IBAN
    currency: str = "EUR"
    vat_rate: Decimal = Decimal("19")
    lines: list[Line] = field(
        default_factory=lambda: [
            Line("1", "Baumschnitt Stadtpark", Decimal("12"), Decimal("85.50")),
            Line("2", "Entsorgung Grünschnitt", Decimal("3.5"), Decimal("40.00")),
        ]
    )
    net_override: Decimal | None = None
    gross_override: Decimal | None = None

    @property
    def line_total(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0"))

    @property
    def net(self) -> Decimal:
        return self.net_override if self.net_override is not None else self.line_total

    @property
    def vat(self) -> Decimal:
        return (self.net * self.vat_rate / 100).quantize(Decimal("0.01"))

    @property
    def gross(self) -> Decimal:
        return self.gross_override if self.gross_override is not None else self.net + self.vat


def cii_xml(inv: InvoiceData | None = None) -> bytes:
    """An EN 16931 / XRechnung CII invoice made with drafthorse."""
    from drafthorse.models.accounting import ApplicableTradeTax
    from drafthorse.models.document import Document
    from drafthorse.models.party import TaxRegistration
    from drafthorse.models.payment import PaymentMeans, PaymentTerms
    from drafthorse.models.tradelines import LineItem

    inv = inv or InvoiceData()
    doc = Document()
    doc.context.guideline_parameter.id = (
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    )
    doc.header.id = inv.number
    doc.header.type_code = "380"
    doc.header.issue_date_time = inv.issue_date
    if inv.leitweg_id is not None:
        doc.trade.agreement.buyer_reference = inv.leitweg_id
    doc.trade.agreement.seller.name = inv.seller_name
    doc.trade.agreement.seller.address.country_id = "DE"
    doc.trade.agreement.seller.tax_registrations.add(TaxRegistration(id=("VA", inv.seller_vat_id)))
    doc.trade.agreement.buyer.name = "Stadt Musterstadt"
    doc.trade.settlement.currency_code = inv.currency
    if inv.iban is not None:
        means = PaymentMeans()
        means.type_code = "58"
        means.payee_account.iban = inv.iban
        doc.trade.settlement.payment_means.add(means)
    terms = PaymentTerms()
    terms.due = inv.due_date
    doc.trade.settlement.terms.add(terms)
    for line in inv.lines:
        item = LineItem()
        item.document.line_id = line.id
        item.product.name = line.name
        item.agreement.net.amount = line.unit_price
        item.delivery.billed_quantity = (line.quantity, "HUR")
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = "S"
        item.settlement.trade_tax.rate_applicable_percent = inv.vat_rate
        item.settlement.monetary_summation.total_amount = line.net
        doc.trade.items.add(item)
    tax = ApplicableTradeTax()
    tax.calculated_amount = inv.vat
    tax.basis_amount = inv.net
    tax.type_code = "VAT"
    tax.category_code = "S"
    tax.rate_applicable_percent = inv.vat_rate
    doc.trade.settlement.trade_tax.add(tax)
    sums = doc.trade.settlement.monetary_summation
    sums.line_total = inv.line_total
    sums.charge_total = Decimal("0.00")
    sums.allowance_total = Decimal("0.00")
    sums.tax_basis_total = inv.net
    sums.tax_total = (inv.vat, inv.currency)
    sums.grand_total = inv.gross
    sums.due_amount = inv.gross
    return bytes(doc.serialize(schema="FACTUR-X_EN16931"))


_UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def ubl_xml(inv: InvoiceData | None = None, *, namespace: str = _UBL) -> bytes:
    """An XRechnung 3.0 UBL invoice, written by hand following EN 16931."""
    inv = inv or InvoiceData()
    nsmap = {None: namespace, "cac": _CAC, "cbc": _CBC}
    root = etree.Element(f"{{{namespace}}}Invoice", nsmap=nsmap)

    def cbc(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{_CBC}}}{tag}", attrs)
        el.text = text
        return el

    def cac(parent: etree._Element, tag: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{_CAC}}}{tag}")

    def money(parent: etree._Element, tag: str, amount: Decimal) -> None:
        cbc(parent, tag, f"{amount:.2f}", currencyID=inv.currency)

    cbc(
        root,
        "CustomizationID",
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    )
    cbc(root, "ProfileID", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
    cbc(root, "ID", inv.number)
    cbc(root, "IssueDate", inv.issue_date.isoformat())
    cbc(root, "DueDate", inv.due_date.isoformat())
    cbc(root, "InvoiceTypeCode", "380")
    cbc(root, "DocumentCurrencyCode", inv.currency)
    if inv.leitweg_id is not None:
        cbc(root, "BuyerReference", inv.leitweg_id)
    party = cac(cac(root, "AccountingSupplierParty"), "Party")
    address = cac(party, "PostalAddress")
    cbc(address, "CityName", "Musterstadt")
    cbc(address, "PostalZone", "44623")
    cbc(cac(address, "Country"), "IdentificationCode", "DE")
    tax_scheme = cac(party, "PartyTaxScheme")
    cbc(tax_scheme, "CompanyID", inv.seller_vat_id)
    cbc(cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    cbc(cac(party, "PartyLegalEntity"), "RegistrationName", inv.seller_name)
    buyer = cac(cac(root, "AccountingCustomerParty"), "Party")
    cbc(cac(buyer, "PartyLegalEntity"), "RegistrationName", "Stadt Musterstadt")
    if inv.iban is not None:
        means = cac(root, "PaymentMeans")
        cbc(means, "PaymentMeansCode", "58")
        cbc(cac(means, "PayeeFinancialAccount"), "ID", inv.iban)
    tax_total = cac(root, "TaxTotal")
    money(tax_total, "TaxAmount", inv.vat)
    subtotal = cac(tax_total, "TaxSubtotal")
    money(subtotal, "TaxableAmount", inv.net)
    money(subtotal, "TaxAmount", inv.vat)
    category = cac(subtotal, "TaxCategory")
    cbc(category, "ID", "S")
    cbc(category, "Percent", f"{inv.vat_rate}")
    cbc(cac(category, "TaxScheme"), "ID", "VAT")
    totals = cac(root, "LegalMonetaryTotal")
    money(totals, "LineExtensionAmount", inv.line_total)
    money(totals, "TaxExclusiveAmount", inv.net)
    money(totals, "TaxInclusiveAmount", inv.gross)
    money(totals, "PayableAmount", inv.gross)
    for line in inv.lines:
        el = cac(root, "InvoiceLine")
        cbc(el, "ID", line.id)
        cbc(el, "InvoicedQuantity", f"{line.quantity}", unitCode="HUR")
        money(el, "LineExtensionAmount", line.net)
        item = cac(el, "Item")
        cbc(item, "Name", line.name)
        line_category = cac(item, "ClassifiedTaxCategory")
        cbc(line_category, "ID", "S")
        cbc(line_category, "Percent", f"{inv.vat_rate}")
        cbc(cac(line_category, "TaxScheme"), "ID", "VAT")
        money(cac(el, "Price"), "PriceAmount", line.unit_price)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">
<rsm:ExchangedDocument>&lol9;</rsm:ExchangedDocument>
</rsm:CrossIndustryInvoice>
"""


def external_entity_xml(target: str) -> bytes:
    """XML that tries to read `target` (a file URL or path) through an external entity."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{target}">]>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        "<cbc:ID>&xxe;</cbc:ID></Invoice>\n"
    ).encode()


def dog_tax_notice(aktenzeichen: str = "HST-2026-000123") -> bytes:
    """A rendered Hundesteuerbescheid (DOCX) for Jürgen Weiß, the letter conversion's input."""
    from connectors.documents import render_dog_tax_notice

    return render_dog_tax_notice(
        aktenzeichen=aktenzeichen,
        tax_amount=Decimal("157.10"),
        owner_name="Jürgen Weiß",
        address_lines=["Hauptstraße 12a", "44623 Musterstadt"],
        dog_name="Bello",
        breed_name="Labrador Retriever",
        start_date=date(2026, 10, 14),
        iban="DE02120300000000202051",
        notice_date=date(2026, 11, 22),
    )
