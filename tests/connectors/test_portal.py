"""PortalClient against the real sandbox portal: list, fetch, decrypt, validate, decide.

Submissions are filed with the sandbox's own sender client (the same protocol the citizen
form uses). The session portal accumulates submissions of all tests, so each test works with
the ids it created.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import structlog
from fastapi import FastAPI, Request, Response
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from pypdf import PdfWriter

from amtsbote import (
    ApplicationError,
    BusinessRuleError,
    LoginRefused,
    ReviewRequired,
    is_retryable,
)
from connectors.portal import (
    ACCEPT,
    PROBLEM_BASE,
    REJECT,
    PortalClient,
    PortalSettings,
    ReplayGuard,
    SubmissionHeld,
    SubmissionInvalid,
    verify_callback,
)
from connectors.portal._crypto import build_set
from connectors.records import RulesBroken
from sandbox._common import serve_in_thread
from sandbox.portal import SenderClient, encrypt_part
from tests.fixtures.portal import PortalHandle

TODAY = date(2026, 11, 22)
DATA: dict[str, Any] = {
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
        "name": "Bello 🐕",
        "breed": "LABR",
        "birthDate": "2024-05-03",
        "chipNumber": "276098106543210",
        "ownedSince": "2026-10-01",
    },
    "sepaMandate": {"accountHolder": "Jürgen Weiß", "iban": "DE02120300000000202051"},
}


def make_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


PDF = make_pdf()


def listed(breed: str = "ROTT") -> dict[str, Any]:
    d = copy.deepcopy(DATA)
    d["dog"]["breed"] = breed
    return d


def settings_for(portal: PortalHandle, **overrides: Any) -> PortalSettings:
    values: dict[str, Any] = {
        "base_url": portal.base_url,
        "destination_id": portal.destination_id,
        "client_id": portal.receiver.client_id,
        "client_secret": SecretStr(portal.receiver.client_secret),
        "private_keys_file": portal.receiver_keys_path,
        "read_timeout_s": 10.0,
    }
    values.update(overrides)
    return PortalSettings(**values)


@pytest.fixture(scope="module")
def sender(portal: PortalHandle) -> Iterator[SenderClient]:
    with portal.sender_client() as client:
        yield client


@pytest.fixture
def client(portal: PortalHandle) -> Iterator[PortalClient]:
    with PortalClient(settings_for(portal)) as c:
        yield c


def invalid_on_fetch(client: PortalClient, sid: str) -> SubmissionInvalid:
    with pytest.raises(SubmissionInvalid) as info:
        client.fetch(sid)
    assert info.value.submission_id == sid
    return info.value


# --- the main walk ------------------------------------------------------------------------


def test_round_trip_fetch_validate_accept(
    portal: PortalHandle, sender: SenderClient, client: PortalClient
) -> None:
    ref = sender.submit_application(DATA)
    sid, case_id = ref["submissionId"], ref["caseId"]

    listed_ids = [r.submission_id for r in client.list_new()]
    assert sid in listed_ids

    received = client.fetch(sid)
    assert received.case_id == case_id
    assert received.data_json == DATA
    assert received.data_sha512 == hashlib.sha512(received.data).hexdigest()
    assert received.attachments == []
    assert "Jürgen" not in repr(received)  # personal data stays out of reprs

    app = received.record(today=TODAY)
    assert app.reference == sid and app.case_id == case_id
    assert app.owner.family_name == "Weiß" and app.dog.name == "Bello 🐕"

    result = client.accept(received)
    assert result.created and result.event_type == ACCEPT
    assert portal.submission(sid)["state"] == "accepted"
    assert sid not in [r.submission_id for r in client.list_new()]

    log = client.events(case_id)
    assert [e.event_type.rsplit("/", 1)[-1] for e in log] == [
        "create-submission",
        "submit-submission",
        "accept-submission",
    ]
    assert log[-1].token == result.set_token  # the signed receipt we keep is the stored one
    assert log[-1].payload["authenticationTags"] == received.auth_tags.as_dict()

    again = client.accept(received)  # idempotent: nothing sent, the stored SET returned
    assert not again.created and again.set_token == result.set_token
    assert portal.submission(sid)["eventCounts"]["accept-submission"] == 1

    # the answer goes over the reply channel the metadata names, never through the portal
    assert received.metadata["replyChannel"] == {"eMail": {"address": "j.weiss@example.org"}}
    assert not hasattr(client, "reply")


def test_listed_breed_with_pdf_certificate(
    portal: PortalHandle, sender: SenderClient, client: PortalClient
) -> None:
    ref = sender.submit_application(
        listed(), [("versicherungsnachweis.pdf", "application/pdf", PDF)]
    )
    received = client.fetch(ref["submissionId"])
    (att,) = received.attachments
    assert att.attachment_id == ref["attachmentIds"][0]
    assert (att.filename, att.mime_type, att.content) == (
        "versicherungsnachweis.pdf",
        "application/pdf",
        PDF,
    )
    assert set(received.auth_tags.attachments) == {att.attachment_id}
    app = received.record(today=TODAY)
    assert app.has_insurance_certificate and app.dog.is_listed
    assert client.accept(received).created
    assert portal.submission(ref["submissionId"])["state"] == "accepted"


def test_listed_breed_without_certificate_is_accepted_then_refused_by_letter(
    portal: PortalHandle, sender: SenderClient, client: PortalClient
) -> None:
    """A missing insurance certificate is a business rule, not a technical problem: the
    receipt is accept-submission, never reject-submission; the record is there for the letter."""
    ref = sender.submit_application(listed("PITB"))
    sid, case_id = ref["submissionId"], ref["caseId"]
    received = client.fetch(sid)
    with pytest.raises(RulesBroken) as info:
        received.record(today=TODAY)
    exc = info.value
    assert exc.code == "insurance-missing" and "Pitbull-Terrier" in exc.message
    assert exc.record is not None and exc.record.reference == sid

    result = client.accept(received)
    assert result.created and result.event_type == ACCEPT
    counts = portal.submission(sid)["eventCounts"]
    assert portal.submission(sid)["state"] == "accepted"
    assert counts.get("reject-submission", 0) == 0
    assert all("problems" not in e.payload for e in client.events(case_id))


def test_invalid_data_is_rejected_once_with_all_problems(
    portal: PortalHandle, sender: SenderClient, client: PortalClient
) -> None:
    bad = copy.deepcopy(DATA)
    bad["sepaMandate"]["iban"] = "DE02120300000000202052"  # a business rule: not sent
    bad["owner"]["postalCode"] = "00999"
    del bad["owner"]["city"]
    ref = sender.submit_application(bad)
    sid, case_id = ref["submissionId"], ref["caseId"]
    received = client.fetch(sid)
    with pytest.raises(SubmissionInvalid) as info:
        received.record(today=TODAY)
    exc = info.value
    assert sorted(exc.codes) == ["field-missing", "postcode-invalid"]
    assert (exc.submission_id, exc.case_id) == (sid, case_id)
    assert {p.type for p in exc.problems} == {PROBLEM_BASE + "schema-violation"}

    result = client.reject(sid, case_id, exc.problems)
    assert result.created and result.event_type == REJECT
    assert portal.submission(sid)["state"] == "rejected"
    stored = client.events(case_id)[-1]
    assert stored.payload["problems"] == [p.as_dict() for p in exc.problems]

    again = client.reject(sid, case_id, exc.problems)
    assert not again.created and again.set_token == result.set_token
    assert portal.submission(sid)["eventCounts"]["reject-submission"] == 1

    with pytest.raises(ReviewRequired) as conflict:  # accepting what is rejected needs a human
        client.accept(received)
    assert conflict.value.code == "portal-decision-conflict"


# --- broken submissions: the sender's problem, a BusinessRuleError with a FIT-Connect problem --


def _flip(segment: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_tampered_ciphertext(sender: SenderClient, client: PortalClient) -> None:
    key = sender.encryption_key()
    token = encrypt_part(json.dumps(DATA).encode(), key, "application/json")
    parts = token.split(".")
    parts[3] = _flip(parts[3])
    ref = sender.submit_application(DATA, raw_parts={"data": ".".join(parts)})
    exc = invalid_on_fetch(client, ref["submissionId"])
    (p,) = exc.problems
    assert p.type == PROBLEM_BASE + "encryption-issue"
    assert (p.instance, p.code) == ("data", "jwe-decrypt")
    assert isinstance(exc, BusinessRuleError)


def test_encrypted_to_another_key_is_held_not_rejected(
    sender: SenderClient, client: PortalClient
) -> None:
    real = sender.encryption_key()
    other = RSAKey.generate_key(2048, private=True).as_dict(private=False)
    # same kid as the real key, so only the unwrap itself can notice: our key file may hold a
    # wrong key under that kid, so the submission waits for an admin instead of a rejection
    other.update({"kid": real["kid"], "alg": "RSA-OAEP-256"})
    token = encrypt_part(json.dumps(DATA).encode(), other, "application/json")
    ref = sender.submit_application(DATA, raw_parts={"metadata": token})
    with pytest.raises(SubmissionHeld) as held:
        client.fetch(ref["submissionId"])
    assert (held.value.code, held.value.part, held.value.kid) == (
        "jwe-key-unwrap",
        "metadata",
        real["kid"],
    )
    assert isinstance(held.value, ApplicationError) and not isinstance(
        held.value, BusinessRuleError
    )
    assert held.value.since is not None  # from the service's signed submit-submission event
    assert abs((datetime.now(UTC) - held.value.since).total_seconds()) < 120

    other["kid"] = "some-other-kid"
    token = encrypt_part(json.dumps(DATA).encode(), other, "application/json")
    ref = sender.submit_application(DATA, raw_parts={"data": token})
    with pytest.raises(SubmissionHeld) as held:
        client.fetch(ref["submissionId"])
    # a kid none of our keys has: a key we never had, or dropped too early
    assert (held.value.code, held.value.part, held.value.kid) == (
        "jwe-unknown-kid",
        "data",
        "some-other-kid",
    )


def test_hash_mismatch(sender: SenderClient, client: PortalClient) -> None:
    def wrong_hash(meta: dict[str, Any]) -> None:
        meta["contentStructure"]["data"]["hash"]["content"] = "0" * 128

    ref = sender.submit_application(DATA, tamper_metadata=wrong_hash)
    exc = invalid_on_fetch(client, ref["submissionId"])
    (p,) = exc.problems
    assert p.type == PROBLEM_BASE + "hash-mismatch" and p.instance == "data"
    assert (
        p.detail == "Ein Teil des Antrags wurde bei der Übertragung verändert (Prüfsumme falsch)."
    )


def test_attachment_hash_mismatch(sender: SenderClient, client: PortalClient) -> None:
    def wrong_hash(meta: dict[str, Any]) -> None:
        meta["contentStructure"]["attachments"][0]["hash"]["content"] = "f" * 128

    ref = sender.submit_application(
        listed(), [("n.pdf", "application/pdf", PDF)], tamper_metadata=wrong_hash
    )
    exc = invalid_on_fetch(client, ref["submissionId"])
    assert [(p.code, p.instance) for p in exc.problems] == [
        ("hash-mismatch", f"attachment:{ref['attachmentIds'][0]}")
    ]


def test_data_that_is_not_json(sender: SenderClient, client: PortalClient) -> None:
    ref = sender.submit_application(None, data_bytes=b'{"owner": {"givenName": ')
    exc = invalid_on_fetch(client, ref["submissionId"])
    assert exc.problems[0].type == PROBLEM_BASE + "syntax-violation"
    # the problems can go straight into a rejection
    assert client.reject(ref["submissionId"], ref["caseId"], exc.problems).created


def test_other_schema_is_refused(sender: SenderClient, client: PortalClient) -> None:
    def other_schema(meta: dict[str, Any]) -> None:
        schema = meta["contentStructure"]["data"]["submissionSchema"]
        schema["schemaUri"] = "https://schema.example/anything/9.9.9.json"

    ref = sender.submit_application(DATA, tamper_metadata=other_schema)
    with pytest.raises(SubmissionInvalid) as info:
        client.fetch(ref["submissionId"]).record(today=TODAY)
    assert info.value.problems[0].type == PROBLEM_BASE + "unsupported-schema"


def test_attachment_that_is_not_a_pdf(sender: SenderClient, client: PortalClient) -> None:
    ref = sender.submit_application(
        listed(), [("nachweis.pdf", "application/pdf", b"%PDF-1.7 this is no pdf at all")]
    )
    exc = invalid_on_fetch(client, ref["submissionId"])
    (p,) = exc.problems
    assert p.type == PROBLEM_BASE + "incorrect-attachment"
    assert p.instance == f"attachment:{ref['attachmentIds'][0]}"
    assert p.detail == "Die Anlage ist keine lesbare PDF-Datei."


def test_oversized_attachment(portal: PortalHandle, sender: SenderClient) -> None:
    ref = sender.submit_application(listed(), [("n.pdf", "application/pdf", PDF)])
    with PortalClient(settings_for(portal, max_attachment_bytes=len(PDF) - 1)) as small:
        exc = invalid_on_fetch(small, ref["submissionId"])
    assert exc.problems[0].code == "attachment-too-large"


# --- listing and auth -----------------------------------------------------------------------


def test_list_pages_through_everything(portal: PortalHandle, sender: SenderClient) -> None:
    mine = [sender.submit_application(DATA)["submissionId"] for _ in range(5)]
    with PortalClient(settings_for(portal, page_size=2)) as paged:
        ids = [r.submission_id for r in paged.list_new()]
        assert len(ids) == len(set(ids))
        assert [i for i in ids if i in mine] == mine  # all of them, oldest first
        assert len(list(paged.list_new(limit=3))) == 3


def test_token_is_cached_and_renewed_before_expiry(portal: PortalHandle) -> None:
    now = [1_000_000.0]
    with PortalClient(settings_for(portal), clock=lambda: now[0]) as c:
        c.destination()
        c.destination()
        assert c.token_fetches == 1
        now[0] += 1800 - 30  # within the refresh margin of the 1800 s token
        c.destination()
        assert c.token_fetches == 2


def test_expired_token_is_refreshed_once(portal: PortalHandle, client: PortalClient) -> None:
    client.destination()
    assert portal.expire_tokens() >= 1
    assert client.destination()["destinationId"] == portal.destination_id
    assert client.token_fetches == 2


def test_wrong_client_secret_is_a_refused_login(portal: PortalHandle) -> None:
    with PortalClient(settings_for(portal, client_secret=SecretStr("nope"))) as c:
        with pytest.raises(LoginRefused) as info:
            list(c.list_new())
    # OAuth2 invalid_client: never retried (a retry could lock the client)
    assert not is_retryable(info.value) and info.value.account == portal.receiver.client_id
    assert "nope" not in str(info.value)


def test_unknown_submission_is_an_application_error(client: PortalClient) -> None:
    with pytest.raises(ApplicationError) as info:
        client.fetch(str(uuid.uuid4()))
    assert info.value.code == "submission-not-found"


# --- the portal misbehaving: ApplicationError (retried) ---------------------------------------


def test_maintenance_is_retryable(portal_clean: PortalHandle, client: PortalClient) -> None:
    client.destination()
    portal_clean.set_faults(maintenance=True)
    with pytest.raises(ApplicationError) as info:
        list(client.list_new())
    assert info.value.code == "portal-unavailable"


def test_timeout_is_retryable(portal_clean: PortalHandle) -> None:
    portal_clean.set_faults(latency_ms=1500)
    with PortalClient(settings_for(portal_clean, read_timeout_s=0.3)) as c:
        with pytest.raises(ApplicationError) as info:
            c.destination()
    assert info.value.code == "portal-timeout"


def test_unreachable_portal(portal: PortalHandle) -> None:
    with PortalClient(settings_for(portal, base_url="http://127.0.0.1:9")) as c:
        with pytest.raises(ApplicationError) as info:
            c.destination()
    assert info.value.code == "portal-unreachable"


def test_forged_event_in_the_log_is_refused(
    portal: PortalHandle, sender: SenderClient, client: PortalClient
) -> None:
    ref = sender.submit_application(DATA)
    genuine = client.events(ref["caseId"])[0]
    forger = RSAKey.import_key(
        {
            **RSAKey.generate_key(2048, private=True).as_dict(private=True),
            "kid": genuine.header["kid"],
        }
    )
    forged = build_set(
        event="submit-submission",
        payload={},
        issuer="https://portal.musterstadt.example",
        submission_id=ref["submissionId"],
        case_id=ref["caseId"],
        signing_key=forger,
    )
    with pytest.raises(ApplicationError) as info:
        client._verify_event(forged, ref["caseId"])
    assert info.value.code == "portal-event-signature"


def test_missing_keys_are_a_config_error(portal: PortalHandle) -> None:
    with pytest.raises(ApplicationError) as info:
        PortalClient(settings_for(portal, private_keys_file=None))
    assert info.value.code == "portal-keys"


# --- callbacks end to end ---------------------------------------------------------------------


def test_callback_round_trip(portal_clean: PortalHandle, sender: SenderClient) -> None:
    guard = ReplayGuard()
    received: list[dict[str, Any]] = []
    raw: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()
    app = FastAPI()

    @app.post("/callback")
    async def callback(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        raw.append((headers, body))
        received.append(verify_callback(headers, body, portal_clean.callback_secret, seen=guard))
        arrived.set()
        return Response(status_code=200)

    with serve_in_thread(app) as served:
        portal_clean.set_callback(served.base_url + "/callback")
        ref = sender.submit_application(DATA)
        assert arrived.wait(10)
    assert received[0]["submissions"][0]["submissionId"] == ref["submissionId"]
    headers, body = raw[0]
    with pytest.raises(BusinessRuleError) as info:  # the same request once more: a replay
        verify_callback(headers, body, portal_clean.callback_secret, seen=guard)
    assert info.value.code == "callback-replayed"


def test_logs_carry_ids_not_personal_data(sender: SenderClient, client: PortalClient) -> None:
    bad = copy.deepcopy(DATA)
    bad["sepaMandate"]["iban"] = "DE02120300000000202052"
    good_ref = sender.submit_application(DATA)
    bad_ref = sender.submit_application(bad)
    with structlog.testing.capture_logs() as events:
        received = client.fetch(good_ref["submissionId"])
        received.record(today=TODAY)
        client.accept(received)
        bad_received = client.fetch(bad_ref["submissionId"])
        with pytest.raises(RulesBroken):
            bad_received.record(today=TODAY)
        client.accept(bad_received)
    text = json.dumps(events, default=str, ensure_ascii=False)
    assert good_ref["submissionId"] in text and "iban-checksum" in text
    for personal in ("Jürgen", "Weiß", "Hauptstraße", "DE0212030000000020205", "276098106543210"):
        assert personal not in text


def test_private_keys_from_a_secret_json(portal: PortalHandle, sender: SenderClient) -> None:
    keys = SecretStr(portal.receiver_keys_path.read_text(encoding="utf-8"))
    ref = sender.submit_application(DATA)
    with PortalClient(settings_for(portal, private_keys_file=None, private_keys=keys)) as c:
        assert c.fetch(ref["submissionId"]).data_json == DATA
