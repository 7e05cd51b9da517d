"""Verify the portal's new-submission callbacks (HMAC-SHA512, timestamped, replay-guarded).

The portal POSTs ``{"type": …/callbacks/new-submissions, "submissions": [...]}`` with the
headers ``callback-timestamp`` (Unix seconds) and ``callback-authentication`` (hex
HMAC-SHA512 over ``"<timestamp>.<raw body>"`` with the destination's callback secret). A
callback only says "look now"; the list endpoint stays the source of truth, so a rejected
callback loses nothing. Still, a forged or replayed one must not reach the flows: it is refused
with `CallbackRejected` (a `BusinessRuleError`: retrying does not make it valid).

`check_callback_url` is the rule for registering a callback URL on the destination: FIT-Connect
only calls back over HTTPS, so an ``http://`` URL is refused unless it points at this machine
(loopback, for a local test setup).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import threading
import time
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from pydantic import SecretStr

from amtsbote import ApplicationError, BusinessRuleError

__all__ = [
    "CallbackRejected",
    "ReplayGuard",
    "check_callback_url",
    "sign_callback",
    "verify_callback",
]

CALLBACK_TYPE: Final = (
    "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"
)
TIMESTAMP_HEADER: Final = "callback-timestamp"
SIGNATURE_HEADER: Final = "callback-authentication"
MAX_FUTURE_S: Final = 60


def check_callback_url(url: str) -> str:
    """The URL if the destination may call it back: ``https://``, or ``http://`` on loopback.

    Raises:
        ApplicationError: ``portal-callback-url`` (a configuration error) for anything else.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _is_loopback(host):
        return url
    raise ApplicationError(
        "Die Callback-URL muss https:// sein (http:// nur für localhost).",
        code="portal-callback-url",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CallbackRejected(BusinessRuleError):
    """A callback failed verification (forged, stale, replayed or malformed)."""

    default_code = "callback-rejected"


class ReplayGuard:
    """Remembers (timestamp, signature) pairs seen within the acceptance window.

    Old entries drop out once they are older than the window: a replay of those is already
    refused by its age. Thread-safe; one guard per receiving endpoint.

    Args:
        window_s: How long an entry is kept (the callback's maximum age plus the allowed skew).
    """

    def __init__(self, window_s: float = 300 + MAX_FUTURE_S) -> None:
        self.window_s = window_s
        self._seen: dict[tuple[int, str], float] = {}
        self._lock = threading.Lock()

    def check_and_add(self, timestamp: int, signature: str, now: float) -> bool:
        """Record a callback; False if it was seen before (a replay)."""
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if now - t <= self.window_s}
            key = (timestamp, signature.lower())
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def __len__(self) -> int:
        return len(self._seen)


def _secret_bytes(secret: str | SecretStr) -> bytes:
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return raw.encode("utf-8")


def sign_callback(raw_body: bytes, secret: str | SecretStr, timestamp: int) -> str:
    """The hex HMAC-SHA512 a callback with this body and timestamp must carry."""
    message = str(timestamp).encode("ascii") + b"." + raw_body
    return hmac.new(_secret_bytes(secret), message, hashlib.sha512).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def verify_callback(
    headers: Mapping[str, str],
    raw_body: bytes,
    secret: str | SecretStr,
    *,
    now: float | None = None,
    max_age_s: int = 300,
    seen: ReplayGuard | None = None,
) -> dict[str, Any]:
    """Verify a callback and return its payload.

    Args:
        headers: The request headers (any case).
        raw_body: The body exactly as received (the HMAC covers these bytes).
        secret: The destination's callback secret.
        now: The current Unix time (default: now).
        max_age_s: Refuse callbacks older than this (FIT-Connect: 5 minutes).
        seen: A `ReplayGuard`; without one, replays within the window are not detected.

    Returns:
        The parsed payload (``type`` and ``submissions``).

    Raises:
        CallbackRejected: Missing headers, bad timestamp, too old or too far in the future,
            wrong signature, replay, or a body that is not a new-submissions callback.
    """
    now = time.time() if now is None else now
    ts_text = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not ts_text or not signature:
        raise CallbackRejected("Callback ohne Zeitstempel oder Signatur.", code="callback-unsigned")
    try:
        timestamp = int(ts_text.strip())
    except ValueError:
        raise CallbackRejected(
            "Callback mit ungültigem Zeitstempel.", code="callback-timestamp-invalid"
        ) from None
    if now - timestamp > max_age_s:
        raise CallbackRejected("Callback ist zu alt.", code="callback-expired")
    if timestamp - now > MAX_FUTURE_S:
        raise CallbackRejected(
            "Callback-Zeitstempel liegt in der Zukunft.", code="callback-from-future"
        )
    expected = sign_callback(raw_body, secret, timestamp)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode()):
        raise CallbackRejected("Callback-Signatur ist ungültig.", code="callback-signature")
    if seen is not None and not seen.check_and_add(timestamp, expected, now):
        raise CallbackRejected("Callback wurde bereits empfangen.", code="callback-replayed")
    try:
        payload = json.loads(raw_body)
    except ValueError:
        raise CallbackRejected("Callback-Inhalt ist kein JSON.", code="callback-body") from None
    if (
        not isinstance(payload, dict)
        or payload.get("type") != CALLBACK_TYPE
        or not isinstance(payload.get("submissions"), list)
    ):
        raise CallbackRejected("Callback hat einen unbekannten Inhalt.", code="callback-body")
    return payload
