"""What the CII and the UBL reader share: XPath access, value checks, the sums check.

Every value from outside is checked before it is trusted or goes into an XPath expression:
amounts are plain decimals, dates real dates, the currency three capital letters, the
Leitweg-ID and the IBAN pass their check digits. `check_sums` makes sure the figures add up
(lines → net, net + VAT → gross, gross − prepaid → due) before anybody pays the invoice. Each
failure is a `BusinessRuleError` naming the EN 16931 business term (``BT-…``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from amtsbote import BusinessRuleError

from ._leitweg import validate_leitweg_id
from ._model import Invoice

__all__ = [
    "Reader",
    "check_currency",
    "check_iban",
    "check_leitweg",
    "check_sums",
    "to_date",
    "to_decimal",
]

_CENT = Decimal("0.01")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL = re.compile(r"^[+-]?\d{1,18}(\.\d{1,10})?$")


class Reader:
    """XPath helpers bound to one namespace map, raising readable errors for missing terms."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.ns = namespaces

    def text(self, node: etree._Element, path: str) -> str | None:
        """The stripped text at `path` (element or attribute), None if absent or empty."""
        found = node.xpath(path, namespaces=self.ns)
        if not found:
            return None
        first = found[0]
        value = first if isinstance(first, str) else first.text
        value = (value or "").strip()
        return value or None

    def required(self, node: etree._Element, path: str, term: str, label: str) -> str:
        """The text at `path`; ``einvoice-field-missing`` naming `label` and `term` if absent."""
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
        """The amount at `path`; `default` if absent and given, else required."""
        value = self.text(node, path)
        if value is None:
            if default is not None:
                return Decimal(default)
            value = self.required(node, path, term, label)
        return to_decimal(value, term, label)


def to_decimal(value: str, term: str, label: str) -> Decimal:
    """An amount or quantity of business term `term` (``einvoice-amount-invalid`` if not)."""
    # EN 16931 amounts and quantities are plain decimals ("1234.50"): no exponent, no comma,
    # no NaN/Infinity — which also keeps later rounding from overflowing on "1E+999999".
    if not _DECIMAL.match(value):
        raise BusinessRuleError(
            f"Die Angabe „{label}“ ({term}) ist keine gültige Zahl.",
            code="einvoice-amount-invalid",
            field=term,
        )
    return Decimal(value)


def to_date(value: str, fmt: str, term: str, label: str) -> date:
    """A date of business term `term` in `fmt` (``einvoice-date-invalid`` if not)."""
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError as exc:
        raise BusinessRuleError(
            f"Die Angabe „{label}“ ({term}) ist kein gültiges Datum.",
            code="einvoice-date-invalid",
            field=term,
        ) from exc


def check_currency(code: str) -> str:
    """The invoice currency (BT-5) as an ISO 4217 code (``einvoice-currency-invalid``)."""
    # Checked before it goes into an XPath expression: three capital letters (ISO 4217).
    if not _CURRENCY.match(code):
        raise BusinessRuleError(
            f"Die Währung „{code[:10]}“ (BT-5) ist kein gültiger Währungscode (z. B. EUR).",
            code="einvoice-currency-invalid",
            field="BT-5",
        )
    return code


def check_leitweg(value: str | None) -> str:
    """The buyer reference (BT-10) as a valid Leitweg-ID; required by BR-DE-15."""
    if value is None:
        raise BusinessRuleError(
            "In der E-Rechnung fehlt die Leitweg-ID des Rechnungsempfängers (BT-10, "
            "Käuferreferenz; Regel BR-DE-15). Ohne Leitweg-ID kann die Rechnung nicht "
            "zugeordnet werden.",
            code="einvoice-leitweg-id-missing",
            field="BT-10",
        )
    return validate_leitweg_id(value)


def check_iban(value: str | None) -> str | None:
    """The payee's IBAN (BT-84), compact, if the invoice has one (``iban-invalid``)."""
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


def _euro(amount: Decimal, currency: str) -> str:
    text = f"{amount.quantize(_CENT):,.2f}".replace(",", "\0").replace(".", ",")
    return f"{text.replace(chr(0), '.')} {currency}"


def check_sums(inv: Invoice) -> None:
    """Raise ``einvoice-sums-mismatch`` (naming both figures) if the totals do not add up."""

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
