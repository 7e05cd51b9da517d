"""Contract of the sandbox portal's FIT-Connect-style API, exercised over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from joserfc import jwe, jws
from joserfc.jwk import RSAKey

from sandbox._common import serve_in_thread
from sandbox.portal import (
    EVENT_ACCEPT,
    EVENT_CREATE,
    EVENT_REJECT,
    EVENT_SUBMIT,
    HUNDESTEUER_SCHEMA_URI,
    PROBLEM_BASE,
    PortalConfig,
    create_app,
    encrypt_part,
)
from sandbox.portal._crypto import jwe_header
from sandbox.portal._web import file_application
from tests.fixtures.portal import PortalHandle, ReceiverAPI

DATA = {
    "owner": {
        "givenName": "Jürgen",
        "familyName": "Weiß",
        "birthDate": "1980-04-01",
        "street": "Hauptstraße",
        "houseNumber": "12a",
        "postalCode": "44623",
        "city": "Musterstadt",
        "email": "j.weiss@example.org",
    },
    "dog": {
        "name": "Bello",
        "breed": "ROTT",
        "birthDate": "2024-05-03",
        "chipNumber": "276098106543210",
        "ownedSince": "2026-10-01",
    },
    "sepaMandate": {"accountHolder": "Jürgen Weiß", "iban": "DE02120300000000202051"},
}
PDF = b"%PDF-1.4\n% Versicherungsnachweis\n%%EOF\n"


def _decrypt(token: str, private_jwk: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Decrypt with joserfc directly (independent of the sandbox helpers)."""
    key = RSAKey.import_key({k: v for k, v in private_jwk.items() if k != "key_ops"})
    registry = jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM", "DEF"])
    obj = jwe.decrypt_compact(token, key, registry=registry)
    return dict(obj.protected), bytes(obj.plaintext or b"")


def _assert_problem(resp: httpx.Response, status: int, name: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith(PROBLEM_BASE)
    if name:
        assert body["type"] == PROBLEM_BASE + name
    return dict(body)


@pytest.fixture
def receiver(portal: PortalHandle) -> Iterator[ReceiverAPI]:
    with portal.receiver_api() as api:
        yield api


def _file(portal: PortalHandle, **kwargs: Any) -> dict[str, Any]:
    with portal.sender_client() as client:
        return dict(
            client.submit_application(DATA, [("nachweis.pdf", "application/pdf", PDF)], **kwargs)
        )


# --- auth ---------------------------------------------------------------------------------


def test_token_for_both_clients(portal: PortalHandle) -> None:
    subscribe = "https://schema.fitko.de/fit-connect/oauth/scopes/subscribe-destinations"
    for creds, scope in ((portal.sender, "send:region:DE"), (portal.receiver, subscribe)):
        resp = httpx.post(
            portal.base_url + "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            },
        )
        assert resp.status_code == 200
        body = resp.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 1800
        assert body["scope"] == scope  # as documented for senders and subscribers
        assert len(body["access_token"]) >= 32


def test_wrong_secret_and_missing_token_are_401(portal: PortalHandle) -> None:
    resp = httpx.post(
        portal.base_url + "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": portal.receiver.client_id,
            "client_secret": "falsch",
        },
    )
    # the token endpoint speaks OAuth2 (RFC 6749 §5.2), not problem+json
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    assert resp.json()["error_description"] and resp.headers["cache-control"] == "no-store"
    _assert_problem(httpx.get(portal.base_url + "/v1/submissions"), 401, "unauthorized")
    resp = httpx.get(
        portal.base_url + "/v1/submissions", headers={"authorization": "Bearer erfunden"}
    )
    _assert_problem(resp, 401, "unauthorized")


def test_expired_token_is_401(tmp_path: Path) -> None:
    config = PortalConfig(data_dir=tmp_path, key_size=2048, token_lifetime_s=1)
    with serve_in_thread(create_app(config)) as served:
        token = httpx.post(
            served.base_url + "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": config.receiver_client_id,
                "client_secret": config.receiver_client_secret,
            },
        ).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        assert httpx.get(served.base_url + "/v1/submissions", headers=headers).status_code == 200
        time.sleep(1.2)
        resp = httpx.get(served.base_url + "/v1/submissions", headers=headers)
        _assert_problem(resp, 401, "unauthorized")
    keys = json.loads((tmp_path / "receiver-keys.json").read_text())
    assert set(keys) == {"encryption", "signing"} and "d" in keys["encryption"]


def test_sender_client_reauthenticates_after_tokens_expire(portal: PortalHandle) -> None:
    with portal.sender_client() as client:
        client.token()
        assert portal.expire_tokens() >= 1
        ref = client.submit_application(DATA)
    assert portal.submission(ref["submissionId"])["state"] == "submitted"


def test_roles_are_enforced_403(portal: PortalHandle) -> None:
    sender = {"authorization": f"Bearer {portal.token(receiver=False)}"}
    receiver = {"authorization": f"Bearer {portal.token(receiver=True)}"}
    _assert_problem(
        httpx.get(portal.base_url + "/v1/submissions", headers=sender), 403, "forbidden"
    )
    body = {
        "destinationId": portal.destination_id,
        "announcedAttachments": [],
        "serviceType": {"identifier": "urn:de:fim:leika:leistung:99108013001000"},
    }
    resp = httpx.post(portal.base_url + "/v1/submissions", json=body, headers=receiver)
    _assert_problem(resp, 403, "forbidden")


# --- destination and keys -----------------------------------------------------------------


def test_destination_and_public_keys(portal: PortalHandle) -> None:
    headers = {"authorization": f"Bearer {portal.token(receiver=False)}"}
    base = f"{portal.base_url}/v1/destinations/{portal.destination_id}"
    dest = httpx.get(base, headers=headers).json()
    assert dest["status"] == "active"
    assert dest["name"] == "Steueramt Musterstadt"
    schemas = dest["services"][0]["submissionSchemas"]
    assert schemas == [{"schemaUri": HUNDESTEUER_SCHEMA_URI, "mimeType": "application/json"}]
    enc = httpx.get(f"{base}/keys/{dest['encryptionKid']}", headers=headers).json()
    assert enc["alg"] == "RSA-OAEP-256" and enc["key_ops"] == ["wrapKey"]
    assert "d" not in enc and enc["n"] == portal.receiver_keys["encryption"]["n"]
    sig = httpx.get(f"{base}/keys/{dest['signingKid']}", headers=headers).json()
    assert sig["alg"] == "PS512" and "d" not in sig
    _assert_problem(httpx.get(f"{base}/keys/unbekannt", headers=headers), 404, "key-not-found")
    other = f"{portal.base_url}/v1/destinations/{uuid.uuid4()}"
    _assert_problem(httpx.get(other, headers=headers), 404, "destination-not-found")
    jwks = httpx.get(portal.base_url + "/.well-known/jwks.json").json()
    assert [k["alg"] for k in jwks["keys"]] == ["PS512"]
    assert all("d" not in k for k in jwks["keys"])


# --- sender flow and JWE round trip -------------------------------------------------------


def test_jwe_round_trip_with_hashes(portal: PortalHandle, receiver: ReceiverAPI) -> None:
    ref = _file(portal)
    sub = receiver.submission(ref["submissionId"])
    assert sub["caseId"] == ref["caseId"] and sub["state"] == "submitted"
    assert sub["serviceType"]["identifier"] == "urn:de:fim:leika:leistung:99108013001000"
    key = portal.receiver_keys["encryption"]
    header, meta_bytes = _decrypt(sub["encryptedMetadata"], key)
    header.pop("zip", None)  # some parts are compressed (see test_sender_compresses_a_share)
    assert header == {
        "alg": "RSA-OAEP-256",
        "enc": "A256GCM",
        "kid": key["kid"],
        "cty": "application/json",
    }
    meta = json.loads(meta_bytes)["contentStructure"]
    _, data = _decrypt(sub["encryptedData"], key)
    assert json.loads(data) == DATA
    assert meta["data"]["hash"] == {"type": "sha512", "content": hashlib.sha512(data).hexdigest()}
    assert meta["data"]["submissionSchema"]["schemaUri"] == HUNDESTEUER_SCHEMA_URI
    (att_meta,) = meta["attachments"]
    assert [att_meta["attachmentId"]] == sub["attachments"] == ref["attachmentIds"]
    resp = receiver.http.get(
        f"/v1/submissions/{ref['submissionId']}/attachments/{sub['attachments'][0]}"
    )
    assert resp.headers["content-type"].startswith("application/jose")
    att_header, content = _decrypt(resp.text, key)
    assert att_header["cty"] == "application/pdf"
    assert content == PDF
    assert att_meta["hash"]["content"] == hashlib.sha512(PDF).hexdigest()
    assert att_meta["filename"] == "nachweis.pdf" and att_meta["purpose"] == "attachment"


def test_listing_pages_in_submission_order(portal: PortalHandle, receiver: ReceiverAPI) -> None:
    with portal.sender_client() as client:
        mine = [client.submit_application(DATA)["submissionId"] for _ in range(5)]
    seen: list[str] = []
    offset = 0
    while True:
        resp = receiver.http.get(
            "/v1/submissions",
            params={"destinationId": portal.destination_id, "limit": 2, "offset": offset},
        )
        page = resp.json()
        assert page["offset"] == offset and page["count"] == len(page["submissions"]) <= 2
        assert all(s["destinationId"] == portal.destination_id for s in page["submissions"])
        seen += [s["submissionId"] for s in page["submissions"]]
        offset += page["count"]
        if offset >= page["totalCount"]:
            break
    assert [s for s in seen if s in mine] == mine
    assert len(seen) == len(set(seen))
    assert receiver.accept(mine[0]).status_code == 202
    assert mine[0] not in receiver.listed_ids()
    assert set(mine[1:]) <= set(receiver.listed_ids())
    resp = receiver.http.get("/v1/submissions", params={"limit": 0})
    _assert_problem(resp, 400, "invalid-request")


def test_submit_refused_until_attachments_are_there(
    portal: PortalHandle, receiver: ReceiverAPI
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as info:
        _file(portal, skip_attachments=[0])
    body = _assert_problem(info.value.response, 409, "missing-attachments")
    sid = info.value.request.url.path.rsplit("/", 1)[-1]
    assert body["instance"] == f"/v1/submissions/{sid}"
    assert portal.submission(sid)["state"] == "incomplete"
    assert sid not in receiver.listed_ids()
    _assert_problem(receiver.http.get(f"/v1/submissions/{sid}"), 404, "submission-not-found")


def test_malformed_jwe_rejected_but_wellformed_garbage_passes(
    portal: PortalHandle, receiver: ReceiverAPI
) -> None:
    for bad in ("kein-jwe", "a.b.c", "eyJhbGciOiJub25lIn0..x.y.z"):
        with pytest.raises(httpx.HTTPStatusError) as info:
            _file(portal, raw_parts={"data": bad})
        _assert_problem(info.value.response, 400, "invalid-jwe")
    with pytest.raises(httpx.HTTPStatusError) as info:
        _file(portal, raw_parts={"attachment:0": "x.y"})
    _assert_problem(info.value.response, 400, "invalid-jwe")
    # A well-formed JWE around garbage: the portal cannot tell, the receiver must.
    key = {k: v for k, v in portal.receiver_keys["encryption"].items() if k != "d"}
    for k in ("p", "q", "dp", "dq", "qi"):
        key.pop(k, None)
    garbage = encrypt_part(b"\x00kein json", key, "application/json")
    ref = _file(portal, raw_parts={"data": garbage})
    sub = receiver.submission(ref["submissionId"])
    assert _decrypt(sub["encryptedData"], portal.receiver_keys["encryption"])[1] == b"\x00kein json"


def test_submit_is_idempotent_and_final(portal: PortalHandle) -> None:
    headers = {"authorization": f"Bearer {portal.token(receiver=False)}"}
    with portal.sender_client() as client:
        ref = client.submit_application(DATA, submit=False)
        key = client.encryption_key()
    sid = ref["submissionId"]
    body = {
        "encryptedMetadata": encrypt_part(b"{}", key, "application/json"),
        "encryptedData": encrypt_part(b"{}", key, "application/json"),
    }
    url = f"{portal.base_url}/v1/submissions/{sid}"
    assert httpx.put(url, json=body, headers=headers).status_code == 202
    assert httpx.put(url, json=body, headers=headers).status_code == 200
    other = {**body, "encryptedData": encrypt_part(b"[]", key, "application/json")}
    _assert_problem(httpx.put(url, json=other, headers=headers), 409, "submission-state-invalid")
    assert portal.submission(sid)["eventCounts"] == {"create-submission": 1, "submit-submission": 1}
    resp = httpx.put(
        f"{url}/attachments/{uuid.uuid4()}", content=body["encryptedData"], headers=headers
    )
    _assert_problem(resp, 404, "attachment-not-found")


# --- events -------------------------------------------------------------------------------


def _verify(token: str, jwk: dict[str, Any]) -> dict[str, Any]:
    key = RSAKey.import_key({k: v for k, v in jwk.items() if k != "key_ops"})
    registry = jws.JWSRegistry(algorithms=["PS512"])
    obj = jws.deserialize_compact(token, key, registry=registry)
    assert obj.headers()["typ"] == "secevent+jwt"
    return dict(json.loads(obj.payload))


def test_accept_with_right_tags_and_signed_event_log(
    portal: PortalHandle, receiver: ReceiverAPI
) -> None:
    ref = _file(portal)
    resp = receiver.accept(ref["submissionId"])
    assert resp.status_code == 202
    assert portal.submission(ref["submissionId"])["state"] == "accepted"
    log = receiver.event_log(ref["caseId"])
    portal_key = httpx.get(portal.base_url + "/.well-known/jwks.json").json()["keys"][0]
    create, submit = (_verify(t, portal_key) for t in log[:2])
    accept = _verify(log[2], portal.receiver_keys["signing"])
    assert list(create["events"]) == [EVENT_CREATE] and list(submit["events"]) == [EVENT_SUBMIT]
    assert list(accept["events"]) == [EVENT_ACCEPT]
    for claims in (create, submit, accept):
        assert claims["sub"] == f"submission:{ref['submissionId']}"
        assert claims["txn"] == f"case:{ref['caseId']}"
    with pytest.raises(Exception, match="bad_signature"):
        _verify(log[2], portal_key)


def test_accept_with_wrong_tags_is_refused(portal: PortalHandle, receiver: ReceiverAPI) -> None:
    ref = _file(portal)
    sub = receiver.submission(ref["submissionId"])
    payload = receiver.accept_payload(sub)
    for broken in (
        {**payload["authenticationTags"], "data": "AAAAAAAAAAAAAAAAAAAAAA"},
        {**payload["authenticationTags"], "attachments": {}},
        {k: v for k, v in payload["authenticationTags"].items() if k != "metadata"},
    ):
        token = receiver.make_set(sub, EVENT_ACCEPT, {"authenticationTags": broken})
        resp = receiver.post_event(sub["caseId"], token)
        _assert_problem(resp, 422, "authentication-tags-mismatch")
    assert portal.submission(ref["submissionId"])["state"] == "submitted"
    assert len(receiver.event_log(ref["caseId"])) == 2


def test_set_signed_with_wrong_key_or_claims_is_refused(
    portal: PortalHandle, receiver: ReceiverAPI
) -> None:
    ref = _file(portal)
    sub = receiver.submission(ref["submissionId"])
    payload = receiver.accept_payload(sub)
    stranger = RSAKey.generate_key(2048, private=True).as_dict(private=True)
    stranger["kid"] = portal.receiver_keys["signing"]["kid"]
    resp = receiver.post_event(
        sub["caseId"], receiver.make_set(sub, EVENT_ACCEPT, payload, key=stranger)
    )
    _assert_problem(resp, 422, "invalid-signature")
    cases = [
        ({"iss": str(uuid.uuid4())}, 422),
        ({"txn": f"case:{uuid.uuid4()}"}, 422),
        ({"sub": "submission:" + str(uuid.uuid4())}, 404),
        ({"jti": "keine-uuid"}, 400),
        ({"events": {EVENT_ACCEPT: payload, EVENT_REJECT: {"problems": []}}}, 400),
        ({"events": {"https://schema.fitko.de/fit-connect/events/delete-submission": {}}}, 422),
    ]
    for claims, status in cases:
        token = receiver.make_set(sub, EVENT_ACCEPT, payload, **claims)
        _assert_problem(receiver.post_event(sub["caseId"], token), status)
    _assert_problem(receiver.post_event(sub["caseId"], "kein.set"), 422, "invalid-signature")
    assert portal.submission(ref["submissionId"])["state"] == "submitted"


def test_replays_and_repeats_are_idempotent_conflicts_409(
    portal: PortalHandle, receiver: ReceiverAPI
) -> None:
    ref = _file(portal)
    sub = receiver.submission(ref["submissionId"])
    token = receiver.make_set(sub, EVENT_ACCEPT, receiver.accept_payload(sub))
    assert receiver.post_event(sub["caseId"], token).status_code == 202
    assert receiver.post_event(sub["caseId"], token).status_code == 200  # same jti
    assert receiver.accept(ref["submissionId"]).status_code == 200  # new jti, same outcome
    problems = [{"type": "x", "title": "Ungültige IBAN"}]
    _assert_problem(receiver.reject(ref["submissionId"], problems), 409, "submission-state-invalid")
    entry = portal.submission(ref["submissionId"])
    assert entry["state"] == "accepted"
    assert entry["eventCounts"] == {
        "create-submission": 1,
        "submit-submission": 1,
        "accept-submission": 1,
    }


def test_reject_carries_problems(portal: PortalHandle, receiver: ReceiverAPI) -> None:
    ref = _file(portal)
    sub = receiver.submission(ref["submissionId"])
    _assert_problem(
        receiver.post_event(sub["caseId"], receiver.make_set(sub, EVENT_REJECT, {})),
        400,
        "invalid-event",
    )
    problems = [
        {
            "type": "https://schema.fitko.de/fit-connect/events/problems/invalid-data",
            "title": "IBAN ungültig",
            "detail": "Die Prüfziffer der IBAN stimmt nicht.",
            "instance": "data",
        }
    ]
    assert receiver.reject(ref["submissionId"], problems).status_code == 202
    assert receiver.reject(ref["submissionId"], problems).status_code == 200
    assert portal.submission(ref["submissionId"])["eventCounts"]["reject-submission"] == 1
    assert receiver.accept(ref["submissionId"]).status_code == 409
    assert ref["submissionId"] not in receiver.listed_ids()


# --- no replies: FIT-Connect answers over the metadata's reply channel -----------------------


def test_there_is_no_reply_endpoint_and_the_export_has_no_replies(
    portal: PortalHandle, receiver: ReceiverAPI
) -> None:
    ref = _file(portal)
    body = {"replyId": str(uuid.uuid4()), "title": "Ihr Hundesteuerbescheid"}
    url = f"/v1/cases/{ref['caseId']}/replies"
    assert receiver.http.post(url, json=body).status_code == 404
    assert receiver.http.get(url).status_code == 404
    assert receiver.accept(ref["submissionId"]).status_code == 202
    entry = portal.submission(ref["submissionId"])
    assert entry["state"] == "accepted" and "replies" not in entry
    page = httpx.get(f"{portal.base_url}/status/{ref['caseId']}")
    assert page.status_code == 200 and 'data-state="accepted"' in page.text
    assert "herunterladen" not in page.text
    gone = httpx.get(f"{portal.base_url}/status/{ref['caseId']}/antworten/{body['replyId']}/0")
    assert gone.status_code == 404


# --- callbacks, faults, export ------------------------------------------------------------


def test_new_submission_callback_with_hmac(portal_clean: PortalHandle) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    sink = FastAPI()

    @sink.post("/callback")
    async def callback(request: Request) -> dict[str, str]:
        received.append((dict(request.headers), await request.body()))
        return {"status": "ok"}

    secret = "geheimnis-fuer-rueckrufe-0123456789"
    with serve_in_thread(sink) as served:
        portal_clean.set_callback(served.base_url + "/callback", secret)
        ref = _file(portal_clean)
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(received) == 1
    headers, raw = received[0]
    timestamp = headers["callback-timestamp"]
    assert abs(int(timestamp) - time.time()) < 300
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha512).hexdigest()
    assert hmac.compare_digest(headers["callback-authentication"], expected)
    body = json.loads(raw)
    assert body["type"].endswith("/callbacks/new-submissions")
    assert body["submissions"] == [
        {
            "destinationId": portal_clean.destination_id,
            "submissionId": ref["submissionId"],
            "caseId": ref["caseId"],
        }
    ]


def test_callback_failure_never_blocks_submit(portal_clean: PortalHandle) -> None:
    portal_clean.set_callback("http://127.0.0.1:9/unreachable")
    ref = _file(portal_clean)
    assert portal_clean.submission(ref["submissionId"])["state"] == "submitted"


def test_fault_knobs_make_the_api_fail_but_not_admin(portal_clean: PortalHandle) -> None:
    portal_clean.set_faults(error_rate=1.0)
    resp = httpx.get(portal_clean.base_url + f"/v1/destinations/{portal_clean.destination_id}")
    assert resp.status_code in (500, 503)
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert isinstance(portal_clean.export()["submissions"], list)
    portal_clean.set_faults(error_rate=0.0, maintenance=True)
    assert httpx.get(portal_clean.base_url + "/hundesteuer").status_code == 503
    portal_clean.reset_faults()
    assert httpx.get(portal_clean.base_url + "/hundesteuer").status_code == 200


def test_admin_export_needs_token_and_holds_no_plaintext(portal: PortalHandle) -> None:
    assert httpx.get(portal.base_url + "/admin/export").status_code == 401
    ref = _file(portal)
    export = portal.export()
    text = json.dumps(export, ensure_ascii=False)
    assert ref["submissionId"] in text
    for secret_value in ("Jürgen", "Weiß", "DE02120300000000202051", "276098106543210"):
        assert secret_value not in text
    assert export["counts"]["submitted"] >= 1


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_form_compresses_the_configured_share(tmp_path: Path, share: float) -> None:
    app = create_app(PortalConfig(data_dir=tmp_path, key_size=2048, compress_share=share))
    core = app.state.portal
    file_application(core, DATA, [("nachweis.pdf", "application/pdf", PDF)])
    with core.store.transaction() as conn:
        row = conn.execute("SELECT encrypted_metadata, encrypted_data FROM submissions").fetchone()
        (att,) = conn.execute("SELECT jwe FROM attachments").fetchone()
    headers = [jwe_header(t) for t in (row[0], row[1], att)]
    assert [h.get("zip") if h else "broken" for h in headers] == [("DEF" if share else None)] * 3
    key = json.loads((tmp_path / "receiver-keys.json").read_text())["encryption"]
    assert json.loads(_decrypt(row[1], key)[1]) == DATA
    core.store.close()
