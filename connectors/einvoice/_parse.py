"""Reading XRechnung / ZUGFeRD / Factur-X invoices (CII and UBL) into an `Invoice` record.

Both syntaxes carry the same EN 16931 business terms at different paths; each has a small
reader (`_cii`, `_ubl`) that pulls the terms out by XPath, and one shared check (`_common`)
makes sure the figures add up before anybody pays the invoice. This module picks the reader by
the root element and validates the result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lxml import etree
from pydantic import ValidationError

from amtsbote import BusinessRuleError
from connectors.documents import extract_invoice_xml

from ._cii import CII_ROOT, parse_cii
from ._common import check_sums
from ._model import Invoice
from ._ubl import UBL_ROOTS, parse_ubl
from ._xml import parse_untrusted_xml

__all__ = ["parse_invoice", "read_invoice"]


_PARSERS: dict[str, Callable[[etree._Element], dict[str, Any]]] = {
    CII_ROOT: parse_cii,
    **{tag: functools.partial(parse_ubl, kind=kind) for tag, kind in UBL_ROOTS.items()},
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
    check_sums(invoice)
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
