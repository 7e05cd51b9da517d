"""E-invoices (XRechnung, ZUGFeRD, Factur-X) → typed `Invoice` records.

German public bodies must accept EN 16931 invoices in two XML syntaxes (UN/CEFACT CII and
UBL 2.1), either as plain XML (XRechnung) or embedded in a PDF (ZUGFeRD / Factur-X). This
package reads both into one record, checks what a clerk would check (Leitweg-ID and IBAN check
digits, sums), and parses the XML defensively (no DTDs, entities or network access).

```python
from connectors.einvoice import read_invoice

invoice = read_invoice(uploaded_bytes)       # PDF or XML
invoice.leitweg_id, invoice.gross_total, invoice.lines
```
Every failure is a `amtsbote.BusinessRuleError` with a stable ``code`` and a German message.
"""

from __future__ import annotations

from ._leitweg import leitweg_check_digits, validate_leitweg_id
from ._model import Invoice, InvoiceLine
from ._parse import parse_invoice, read_invoice
from ._xml import parse_untrusted_xml

__all__ = [
    "Invoice",
    "InvoiceLine",
    "leitweg_check_digits",
    "parse_invoice",
    "parse_untrusted_xml",
    "read_invoice",
    "validate_leitweg_id",
]
