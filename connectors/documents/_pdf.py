"""Opening untrusted PDF files safely, and finding the e-invoice XML embedded in them.

Every PDF a connector handles comes from outside (a citizen's upload, a supplier's invoice), so
opening one is an edge: pypdf's own exceptions, and the plain ``ValueError``/``KeyError`` it
lets slip on malformed files, are translated here into `BusinessRuleError`s with stable codes.
"""

from __future__ import annotations

import io
import logging
import zlib
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from amtsbote import BusinessRuleError

__all__ = ["EINVOICE_ATTACHMENT_NAMES", "extract_invoice_xml", "open_pdf"]

#: Names of the embedded invoice XML, in order of preference (Factur-X / ZUGFeRD 2.1+ first).
EINVOICE_ATTACHMENT_NAMES: tuple[str, ...] = (
    "factur-x.xml",
    "zugferd-invoice.xml",
    "ZUGFeRD-invoice.xml",
    "xrechnung.xml",
)

# What pypdf raises on malformed input besides its own errors (a parsing edge: everything
# here means "this file is broken", never a bug of ours, so it becomes a BusinessRuleError).
PDF_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    RecursionError,
    zlib.error,
)

_CORRUPT = "Die Datei ist keine gültige PDF-Datei oder beschädigt."


class _WithholdPypdfDetails(logging.Handler):
    """Pass pypdf's repair warnings on without their text, which quotes raw document bytes.

    pypdf logs what it skips in a damaged file verbatim ("Invalid Elementary Object starting
    with b'...'"); those bytes can be a citizen's name or IBAN from a form field. Records of
    the ``pypdf`` logger tree are re-logged under this module's logger (in the framework's
    ``connectors`` namespace, so they pass the redacting handlers) with pypdf's module name
    only, and no longer propagate with their text.
    """

    def emit(self, record: logging.LogRecord) -> None:
        _LOG.log(
            record.levelno,
            "pypdf (%s): damaged PDF structure skipped or repaired; details withheld",
            record.name,
        )


_LOG = logging.getLogger(__name__)
_PYPDF_LOG = logging.getLogger("pypdf")
if not any(isinstance(h, _WithholdPypdfDetails) for h in _PYPDF_LOG.handlers):
    _PYPDF_LOG.addHandler(_WithholdPypdfDetails())
    _PYPDF_LOG.propagate = False


def _read_bytes(pdf: bytes | Path) -> bytes:
    if isinstance(pdf, Path):
        try:
            return pdf.read_bytes()
        except OSError as exc:
            raise BusinessRuleError(
                "Die PDF-Datei konnte nicht gelesen werden.", code="pdf-unreadable"
            ) from exc
    return bytes(pdf)


def open_pdf(pdf: bytes | Path) -> PdfReader:
    """Open a PDF from outside and refuse what cannot be processed.

    Args:
        pdf: The file's bytes, or a path to it.

    Returns:
        A `PdfReader` over an unencrypted, parseable PDF.

    Raises:
        BusinessRuleError: ``pdf-invalid`` for a non-PDF or corrupt file, ``pdf-encrypted``
            for a password-protected one.
    """
    data = _read_bytes(pdf)
    if b"%PDF-" not in data[:1024]:
        raise BusinessRuleError(_CORRUPT, code="pdf-invalid")
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        if not encrypted:
            # Touch the page tree: pypdf parses lazily and a broken xref shows up only here.
            _ = len(reader.pages)
    except PDF_PARSE_ERRORS as exc:
        raise BusinessRuleError(_CORRUPT, code="pdf-invalid") from exc
    if encrypted:
        raise BusinessRuleError(
            "Die PDF-Datei ist verschlüsselt (kennwortgeschützt) und kann nicht verarbeitet "
            "werden. Bitte reichen Sie sie ohne Kennwortschutz ein.",
            code="pdf-encrypted",
        )
    return reader


def extract_invoice_xml(pdf: bytes | Path) -> tuple[str, bytes]:
    """Find the invoice XML embedded in a ZUGFeRD / Factur-X PDF.

    Looks for the embedded files named in `EINVOICE_ATTACHMENT_NAMES` (names compared without
    regard to case, preferring ``factur-x.xml``).

    Args:
        pdf: The PDF's bytes, or a path to it.

    Returns:
        The attachment's file name as stored in the PDF and the XML bytes.

    Raises:
        BusinessRuleError: ``pdf-invalid`` / ``pdf-encrypted`` (see `open_pdf`),
            ``einvoice-not-embedded`` when the PDF carries no invoice XML.
    """
    reader = open_pdf(pdf)
    try:
        attachments = {name: reader.attachments[name] for name in reader.attachments}
    except PDF_PARSE_ERRORS as exc:
        raise BusinessRuleError(_CORRUPT, code="pdf-invalid") from exc
    by_lower = {name.lower(): name for name in attachments}
    for wanted in EINVOICE_ATTACHMENT_NAMES:
        stored = by_lower.get(wanted.lower())
        if stored is not None and attachments[stored]:
            return stored, bytes(attachments[stored][0])
    raise BusinessRuleError(
        "Die PDF-Datei enthält keine eingebettete E-Rechnung (ZUGFeRD/Factur-X/XRechnung). "
        "Bitte senden Sie die Rechnung als XRechnung oder ZUGFeRD-PDF.",
        code="einvoice-not-embedded",
    )
