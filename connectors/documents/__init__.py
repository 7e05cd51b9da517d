"""Documents: fillable PDF forms, e-invoice PDFs and notices (Bescheide).

Three media breaks this package removes:

* **PDF forms** — `read_form` turns a filled AcroForm into a pydantic record through a
  declared `FieldMapping`; `fill_form` pre-fills a form from a record.
* **E-invoice PDFs** — `extract_invoice_xml` finds the XML a ZUGFeRD / Factur-X PDF carries
  (the XML itself is read by `connectors.einvoice`).
* **Notices** — `render_notice` renders a ``.docx`` template with ``{{placeholders}}``;
  `render_dog_tax_notice` renders the shipped Musterstadt Hundesteuerbescheid;
  `render_rejection_letter` renders the Ablehnungsbescheid any process sends when it refuses
  an application it has already accepted (reasons from a `BusinessRuleError` or a clerk).
* **Letters as PDF** — `to_pdf` turns a rendered ``.docx`` into the PDF the citizen receives
  (LibreOffice headless; `LetterConverter` for an own timeout or launcher).

Bad input from outside raises `amtsbote.BusinessRuleError` with a stable ``code``
(``pdf-invalid``, ``pdf-encrypted``, ``pdf-form-missing``, ``form-field-missing`` …); a broken
template or a letter the caller built wrong (``rejection-without-reason``) raises
`amtsbote.ApplicationError`. No pypdf / python-docx exception escapes.
"""

from __future__ import annotations

from ._convert import LetterConverter, to_pdf
from ._dog_tax import (
    HUNDESTEUERBESCHEID_TEMPLATE,
    MUSTERSTADT_CREDITOR_ID,
    QUARTER_DUE_DATES,
    mask_iban,
    render_dog_tax_notice,
)
from ._forms import (
    CHECKBOX,
    GERMAN_DATE,
    GERMAN_DECIMAL,
    TEXT,
    Converter,
    FieldMapping,
    FormField,
    fill_form,
    read_form,
)
from ._notices import format_amount, format_date, render_notice, template_placeholders
from ._pdf import EINVOICE_ATTACHMENT_NAMES, extract_invoice_xml, open_pdf
from ._rejection import ABLEHNUNGSBESCHEID_TEMPLATE, render_rejection_letter

__all__ = [
    "ABLEHNUNGSBESCHEID_TEMPLATE",
    "CHECKBOX",
    "EINVOICE_ATTACHMENT_NAMES",
    "GERMAN_DATE",
    "GERMAN_DECIMAL",
    "HUNDESTEUERBESCHEID_TEMPLATE",
    "MUSTERSTADT_CREDITOR_ID",
    "QUARTER_DUE_DATES",
    "TEXT",
    "Converter",
    "FieldMapping",
    "FormField",
    "LetterConverter",
    "extract_invoice_xml",
    "fill_form",
    "format_amount",
    "format_date",
    "mask_iban",
    "open_pdf",
    "read_form",
    "render_dog_tax_notice",
    "render_notice",
    "render_rejection_letter",
    "template_placeholders",
    "to_pdf",
]
