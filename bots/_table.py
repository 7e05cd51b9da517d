"""Table rows keyed by their column headers, read the way a person reads a header.

A new release of a back office may write a header in capitals, with a trailing colon or
extra whitespace ("AKTENZEICHEN:", " Status "). `Row` keeps the headers as the screen shows
them, and a key matches a header the way the meaning-locators match a label (`name_pattern`):
case, surrounding whitespace, a non-breaking space and a trailing colon or asterisk do not
matter. So ``row["Aktenzeichen"]`` reads the same column in both releases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Row", "header_key"]


def header_key(text: str) -> str:
    """A header or label as compared: folded case, single spaces, no trailing ``:``/``*``."""
    return " ".join(text.replace("\u00a0", " ").rstrip(" \t\n:*").split()).casefold()


class Row(dict[str, str]):
    """One table row: header text → cell text, looked up tolerantly (see module docstring)."""

    @classmethod
    def of(cls, headers: Iterable[str], cells: Iterable[str]) -> Row:
        """The row of `cells` under `headers` (both stripped; extra cells are dropped)."""
        return cls(zip((h.strip() for h in headers), (c.strip() for c in cells), strict=False))

    def _key(self, key: str) -> str:
        if dict.__contains__(self, key):
            return key
        wanted = header_key(key)
        return next((have for have in self if header_key(have) == wanted), key)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key) if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(self._key(key), default)
