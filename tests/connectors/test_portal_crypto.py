"""Receiver-side JOSE as pure logic: algorithm pinning, hash checks, SET build and verify."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwe
from joserfc.jwk import RSAKey

from connectors.portal._crypto import (
    PartError,
    auth_tag,
    build_set,
    decrypt_part,
    sha512_hex,
    verify_hash,
    verify_set,
)


@pytest.fixture(scope="module")
def enc_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    return RSAKey.import_key({**key.as_dict(private=True), "kid": "enc-1"})


@pytest.fixture(scope="module")
def sig_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    return RSAKey.import_key({**key.as_dict(private=True), "kid": "sig-1"})


def seal(plaintext: bytes, key: RSAKey, **header: str) -> str:
    registry = jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM", "RSA-OAEP", "A128GCM"])
    head = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "enc-1", **header}
    return jwe.encrypt_compact(head, plaintext, key, registry=registry)


def test_decrypt_round_trip(enc_key: RSAKey) -> None:
    token = seal(b'{"a": "\xc3\xa4"}', enc_key, cty="application/json")
    plain, header = decrypt_part(token, enc_key, instance="data")
    assert plain == b'{"a": "\xc3\xa4"}' and header["cty"] == "application/json"
    assert auth_tag(token) == token.split(".")[4]


@pytest.mark.parametrize(
    ("header", "code"),
    [({"alg": "RSA-OAEP"}, "jwe-algorithm"), ({"enc": "A128GCM"}, "jwe-algorithm")],
)
def test_other_algorithms_are_refused(enc_key: RSAKey, header: dict[str, str], code: str) -> None:
    token = seal(b"x", enc_key, **header)
    with pytest.raises(PartError) as info:
        decrypt_part(token, enc_key, instance="attachment:a1")
    assert info.value.problem.code == code
    assert info.value.problem.instance == "attachment:a1"
    assert info.value.problem.type.endswith("/encryption-issue")


@pytest.mark.parametrize("token", ["", "a.b.c", "!!!.b.c.d.e", "e30.AA.AA.AA.AA"])
def test_malformed_tokens(enc_key: RSAKey, token: str) -> None:
    with pytest.raises(PartError) as info:
        decrypt_part(token, enc_key, instance="data")
    assert info.value.problem.code in {"jwe-malformed", "jwe-algorithm"}


def test_hash_check() -> None:
    digest = sha512_hex(b"abc")
    assert verify_hash(b"abc", {"type": "sha512", "content": digest.upper()}, instance="data")
    for spec in ({"type": "sha512", "content": sha512_hex(b"abd")}, {"type": "sha512"}):
        with pytest.raises(PartError) as info:
            verify_hash(b"abc", spec, instance="data")
        assert info.value.problem.code == "hash-mismatch"
    with pytest.raises(PartError) as missing:
        verify_hash(b"abc", {"type": "md5", "content": "x"}, instance="data")
    assert missing.value.problem.code == "hash-missing"


def test_set_claims_and_signature(sig_key: RSAKey) -> None:
    token = build_set(
        event="accept-submission",
        payload={"authenticationTags": {"metadata": "m", "data": "d", "attachments": {}}},
        issuer="dest-1",
        submission_id="s-1",
        case_id="c-1",
        signing_key=sig_key,
        now=1_790_000_000.7,
        jti="11111111-2222-4333-8444-555555555555",
    )
    header, claims = verify_set(token, sig_key)
    assert header == {"typ": "secevent+jwt", "alg": "PS512", "kid": "sig-1"}
    assert claims == {
        "$schema": "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json",
        "jti": "11111111-2222-4333-8444-555555555555",
        "iss": "dest-1",
        "iat": 1_790_000_000,
        "sub": "submission:s-1",
        "txn": "case:c-1",
        "events": {
            "https://schema.fitko.de/fit-connect/events/accept-submission": {
                "authenticationTags": {"metadata": "m", "data": "d", "attachments": {}}
            }
        },
    }


def test_tampered_set_does_not_verify(sig_key: RSAKey) -> None:
    token = build_set(
        event="reject-submission",
        payload={"problems": []},
        issuer="d",
        submission_id="s",
        case_id="c",
        signing_key=sig_key,
    )
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "submission:other"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(ValueError):
        verify_set(f"{head}.{forged_body}.{sig}", sig_key)
    other = RSAKey.generate_key(2048, private=True)
    with pytest.raises(ValueError):
        verify_set(token, other)
