"""Callback verification (HMAC-SHA512 over "<timestamp>.<body>", age, replay) as pure logic."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from amtsbote import BusinessRuleError
from connectors.portal import CallbackRejected, ReplayGuard, sign_callback, verify_callback

SECRET = "callback-demo-secret-0123456789abcdef"
NOW = 1_790_000_000
BODY = json.dumps(
    {
        "type": "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions",
        "submissions": [{"destinationId": "d", "submissionId": "s", "caseId": "c"}],
    }
).encode()


def headers(ts: int = NOW, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {
        "Callback-Timestamp": str(ts),
        "Callback-Authentication": sign_callback(body, secret, ts),
    }


def test_signature_is_hmac_sha512_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha512).hexdigest()
    assert sign_callback(BODY, SECRET, NOW) == expected
    assert sign_callback(BODY, SecretStr(SECRET), NOW) == expected


def test_valid_callback_returns_payload() -> None:
    payload = verify_callback(headers(), BODY, SECRET, now=NOW + 10)
    assert payload["submissions"][0]["submissionId"] == "s"


def test_header_names_are_case_insensitive() -> None:
    h = {k.lower(): v for k, v in headers().items()}
    assert verify_callback(h, BODY, SecretStr(SECRET), now=NOW)["submissions"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda h, b: (h, b + b" "), "callback-signature"),  # body changed after signing
        (lambda h, b: ({**h, "Callback-Timestamp": str(NOW - 1)}, b), "callback-signature"),
        (lambda h, b: (headers(secret="wrong-secret"), b), "callback-signature"),
        (lambda h, b: ({"Callback-Timestamp": str(NOW)}, b), "callback-unsigned"),
        (lambda h, b: ({**h, "Callback-Timestamp": "soon"}, b), "callback-timestamp-invalid"),
    ],
)
def test_forged_callbacks_are_rejected(mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    h, body = mutate(headers(), BODY)
    with pytest.raises(CallbackRejected) as info:
        verify_callback(h, body, SECRET, now=NOW)
    assert info.value.code == code
    assert isinstance(info.value, BusinessRuleError)


def test_old_callback_is_rejected() -> None:
    verify_callback(headers(NOW - 300), BODY, SECRET, now=NOW)  # exactly 5 minutes: still fine
    with pytest.raises(CallbackRejected) as info:
        verify_callback(headers(NOW - 301), BODY, SECRET, now=NOW)
    assert info.value.code == "callback-expired"


def test_callback_from_the_future_is_rejected() -> None:
    with pytest.raises(CallbackRejected) as info:
        verify_callback(headers(NOW + 3600), BODY, SECRET, now=NOW)
    assert info.value.code == "callback-from-future"


def test_replay_is_rejected_with_guard() -> None:
    guard = ReplayGuard()
    h = headers()
    verify_callback(h, BODY, SECRET, now=NOW, seen=guard)
    with pytest.raises(CallbackRejected) as info:
        verify_callback(h, BODY, SECRET, now=NOW + 5, seen=guard)
    assert info.value.code == "callback-replayed"
    # a new callback (new timestamp) with the same body is fine
    verify_callback(headers(NOW + 6), BODY, SECRET, now=NOW + 6, seen=guard)


def test_replay_guard_forgets_entries_outside_window() -> None:
    guard = ReplayGuard(window_s=360)
    assert guard.check_and_add(NOW, "ab", NOW)
    assert not guard.check_and_add(NOW, "AB", NOW + 100)
    assert guard.check_and_add(NOW + 500, "cd", NOW + 500)
    assert len(guard) == 1  # the old entry dropped out: its age alone refuses a replay now


def test_body_that_is_not_a_new_submissions_callback() -> None:
    body = b'{"type": "something-else", "submissions": []}'
    with pytest.raises(CallbackRejected) as info:
        verify_callback(headers(body=body), body, SECRET, now=NOW)
    assert info.value.code == "callback-body"
