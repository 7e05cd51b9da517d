"""A corpus of bad and hostile documents: each must end in one `BusinessRuleError` with a
specific code and a German message — never a raw pypdf / lxml / zipfile exception.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from amtsbote import BusinessRuleError
from connectors.documents import FieldMapping, extract_invoice_xml, read_form
from connectors.einvoice import parse_invoice, read_invoice
from tests.connectors import _samples
from tests.connectors._samples import InvoiceData, Line


class _Record(BaseModel):
    name: str


_MAPPING = FieldMapping({"Name": "name"})


def _utf16(xml: bytes) -> bytes:
    text = xml.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    return text.encode("utf-16")


def _cii_without_number() -> bytes:
    xml = _samples.cii_xml()
    start = xml.index(b"<ram:ID>RE-2026-0815</ram:ID>")
    return xml[:start] + xml[start + len(b"<ram:ID>RE-2026-0815</ram:ID>") :]


CORPUS: dict[str, tuple[Callable[[], object], str]] = {
    "corrupt-pdf": (lambda: read_invoice(b"%PDF-1.7\n%garbage\n"), "pdf-invalid"),
    "corrupt-pdf-form": (
        lambda: read_form(b"%PDF-1.4\n1 0 obj<<", _MAPPING, _Record),
        "pdf-invalid",
    ),
    "encrypted-pdf": (
        lambda: read_invoice(_samples.encrypted_pdf(_samples.facturx_pdf(_samples.cii_xml()))),
        "pdf-encrypted",
    ),
    "formless-pdf": (
        lambda: read_form(_samples.blank_pdf(), _MAPPING, _Record),
        "pdf-form-missing",
    ),
    "pdf-without-invoice": (lambda: read_invoice(_samples.blank_pdf()), "einvoice-not-embedded"),
    "pdf-with-other-attachment": (
        lambda: extract_invoice_xml(_samples.pdf_with_attachment("anlage.xml", b"<a/>")),
        "einvoice-not-embedded",
    ),
    "billion-laughs": (lambda: parse_invoice(_samples.BILLION_LAUGHS), "xml-unsafe"),
    "billion-laughs-utf16": (lambda: parse_invoice(_utf16(_samples.BILLION_LAUGHS)), "xml-unsafe"),
    "billion-laughs-in-pdf": (
        lambda: read_invoice(_samples.pdf_with_attachment("factur-x.xml", _samples.BILLION_LAUGHS)),
        "xml-unsafe",
    ),
    "external-entity-http": (
        lambda: parse_invoice(_samples.external_entity_xml("http://127.0.0.1:9/secret")),
        "xml-unsafe",
    ),
    "wrong-namespace": (
        lambda: parse_invoice(_samples.ubl_xml(namespace="urn:example:not-ubl:Invoice")),
        "einvoice-unknown-format",
    ),
    "unknown-root": (
        lambda: parse_invoice(b"<html><body>Rechnung</body></html>"),
        "einvoice-unknown-format",
    ),
    "missing-leitweg-id-cii": (
        lambda: parse_invoice(_samples.cii_xml(InvoiceData(leitweg_id=None))),
        "einvoice-leitweg-id-missing",
    ),
    "missing-leitweg-id-ubl": (
        lambda: parse_invoice(_samples.ubl_xml(InvoiceData(leitweg_id=None))),
        "einvoice-leitweg-id-missing",
    ),
    "bad-leitweg-check-digits": (
        lambda: parse_invoice(_samples.cii_xml(InvoiceData(leitweg_id="04011000-1234512345-07"))),
        "leitweg-id-checksum",
    ),
    "bad-iban": (
        lambda: parse_invoice(_samples.ubl_xml(InvoiceData(iban="DE02120300000000202052"))),
        "iban-invalid",
    ),
    "bad-iban-cii": (
        lambda: parse_invoice(_samples.cii_xml(InvoiceData(iban="DE0212030000000020205"))),
        "iban-invalid",
    ),
    "currency-breaking-xpath": (
        lambda: parse_invoice(_samples.ubl_xml(InvoiceData(currency="E'UR"))),
        "einvoice-currency-invalid",
    ),
    "currency-breaking-xpath-cii": (
        lambda: parse_invoice(_samples.cii_xml().replace(b">EUR<", b">EU']R<")),
        "einvoice-currency-invalid",
    ),
    "non-xml-bytes": (lambda: parse_invoice(b"\x89PNG\r\n\x1a\n\x00\x00"), "xml-invalid"),
    "plain-text": (lambda: read_invoice("Mit freundlichen Grüßen".encode()), "xml-invalid"),
    "truncated-xml": (lambda: parse_invoice(_samples.ubl_xml()[:400]), "xml-invalid"),
    "missing-invoice-number": (
        lambda: parse_invoice(_cii_without_number()),
        "einvoice-field-missing",
    ),
    "amount-with-comma": (
        lambda: parse_invoice(_samples.ubl_xml().replace(b">1387.54<", b">1387,54<", 1)),
        "einvoice-amount-invalid",
    ),
    "amount-with-huge-exponent": (
        lambda: parse_invoice(_samples.ubl_xml().replace(b">1387.54<", b">1E+999999<", 1)),
        "einvoice-amount-invalid",
    ),
    "amount-nan": (
        lambda: parse_invoice(
            _samples.cii_xml().replace(b"LineTotalAmount>1166.00<", b"LineTotalAmount>NaN<")
        ),
        "einvoice-amount-invalid",
    ),
    "bad-date": (
        lambda: parse_invoice(_samples.ubl_xml().replace(b"2026-11-02", b"2026-02-30")),
        "einvoice-date-invalid",
    ),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_bad_document_is_a_business_rule_error(case: str) -> None:
    call, code = CORPUS[case]
    with pytest.raises(BusinessRuleError) as info:
        call()
    assert info.value.code == code
    assert info.value.message and info.value.message[0].isupper()
    # A German sentence for a clerk, not a library's English error text.
    assert info.value.message.rstrip().endswith(".")
    assert "Error" not in info.value.message


def test_external_file_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "geheim.txt"
    secret.write_text("STRENG-GEHEIM-4711")
    xml = _samples.external_entity_xml(secret.as_uri())
    for data in (xml, _utf16(xml)):
        with pytest.raises(BusinessRuleError) as info:
            parse_invoice(data)
        assert info.value.code == "xml-unsafe"
        assert "unsichere XML-Konstrukte" in info.value.message
        chain = [info.value, info.value.__cause__, info.value.__context__]
        assert not any("STRENG-GEHEIM" in str(exc) for exc in chain if exc is not None)


def test_lines_not_adding_up_names_both_figures() -> None:
    inv = InvoiceData(
        lines=[
            Line("1", "Baumschnitt", Decimal("2"), Decimal("100.00")),
            Line("2", "Entsorgung", Decimal("1"), Decimal("50.00")),
        ]
    )
    xml = _samples.ubl_xml(inv).replace(
        b'<cbc:LineExtensionAmount currencyID="EUR">50.00<',
        b'<cbc:LineExtensionAmount currencyID="EUR">55.00<',
    )
    with pytest.raises(BusinessRuleError) as info:
        parse_invoice(xml)
    assert info.value.code == "einvoice-sums-mismatch"
    assert info.value.field == "BT-106"
    assert "255,00 EUR" in info.value.message  # sum of the lines
    assert "250,00 EUR" in info.value.message  # stated line total


def test_net_plus_vat_not_gross_names_both_figures() -> None:
    xml = _samples.cii_xml(InvoiceData(gross_override=Decimal("1400.00")))
    with pytest.raises(BusinessRuleError) as info:
        parse_invoice(xml)
    assert info.value.code == "einvoice-sums-mismatch"
    assert info.value.field == "BT-112"
    assert "1.387,54 EUR" in info.value.message
    assert "1.400,00 EUR" in info.value.message


def test_net_not_matching_lines() -> None:
    xml = _samples.cii_xml(InvoiceData(net_override=Decimal("1000.00")))
    with pytest.raises(BusinessRuleError) as info:
        parse_invoice(xml)
    assert info.value.code == "einvoice-sums-mismatch"
    assert info.value.field == "BT-109"
    assert "1.166,00 EUR" in info.value.message and "1.000,00 EUR" in info.value.message


def _mutations(base: bytes, rng: random.Random) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(1, 8)):
        if len(data) < 2:
            break
        pos = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.5:
            data[pos] = rng.randrange(256)
        elif roll < 0.8:
            del data[pos : pos + rng.randint(1, 50)]
        else:
            del data[pos:]
    return bytes(data)


def test_damaged_files_never_leak_a_library_exception() -> None:
    """Seeded byte flips and cuts in a Factur-X PDF, a CII XML and a form: every outcome is a
    result or a BusinessRuleError — nothing from pypdf, lxml or zlib escapes."""
    rng = random.Random(20261122)
    facturx = _samples.facturx_pdf(_samples.cii_xml())
    cii = _samples.cii_xml()
    form = _samples.fillable_pdf([("Name", "text"), ("Haken", "checkbox")])
    codes: Counter[str] = Counter()
    for _ in range(400):
        base = rng.choice([facturx, cii, form])
        data = _mutations(base, rng)
        try:
            if base is form:
                read_form(data, _MAPPING, _Record)
            else:
                read_invoice(data)
        except BusinessRuleError as exc:
            codes[exc.code] += 1
    assert codes["pdf-invalid"] > 0 and codes["xml-invalid"] > 0


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_pypdf_warnings_do_not_quote_document_content() -> None:
    """pypdf quotes raw bytes of a damaged file in its warnings; none of that may reach the
    application's handlers (root or the framework namespace)."""
    form = _samples.fillable_pdf([("Name", "text")])
    damaged = form.replace(b"/T (Name)", b"/T (Name)\n\x00IBAN DE02120300000000202051 <<(")
    collect = _Collect()
    # The framework's namespace may not propagate once logging is configured: listen on both.
    listeners = [logging.getLogger(), logging.getLogger("connectors")]
    old_levels = [logger.level for logger in listeners]
    for logger in listeners:
        logger.addHandler(collect)
        logger.setLevel(logging.DEBUG)
    try:
        with contextlib.suppress(BusinessRuleError):
            read_form(damaged, _MAPPING, _Record)
    finally:
        for logger, level in zip(listeners, old_levels, strict=True):
            logger.removeHandler(collect)
            logger.setLevel(level)
    assert collect.records, "the damaged file should have produced repair warnings"
    assert all("DE0212" not in record.getMessage() for record in collect.records)
    assert {record.name for record in collect.records} == {"connectors.documents._pdf"}
