"""Parsing untrusted XML without letting it attack the parser.

E-invoices arrive from anyone. A DTD can declare entities that expand exponentially (the
"billion laughs") or pull in local files and URLs (XXE). EN 16931 invoices never need a DTD, so
any document type declaration is refused outright; the lxml parser is additionally configured
not to resolve entities, load DTDs or touch the network, so nothing is expanded before the
refusal.
"""

from __future__ import annotations

from lxml import etree

from amtsbote import BusinessRuleError

__all__ = ["parse_untrusted_xml"]

_MAX_BYTES = 20 * 1024 * 1024

_UNSAFE = (
    "Die XML-Datei enthält unsichere XML-Konstrukte (DTD, Entitäten oder externe Verweise) "
    "und wird nicht verarbeitet."
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


# libxml2's own guards against entity expansion (it stops before the pre-check would in
# encodings the byte scan cannot read, e.g. UTF-16).
_ENTITY_ERRORS = frozenset(
    getattr(etree.ErrorTypes, name)
    for name in ("ERR_RESOURCE_LIMIT", "ERR_ENTITY_LOOP", "ERR_ENTITY_AMPLIFICATION")
    if hasattr(etree.ErrorTypes, name)
)


def _is_entity_attack(exc: etree.XMLSyntaxError) -> bool:
    # The exception's own code, not `error_log` (which may carry earlier parses' entries).
    return exc.code in _ENTITY_ERRORS or "amplification" in (exc.msg or "").lower()


def parse_untrusted_xml(data: bytes) -> etree._Element:
    """Parse XML from outside, refusing DTDs, entities and oversized input.

    Args:
        data: The raw XML bytes.

    Returns:
        The root element.

    Raises:
        BusinessRuleError: ``xml-too-large``, ``xml-unsafe`` (DTD / entity declarations,
            external references) or ``xml-invalid`` (not well-formed XML).
    """
    if len(data) > _MAX_BYTES:
        raise BusinessRuleError(
            "Die XML-Datei ist zu groß (höchstens 20 MB).", code="xml-too-large"
        )
    # Senders sometimes put a BOM or blank lines before the XML declaration; tolerate both.
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    prolog = data[:65536].upper()
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise BusinessRuleError(_UNSAFE, code="xml-unsafe")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        if _is_entity_attack(exc):
            raise BusinessRuleError(_UNSAFE, code="xml-unsafe") from exc
        raise BusinessRuleError(
            "Die Datei ist keine gültige XML-Datei.", code="xml-invalid"
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise BusinessRuleError(_UNSAFE, code="xml-unsafe")
    for _ in root.iter(etree.Entity):
        raise BusinessRuleError(_UNSAFE, code="xml-unsafe")
    return root
