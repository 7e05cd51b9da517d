"""EakteClient against the real sandbox e-Akte: put-by-key, idempotency, conflicts, faults."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from amtsbote import ApplicationError, ReviewRequired
from connectors.archive import EakteClient, EakteSettings
from tests.fixtures.eakte import EakteServer


def settings_for(eakte: EakteServer, **overrides: object) -> EakteSettings:
    values: dict[str, object] = {"base_url": eakte.base_url, "token": SecretStr(eakte.token)}
    values.update(overrides)
    return EakteSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def archive(eakte: EakteServer) -> Iterator[EakteClient]:
    with EakteClient(settings_for(eakte)) as client:
        yield client


def new_az() -> str:
    return f"HST-2026-{uuid.uuid4().hex[:8]}"


def akte(eakte: EakteServer, az: str) -> dict[str, object]:
    for item in eakte.export()["akten"]:
        if item["aktenzeichen"] == az:
            return dict(item)
    raise KeyError(az)


def test_put_creates_akte_and_is_idempotent(eakte: EakteServer, archive: EakteClient) -> None:
    az = new_az()
    content = "Antrag auf Anmeldung – Weiß".encode()
    first = archive.put_document(az, "antrag", "antrag äöü.json", "application/json", content)
    assert first.created and first.sha256 == hashlib.sha256(content).hexdigest()
    again = archive.put_document(az, "antrag", "antrag äöü.json", "application/json", content)
    assert not again.created and again.sha256 == first.sha256

    docs = akte(eakte, az)["documents"]
    assert isinstance(docs, list) and len(docs) == 1  # exactly once
    (info,) = archive.list_documents(az)
    assert (info.key, info.filename, info.mime_type, info.size) == (
        "antrag",
        "antrag äöü.json",
        "application/json",
        len(content),
    )
    stored = archive.get_document(az, "antrag")
    assert stored is not None and stored.content == content
    assert stored.filename == "antrag äöü.json" and stored.mime_type == "application/json"


def test_ensure_akte(archive: EakteClient) -> None:
    az = new_az()
    assert archive.ensure_akte(az) is True
    assert archive.ensure_akte(az) is False
    assert archive.list_documents(az) == []


def test_other_content_under_same_key_needs_review(archive: EakteClient) -> None:
    az = new_az()
    archive.put_document(az, "bescheid", "bescheid.pdf", "application/pdf", b"%PDF-1 one")
    with pytest.raises(ReviewRequired) as info:
        archive.put_document(az, "bescheid", "bescheid.pdf", "application/pdf", b"%PDF-1 two")
    exc = info.value
    assert exc.code == "archive-conflict"
    assert exc.facts["existingSha256"] == hashlib.sha256(b"%PDF-1 one").hexdigest()
    assert exc.facts["newSha256"] == hashlib.sha256(b"%PDF-1 two").hexdigest()
    stored = archive.get_document(az, "bescheid")
    assert stored is not None and stored.content == b"%PDF-1 one"  # nothing overwritten


def test_missing_documents_and_akten(archive: EakteClient) -> None:
    az = new_az()
    assert archive.list_documents(az) == []
    assert archive.get_document(az, "nichts") is None


def test_wrong_token(eakte: EakteServer) -> None:
    with EakteClient(settings_for(eakte, token=SecretStr("wrong"))) as client:
        with pytest.raises(ApplicationError) as info:
            client.ensure_akte(new_az())
    assert info.value.code == "auth"


def test_server_errors_are_retryable(eakte_faults: EakteServer, archive: EakteClient) -> None:
    eakte_faults.set_faults(error_rate=1.0)
    with pytest.raises(ApplicationError) as info:
        archive.put_document(new_az(), "k", "k.txt", "text/plain", b"x")
    assert info.value.code == "archive-unavailable"


def test_timeout_is_retryable(eakte_faults: EakteServer) -> None:
    eakte_faults.set_faults(latency_ms=1500)
    with EakteClient(settings_for(eakte_faults, read_timeout_s=0.3)) as client:
        with pytest.raises(ApplicationError) as info:
            client.ensure_akte(new_az())
    assert info.value.code == "archive-timeout"


def test_unreachable(eakte: EakteServer) -> None:
    with EakteClient(settings_for(eakte, base_url="http://127.0.0.1:9")) as client:
        with pytest.raises(ApplicationError) as info:
            client.list_documents("X")
    assert info.value.code == "archive-unreachable"


def test_bad_name_is_a_bug_not_a_retry_cure(archive: EakteClient) -> None:
    with pytest.raises(ApplicationError) as info:
        archive.ensure_akte("mit\x01steuerzeichen")
    assert info.value.code == "archive-http-400"
