"""The record registry: a schema URI names its record, and the portal client needs no other.

A second service's record is declared here, in the test, from the public API only; a real
portal submission naming its schema comes back from `received.record()` as that record, with
its own German field labels in the problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import pytest
from pydantic import SecretStr, field_validator

import connectors.portal
from connectors.portal import PortalClient, PortalSettings
from connectors.records import (
    PROBLEM_BASE,
    CamelRecord,
    Envelope,
    SubmissionInvalid,
    check_postal_code,
    check_text,
    parse_record,
    record_type,
    register_record,
    registered_schemas,
)
from connectors.records import _registry as registry
from connectors.records.hundesteuer import HUNDESTEUER_SCHEMA_URI, DogTaxApplication
from sandbox.portal import SenderClient
from tests.fixtures.portal import PortalHandle

BIN_SCHEMA = "https://schema.example/sperrmuell-anmeldung/2.0.0.json"
BIN_DATA: dict[str, Any] = {"street": "Hauptstraße 1", "postalCode": "44623", "items": 3}


class BulkWaste(CamelRecord):
    """Sperrmüll-Anmeldung: a record that is not dog tax."""

    item_key: str
    street: str
    postal_code: str
    items: int
    with_pdf: bool

    @field_validator("street", mode="before")
    @classmethod
    def _street(cls, v: Any) -> str:
        return check_text(v)

    @field_validator("postal_code", mode="before")
    @classmethod
    def _postal_code(cls, v: Any) -> str:
        return check_postal_code(v)


def _bulk_envelope(envelope: Envelope) -> Mapping[str, Any]:
    return {"itemKey": envelope.item_key, "withPdf": "application/pdf" in envelope.attachment_types}


@pytest.fixture
def bulk_waste(monkeypatch: pytest.MonkeyPatch) -> type[BulkWaste]:
    """BulkWaste registered for this test only (the registry is restored afterwards)."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    return register_record(
        BIN_SCHEMA,
        BulkWaste,
        field_labels={"street": "Straße", "postalCode": "Postleitzahl"},
        from_envelope=_bulk_envelope,
    )


def test_hundesteuer_is_registered_on_import() -> None:
    assert HUNDESTEUER_SCHEMA_URI in registered_schemas()
    assert record_type(HUNDESTEUER_SCHEMA_URI) is DogTaxApplication


def test_parse_from_bytes_with_envelope_and_labels(bulk_waste: type[BulkWaste]) -> None:
    assert BIN_SCHEMA in registered_schemas()
    rec = parse_record(
        BIN_SCHEMA,
        json.dumps(BIN_DATA).encode(),
        envelope=Envelope("sub-9", attachment_types=("application/pdf",)),
    )
    assert isinstance(rec, bulk_waste)
    assert (rec.item_key, rec.postal_code, rec.items, rec.with_pdf) == ("sub-9", "44623", 3, True)

    with pytest.raises(SubmissionInvalid) as info:
        parse_record(BIN_SCHEMA, {**BIN_DATA, "postalCode": "00999"}, envelope=Envelope("k"))
    (p,) = info.value.problems
    assert (p.code, p.field) == ("postcode-invalid", "postalCode")
    assert p.detail.startswith("Postleitzahl: ")  # the label this record registered


def test_bad_input_is_submission_invalid(bulk_waste: type[BulkWaste]) -> None:
    with pytest.raises(SubmissionInvalid) as info:
        parse_record("https://schema.example/unknown.json", BIN_DATA)
    assert info.value.problems[0].type == PROBLEM_BASE + "unsupported-schema"
    assert info.value.code == "schema-unsupported"
    with pytest.raises(SubmissionInvalid) as info:
        record_type("https://schema.example/unknown.json")
    assert info.value.code == "schema-unsupported"
    with pytest.raises(SubmissionInvalid) as info:
        parse_record(BIN_SCHEMA, b'{"street": ')
    assert (info.value.code, info.value.problems[0].type) == (
        "data-syntax",
        PROBLEM_BASE + "syntax-violation",
    )
    with pytest.raises(SubmissionInvalid) as info:
        parse_record(BIN_SCHEMA, [1, 2])
    assert info.value.code == "format-invalid"


def test_a_schema_keeps_its_record(bulk_waste: type[BulkWaste]) -> None:
    assert register_record(BIN_SCHEMA, bulk_waste) is bulk_waste  # the same again: fine
    with pytest.raises(ValueError, match="already has the record BulkWaste"):
        register_record(BIN_SCHEMA)(DogTaxApplication)


def test_portal_exports_nothing_of_dog_tax() -> None:
    names = set(connectors.portal.__all__)
    assert not names & {"DogTaxApplication", "parse_application", "BREEDS", "FIELD_LABELS"}
    assert not hasattr(PortalClient, "to_application")


def _settings(portal: PortalHandle, **overrides: Any) -> PortalSettings:
    return PortalSettings(
        base_url=portal.base_url,
        destination_id=portal.destination_id,
        client_id=portal.receiver.client_id,
        client_secret=SecretStr(portal.receiver.client_secret),
        private_keys_file=portal.receiver_keys_path,
        **overrides,
    )


@pytest.fixture
def sender(portal: PortalHandle) -> Iterator[SenderClient]:
    with portal.sender_client() as client:
        yield client


def _bulk_schema(meta: dict[str, Any]) -> None:
    meta["contentStructure"]["data"]["submissionSchema"]["schemaUri"] = BIN_SCHEMA


def test_portal_submission_of_another_service(
    portal: PortalHandle, sender: SenderClient, bulk_waste: type[BulkWaste]
) -> None:
    ref = sender.submit_application(BIN_DATA, tamper_metadata=_bulk_schema)
    with PortalClient(_settings(portal)) as client:
        received = client.fetch(ref["submissionId"])
        rec = received.record(today=date(2026, 11, 22))
    assert isinstance(rec, bulk_waste)
    assert (rec.item_key, rec.street, rec.with_pdf) == (ref["submissionId"], "Hauptstraße 1", False)


def test_settings_can_restrict_the_destination_to_one_schema(
    portal: PortalHandle, sender: SenderClient, bulk_waste: type[BulkWaste]
) -> None:
    ref = sender.submit_application(BIN_DATA, tamper_metadata=_bulk_schema)
    with PortalClient(_settings(portal, schema_uri=HUNDESTEUER_SCHEMA_URI)) as client:
        with pytest.raises(SubmissionInvalid) as info:
            client.fetch(ref["submissionId"])
    assert info.value.code == "schema-unsupported"
    assert info.value.submission_id == ref["submissionId"]
