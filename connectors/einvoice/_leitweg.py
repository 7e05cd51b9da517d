"""Leitweg-ID (BT-10): the routing address of a German public buyer, with its check digits.

Format: coarse address (2–12 digits) ``-`` optional fine address (up to 30 letters/digits)
``-`` two check digits computed by ISO 7064 MOD 97-10 over the id without hyphens, letters
counting 10…35 (as in IBANs). A mistyped Leitweg-ID routes an invoice to the wrong office, so it
is checked before anything else happens to the invoice.
"""

from __future__ import annotations

import re

from amtsbote import BusinessRuleError

__all__ = ["leitweg_check_digits", "validate_leitweg_id"]

_LEITWEG = re.compile(r"^(\d{2,12})(?:-([A-Z0-9]{1,30}))?-(\d{2})$")
_BASE = re.compile(r"^(\d{2,12})(?:-([A-Z0-9]{1,30}))?$")


def _as_number(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def leitweg_check_digits(base: str) -> str:
    """Compute the two check digits for a Leitweg-ID without them.

    Args:
        base: Coarse and optional fine address, e.g. ``"04011000-1234512345"``.

    Returns:
        The two check digits, e.g. ``"06"``.

    Raises:
        ValueError: If `base` is not a coarse address with an optional fine address.
    """
    normalized = base.strip().upper()
    if not _BASE.match(normalized):
        raise ValueError(f"not a Leitweg-ID base: {base!r}")
    return f"{98 - _as_number(normalized.replace('-', '') + '00') % 97:02d}"


def validate_leitweg_id(value: str) -> str:
    """Check a Leitweg-ID's form and its ISO 7064 MOD 97-10 check digits.

    Args:
        value: The Leitweg-ID as written (case of letters does not matter).

    Returns:
        The Leitweg-ID, stripped and upper-cased.

    Raises:
        BusinessRuleError: ``leitweg-id-invalid`` for a malformed id,
            ``leitweg-id-checksum`` when the check digits do not match.
    """
    normalized = value.strip().upper()
    if not _LEITWEG.match(normalized):
        raise BusinessRuleError(
            f"Die Leitweg-ID „{value.strip()}“ hat kein gültiges Format "
            "(Grobadressierung-Feinadressierung-Prüfziffer, z. B. 04011000-1234512345-06).",
            code="leitweg-id-invalid",
            field="BT-10",
        )
    if _as_number(normalized.replace("-", "")) % 97 != 1:
        raise BusinessRuleError(
            f"Die Prüfziffer der Leitweg-ID „{normalized}“ stimmt nicht. "
            "Bitte prüfen Sie die Leitweg-ID des Rechnungsempfängers.",
            code="leitweg-id-checksum",
            field="BT-10",
        )
    return normalized
