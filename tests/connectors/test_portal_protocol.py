"""Submission API v1 conformance of receiver and sandbox: compression, key rotation, event log,
attachment-only submissions, the token endpoint.

Tests that change the destination (key rotation, a part swapped in the store) run against a
portal of their own, so the session portal's keys stay as every other test expects them.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwe
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from amtsbote import ApplicationError, LoginRefused, is_retryable
from connectors.portal import PortalClient, SubmissionHeld, SubmissionInvalid
from connectors.portal._crypto import PartError, decrypt_part, jose_header
from connectors.sources import PortalSource, SourceItem
from sandbox._common import serve_in_thread
from sandbox.portal import (
    PortalConfig,
    SenderClient,
    create_app,
    encrypt_part,
    seal_submission,
)
from sandbox.portal._envelope import compresses
from tests.connectors.test_portal import DATA, PDF, listed, settings_for
from tests.fixtures.portal import PortalHandle


@pytest.fixture(scope="module")
def sender(portal: PortalHandle) -> Iterator[SenderClient]:
    with portal.sender_client() as client:
        yield client


@pytest.fixture
def client(portal: PortalHandle) -> Iterator[PortalClient]:
    with PortalClient(settings_for(portal)) as c:
        yield c


SET_SCHEMA = "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json"


class OwnPortal:
    """A portal of one test module, with its app (for tampering with the store)."""

    def __init__(self, handle: PortalHandle, app: FastAPI) -> None:
        self.handle = handle
        self.app = app

    def admin(self, method: str, path: str) -> httpx.Response:
        return httpx.request(
            method,
            self.handle.base_url + path,
            headers={"authorization": f"Bearer {self.handle.admin_token}"},
            timeout=10,
        )


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnPortal]:
    config = PortalConfig(data_dir=tmp_path_factory.mktemp("own-portal"), key_size=2048, seed=3)
    app = create_app(config)
    with serve_in_thread(app) as served:
        yield OwnPortal(PortalHandle(served.base_url, config), app)


def _headers(received_tokens: list[str]) -> list[dict[str, Any]]:
    return [h for h in (jose_header(t, segments=5) for t in received_tokens) if h is not None]


# --- zip: "DEF" ---------------------------------------------------------------------------


def test_deflated_parts_are_inflated_with_a_bound() -> None:
    key = RSAKey.import_key({**RSAKey.generate_key(2048, private=True).as_dict(True), "kid": "k"})
    public = {**key.as_dict(private=False), "key_ops": ["wrapKey"], "alg": "RSA-OAEP-256"}
    plain = json.dumps(DATA).encode() * 50
    token = encrypt_part(plain, public, "application/json", compress=True)
    header = jose_header(token, segments=5)
    assert header is not None and header["zip"] == "DEF"
    assert len(token) < len(plain)  # really compressed
    assert decrypt_part(token, {"k": key}, instance="data")[0] == plain
    bomb = encrypt_part(b"\0" * (4 * 1024 * 1024), public, "application/pdf", compress=True)
    with pytest.raises(PartError) as info:
        decrypt_part(bomb, {"k": key}, instance="attachment:a", max_plaintext=1024 * 1024)
    assert info.value.problem.code == "jwe-too-large"
    assert info.value.problem.type.endswith("/encryption-issue")


def test_other_compression_is_refused() -> None:
    key = RSAKey.import_key({**RSAKey.generate_key(2048, private=True).as_dict(True), "kid": "k"})
    registry = jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM"])
    token = jwe.encrypt_compact(
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k"}, b"x", key, registry=registry
    )
    _, *rest = token.split(".")
    fake = base64.urlsafe_b64encode(
        json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k", "zip": "GZ"}).encode()
    )
    forged = ".".join([fake.decode().rstrip("="), *rest])
    with pytest.raises(PartError) as info:
        decrypt_part(forged, {"k": key}, instance="data")
    assert info.value.problem.code == "jwe-compression"


def test_sender_compresses_a_deterministic_share() -> None:
    names = [str(uuid.UUID(int=i)) for i in range(400)]
    picked = [n for n in names if compresses(n, b"content", 0.3)]
    assert 0.2 < len(picked) / len(names) < 0.4
    assert picked == [n for n in names if compresses(n, b"content", 0.3)]  # same every time
    assert not any(compresses(n, b"content", 0.0) for n in names)
    assert all(compresses(n, b"content", 1.0) for n in names)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_receiver_opens_compressed_and_plain_submissions(
    portal: PortalHandle, client: PortalClient, share: float
) -> None:
    with SenderClient(
        portal.base_url,
        portal.sender.client_id,
        portal.sender.client_secret,
        destination_id=portal.destination_id,
        compress_share=share,
    ) as sender:
        ref = sender.submit_application(listed(), [("n.pdf", "application/pdf", PDF)])
    api = portal.receiver_api()
    try:
        sub = api.submission(ref["submissionId"])
        att = api.http.get(
            f"/v1/submissions/{ref['submissionId']}/attachments/{ref['attachmentIds'][0]}"
        ).text
    finally:
        api.close()
    headers = _headers([sub["encryptedMetadata"], sub["encryptedData"], att])
    assert [h.get("zip") for h in headers] == [("DEF" if share else None)] * 3
    received = client.fetch(ref["submissionId"])
    assert received.data_json == listed()
    assert received.attachments[0].content == PDF
    assert client.accept(received).created


# --- several keys by kid, rotation ----------------------------------------------------------


def test_sender_side_refuses_keys_without_wrap_key(portal: PortalHandle) -> None:
    signing = {k: v for k, v in portal.receiver_keys["signing"].items() if k != "d"}
    with pytest.raises(ValueError, match="wrapKey"):
        seal_submission(b"{}", [], {**signing, "key_ops": ["verify"]})
    enc = {k: v for k, v in portal.receiver_keys["encryption"].items() if k != "d"}
    with pytest.raises(ValueError, match="wrapKey"):
        seal_submission(b"{}", [], {k: v for k, v in enc.items() if k != "key_ops"})
    sealed = seal_submission(b"{}", [], {**enc, "key_ops": ["wrapKey"]})
    assert sealed.encrypted_data is not None


def test_rotated_key_still_opens_older_submissions(own: OwnPortal) -> None:
    portal = own.handle
    old_sender = portal.sender_client()  # caches the key it saw first: sends to the old one
    old_kid = old_sender.encryption_key()["kid"]
    rotated = own.admin("POST", "/admin/keys/rotate").json()
    new_kid = rotated["encryptionKid"]
    assert new_kid != old_kid and rotated["previousKids"] == [old_kid]
    with old_sender:
        before = old_sender.submit_application(listed(), [("n.pdf", "application/pdf", PDF)])
    with portal.sender_client() as fresh:
        assert fresh.encryption_key()["kid"] == new_kid
        after = fresh.submit_application(DATA)
    # the old public key is still answered by kid while it is in use
    with portal.sender_client() as probe:
        old = probe.request("GET", f"/v1/destinations/{portal.destination_id}/keys/{old_kid}")
        assert old.json()["key_ops"] == ["wrapKey"]
    # retiring it now would strand the submission still encrypted to it
    assert own.admin("DELETE", f"/admin/keys/{old_kid}").status_code == 409

    settings = settings_for(portal)  # the key file now holds the new and the previous key
    with PortalClient(settings) as receiver:
        got_old = receiver.fetch(before["submissionId"])
        got_new = receiver.fetch(after["submissionId"])
        assert got_old.data_json == listed() and got_new.data_json == DATA
        assert got_old.attachments[0].content == PDF

    # a receiver that dropped the old key too early: held (not rejected) until it is back
    keys = json.loads(Path(settings.private_keys_file or "").read_text(encoding="utf-8"))
    only_new = json.dumps({"encryption": keys["encryption"], "signing": keys["signing"]})
    with PortalClient(settings_for(portal, private_keys=SecretStr(only_new))) as early:
        with pytest.raises(SubmissionHeld) as info:
            early.fetch(before["submissionId"])
    assert (info.value.code, info.value.kid) == ("jwe-unknown-kid", old_kid)
    assert portal.submission(before["submissionId"])["state"] == "submitted"

    with PortalClient(settings) as receiver:
        receiver.accept(got_old)
        receiver.accept(got_new)
    assert own.admin("DELETE", f"/admin/keys/{old_kid}").status_code == 204
    with portal.sender_client() as probe:
        with pytest.raises(httpx.HTTPStatusError) as gone:
            probe.request("GET", f"/v1/destinations/{portal.destination_id}/keys/{old_kid}")
        assert gone.value.response.status_code == 404


def test_key_list_setting_and_the_old_single_key_form(portal: PortalHandle) -> None:
    keys = portal.receiver_keys
    listed_form = json.dumps({"encryption": [keys["encryption"]], "signing": keys["signing"]})
    single_form = json.dumps({"encryption": keys["encryption"], "signing": keys["signing"]})
    for raw in (listed_form, single_form):
        with PortalClient(settings_for(portal, private_keys=SecretStr(raw))) as c:
            assert list(c._enc_keys) == [keys["encryption"]["kid"]]
    twice = json.dumps({"encryption": [keys["encryption"]] * 2, "signing": keys["signing"]})
    with pytest.raises(ApplicationError) as info:
        PortalClient(settings_for(portal, private_keys=SecretStr(twice)))
    assert info.value.code == "portal-keys"


# --- event log: paging, $schema, tags of submit-submission ------------------------------------


def test_event_log_is_paged(portal: PortalHandle, sender: SenderClient) -> None:
    ref = sender.submit_application(DATA)
    api = portal.receiver_api()
    try:
        url = f"/v1/cases/{ref['caseId']}/events"
        full = api.http.get(url).json()
        assert full["offset"] == 0 and full["count"] == full["totalCount"] == 2
        second = api.http.get(url, params={"offset": 1, "limit": 1}).json()
        assert second == {
            "offset": 1,
            "count": 1,
            "totalCount": 2,
            "eventLog": full["eventLog"][1:],
        }
        assert api.http.get(url, params={"limit": 501}).status_code == 400
    finally:
        api.close()
    with PortalClient(settings_for(portal, event_page_size=1)) as paged:
        received = paged.fetch(ref["submissionId"])
        paged.accept(received)
        events = paged.events(ref["caseId"])
    assert [e.event_type.rsplit("/", 1)[-1] for e in events] == [
        "create-submission",
        "submit-submission",
        "accept-submission",
    ]
    # every SET names the payload schema: the service's and the one we signed
    assert {e.claims.get("$schema") for e in events} == {SET_SCHEMA}


def test_submit_event_carries_the_tags_and_a_wrong_schema_is_refused(
    portal: PortalHandle, sender: SenderClient, client: PortalClient
) -> None:
    ref = sender.submit_application(listed(), [("n.pdf", "application/pdf", PDF)])
    received = client.fetch(ref["submissionId"])
    submit = next(e for e in client.events(ref["caseId"]) if "submit-submission" in e.event_type)
    assert submit.payload["authenticationTags"] == received.auth_tags.as_dict()
    api = portal.receiver_api()
    try:
        token = api.make_set(
            ref,
            "https://schema.fitko.de/fit-connect/events/accept-submission",
            {"authenticationTags": received.auth_tags.as_dict()},
            **{"$schema": "https://schema.fitko.de/fit-connect/set-payload/9.9.9/x.schema.json"},
        )
        resp = api.post_event(ref["caseId"], token)
        assert resp.status_code == 422 and "$schema" in resp.json()["title"]
        assert client.accept(received).created  # the right schema (ours) goes through
    finally:
        api.close()


def test_a_part_swapped_after_submit_is_a_technical_problem(own: OwnPortal) -> None:
    portal = own.handle
    with portal.sender_client() as sender:
        ref = sender.submit_application(DATA)
        key = sender.encryption_key()
    # the same data sealed again: same hash, other authentication tag — only the tag check
    # against the service's submit-submission event can notice
    again = encrypt_part(json.dumps(DATA, ensure_ascii=False).encode(), key, "application/json")
    store = own.app.state.portal.store
    with store.transaction() as conn:
        conn.execute(
            "UPDATE submissions SET encrypted_data=? WHERE submission_id=?",
            (again, ref["submissionId"]),
        )
    with PortalClient(settings_for(portal)) as receiver:
        with pytest.raises(SubmissionInvalid) as info:
            receiver.fetch(ref["submissionId"])
    assert [(p.code, p.instance) for p in info.value.problems] == [("auth-tag-mismatch", "data")]
    assert info.value.problems[0].type.endswith("/encryption-issue")


# --- attachment-only submissions ------------------------------------------------------------


def test_attachment_only_submission(portal: PortalHandle, sender: SenderClient) -> None:
    ref = sender.submit_application(
        None, [("antrag.pdf", "application/pdf", PDF)], without_data=True
    )
    api = portal.receiver_api()
    try:
        assert "encryptedData" not in api.submission(ref["submissionId"])
    finally:
        api.close()
    with PortalClient(settings_for(portal)) as c:
        received = c.fetch(ref["submissionId"])
        assert not received.has_data and received.data == b"" and received.data_json is None
        assert received.attachments[0].content == PDF
        assert "data" not in received.auth_tags.as_dict()
        with pytest.raises(SubmissionInvalid) as info:
            received.record()
        assert [p.code for p in info.value.problems] == ["data-missing"]
        assert c.accept(received).created  # the service takes tags without data
    # stored as a work item and read back, it is still an attachment-only submission
    source = PortalSource(PortalClient(settings_for(portal)), parse=lambda sub, on: sub.has_data)
    try:
        item = source.fetch(SourceItem(ref["submissionId"], {"case_id": ref["caseId"]}))
        again = source.decode(source.encode(item))
    finally:
        source.close()
    assert item.record is False and again.record is False
    assert again.attachments[0].content == PDF


# --- token endpoint -----------------------------------------------------------------------


def test_token_url_is_its_own_setting(portal: PortalHandle) -> None:
    with PortalClient(settings_for(portal, token_url=portal.base_url + "/token")) as c:
        assert c.destination()["destinationId"] == portal.destination_id
    # an auth host that is down: the API host alone does not help, and it is retryable
    with PortalClient(settings_for(portal, token_url="http://127.0.0.1:9/token")) as c:
        with pytest.raises(ApplicationError) as info:
            c.destination()
    assert info.value.code == "portal-unreachable" and is_retryable(info.value)


def test_oauth_errors_are_understood(portal: PortalHandle) -> None:
    with PortalClient(settings_for(portal, scope="manage-everything")) as c:
        with pytest.raises(ApplicationError) as info:
            c.destination()
    assert info.value.code == "portal-token-invalid-scope" and is_retryable(info.value)
    with PortalClient(settings_for(portal, client_id="unbekannt")) as c:
        with pytest.raises(LoginRefused):
            c.destination()
    resp = httpx.post(
        portal.base_url + "/token",
        data={"grant_type": "password", "client_id": portal.receiver.client_id},
    )
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"
