"""Redaction of personal data and secrets from log events (DSGVO by default).

Three nets, each catching what the one before may miss:
1. keys: a value under a personal-data key (``iban``, ``birthDate`` …) at any depth is masked;
2. secrets: every secret the settings loaded is registered here and masked wherever it appears;
3. patterns: strings are scanned for IBANs and e-mail addresses, which are masked too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

__all__ = ["MASK", "Redactor", "register_secret", "registered_secrets", "normalize_key"]

MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def register_secret(value: str | None) -> None:
    """Mask `value` in every later log event (values shorter than 4 characters are ignored)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def registered_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def normalize_key(key: str) -> str:
    """``birthDate`` / ``birth-date`` / ``Birth_Date`` → ``birth_date``."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)
    return snake.replace("-", "_").lower()


class Redactor:
    """A structlog processor (callable) that masks personal data and secrets in an event dict."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = frozenset(normalize_key(f) for f in fields)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
        return {k: self._value(k, v) for k, v in event.items()}

    def redact_text(self, text: str) -> str:
        for secret in sorted(registered_secrets(), key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        text = _IBAN.sub(MASK, text)
        return _EMAIL.sub(MASK, text)

    def _value(self, key: str | None, value: Any) -> Any:
        if key is not None and key not in ("event", "level", "timestamp", "logger"):
            if normalize_key(key) in self.fields and value not in (None, "", [], {}):
                return MASK
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {k: self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(None, v) for v in value]
        if isinstance(value, BaseException):
            return self.redact_text(f"{type(value).__name__}: {value}")
        return value
