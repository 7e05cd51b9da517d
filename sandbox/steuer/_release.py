"""What a release of the back office does to the rendered HTML, beyond its layout version.

`strip_aria` imitates a release that dropped the accessibility markup of tables and dialogs:
tables lose their ``aria-label`` (and ``<caption>``), dialogs their ``role="dialog"``,
``aria-modal`` and ``aria-labelledby``. The page looks the same to a person; a client that
finds the table "Suchergebnis" or the dialog "Hinweis" by its accessible name no longer does.
"""

from __future__ import annotations

import re

__all__ = ["strip_aria"]

_CAPTION = re.compile(r"<caption\b[^>]*>.*?</caption>", re.IGNORECASE | re.DOTALL)
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_DIALOG_ROLE = re.compile(r"""\srole\s*=\s*["']?(?:alert)?dialog\b""", re.IGNORECASE)
_ARIA = re.compile(r"""\s(?:role|aria-[a-z]+)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)


def strip_aria(html: str) -> str:
    """`html` without the ARIA roles and labels of its tables and dialogs, and no captions."""

    def strip(match: re.Match[str]) -> str:
        tag = match.group(0)
        if match.group(1).lower() == "table" or _DIALOG_ROLE.search(tag):
            return _ARIA.sub("", tag)
        return tag

    return _START_TAG.sub(strip, _CAPTION.sub("", html))
