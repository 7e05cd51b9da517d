"""Which typed record a submission's data becomes, looked up by the schema URI it names.

A source (the portal client, later a mailbox) knows an item's schema URI, its data and a few
facts of the envelope (its business key, its case, the kinds of its attachments), but nothing
of any one service. Each service's record module registers its pydantic model here under its
schema URI, with the German field labels the citizen reads in a rejection and a function that
takes what the record needs from the envelope. `parse_record` does the rest, so a second
service is one new module, not a change to the source:

```
register_record(SCHEMA_URI, MyRecord, field_labels={"owner.city": "Ort"})
record = parse_record(SCHEMA_URI, data, envelope=Envelope(item_key=submission_id))
```
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from connectors.records._problems import (
    RulesBroken,
    SubmissionInvalid,
    from_validation_error,
    problem,
    split_validation_error,
)

__all__ = [
    "Envelope",
    "RecordType",
    "parse_record",
    "record_type",
    "register_record",
    "registered_schemas",
]

M = TypeVar("M", bound=type[BaseModel])


@dataclass(frozen=True)
class Envelope:
    """What a source knows of an item besides its data.

    Attributes:
        item_key: The business key (the portal's submission id).
        case_id: The case the item belongs to (the portal's case id), if any.
        attachment_types: MIME types of the attachments that came with it, each already
            decrypted and checked by the source.
    """

    item_key: str
    case_id: str = ""
    attachment_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordType:
    """One registered record: its schema, model, field labels and envelope mapping."""

    schema_uri: str
    model: type[BaseModel]
    field_labels: Mapping[str, str] = field(default_factory=dict)
    from_envelope: Callable[[Envelope], Mapping[str, Any]] | None = None


_REGISTRY: dict[str, RecordType] = {}


@overload
def register_record(
    schema_uri: str,
    model: None = None,
    *,
    field_labels: Mapping[str, str] | None = None,
    from_envelope: Callable[[Envelope], Mapping[str, Any]] | None = None,
) -> Callable[[M], M]: ...


@overload
def register_record(
    schema_uri: str,
    model: M,
    *,
    field_labels: Mapping[str, str] | None = None,
    from_envelope: Callable[[Envelope], Mapping[str, Any]] | None = None,
) -> M: ...


def register_record(
    schema_uri: str,
    model: M | None = None,
    *,
    field_labels: Mapping[str, str] | None = None,
    from_envelope: Callable[[Envelope], Mapping[str, Any]] | None = None,
) -> M | Callable[[M], M]:
    """Register `model` as the record of the service schema `schema_uri`.

    Call it with the model, or use it as a class decorator without.

    Args:
        schema_uri: The schema URI a submission's metadata names for its data.
        model: The pydantic model the data parses into.
        field_labels: German label per data field (JSON path, e.g. ``"owner.postalCode"``),
            named in the problems a citizen reads.
        from_envelope: Returns the fields the record takes from the envelope (its ids, whether
            a certificate is attached …); they are laid over the data before validation.

    Returns:
        The model (or the decorator).

    Raises:
        ValueError: Another model is already registered for `schema_uri`.
    """

    def add(cls: M) -> M:
        known = _REGISTRY.get(schema_uri)
        if known is not None and known.model is not cls:
            raise ValueError(
                f"schema {schema_uri} already has the record {known.model.__qualname__}"
            )
        _REGISTRY[schema_uri] = RecordType(schema_uri, cls, dict(field_labels or {}), from_envelope)
        return cls

    return add if model is None else add(model)


def registered_schemas() -> list[str]:
    """The schema URIs that have a record, sorted."""
    return sorted(_REGISTRY)


def _entry(schema_uri: str) -> RecordType:
    entry = _REGISTRY.get(schema_uri)
    if entry is None:
        raise SubmissionInvalid(
            [
                problem(
                    "unsupported-schema",
                    "Das Antragsformular wird von dieser Stelle nicht unterstützt.",
                    code="schema-unsupported",
                )
            ]
        )
    return entry


def record_type(schema_uri: str) -> type[BaseModel]:
    """The record model registered for `schema_uri`.

    Raises:
        SubmissionInvalid: ``schema-unsupported`` (FIT-Connect ``unsupported-schema``): no
            record is registered for it, so a submission naming it cannot be taken.
    """
    return _entry(schema_uri).model


def parse_record(
    schema_uri: str,
    data: bytes | Mapping[str, Any] | Any,
    *,
    envelope: Envelope | None = None,
    today: date | None = None,
) -> BaseModel:
    """Validate a submission's data into the record registered for its schema.

    Args:
        schema_uri: The schema the data claims to follow.
        data: The decrypted data: JSON bytes, or the JSON already parsed (an object).
        envelope: What the source knows besides the data; the record takes its fields from it.
        today: The day to check dates against (default: today).

    Returns:
        The validated record (an instance of `record_type(schema_uri)`).

    Raises:
        SubmissionInvalid: Technical: the schema has no record (``schema-unsupported``), the
            bytes are no JSON (``data-syntax``), or the data breaks the schema: one problem per
            error found, in German, each naming the field by the record's label. Goes back
            to the sender with reject-submission.
        RulesBroken: The data is sound but breaks business rules: one finding per rule; its
            `record` is the record validated without them. The submission is accepted and
            the citizen receives a rejection letter.
    """
    entry = _entry(schema_uri)
    if isinstance(data, bytes | bytearray):
        try:
            data = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SubmissionInvalid(
                [
                    problem(
                        "syntax-violation",
                        "Die Antragsdaten sind kein gültiges JSON.",
                        code="data-syntax",
                    )
                ]
            ) from None
    if not isinstance(data, Mapping):
        raise from_validation_error(
            ValidationError.from_exception_data(
                entry.model.__name__,
                [{"type": "dict_type", "loc": (), "input": None}],
            ),
            field_labels=entry.field_labels,
        )
    extra = entry.from_envelope(envelope) if envelope and entry.from_envelope else {}
    payload = {**data, **extra}
    context: dict[str, Any] = {"today": today} if today else {}
    try:
        return entry.model.model_validate(payload, context=context or None)
    except ValidationError as exc:
        problems, findings = split_validation_error(exc, field_labels=entry.field_labels)
    if problems:
        raise SubmissionInvalid(problems)
    lenient = {**context, "rules": False}
    try:
        # fields as entered, but the rules on the whole record, which pydantic skipped above
        # because a field failed: every reason goes into the one letter
        record = entry.model.model_validate(payload, context={**lenient, "record_rules": True})
    except ValidationError as exc:
        more, also = split_validation_error(exc, field_labels=entry.field_labels)
        if more:  # a record whose rules hide a schema check: technical after all
            raise SubmissionInvalid(more) from None
        findings += [f for f in also if f not in findings]
        try:
            record = entry.model.model_validate(payload, context=lenient)
        except ValidationError as exc2:
            raise from_validation_error(exc2, field_labels=entry.field_labels) from None
    raise RulesBroken(findings, record=record)
