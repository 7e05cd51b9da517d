"""Records: the typed record per service schema, looked up by the schema URI a submission names.

```
record = parse_record(received.schema_uri, received.data, envelope=Envelope(item_key=sid))
```

Each service has its own module here (`connectors.records.hundesteuer`: the dog-tax record,
its validators, breed codes and field labels) that registers its pydantic model under its
schema URI with `register_record`; this package imports them all, so the registry is full as
soon as `connectors.records` is imported. A source such as the portal client stays generic: it
hands the schema URI, the data and the envelope (ids, attachment types) to `parse_record`.

Data that breaks the schema raises `SubmissionInvalid` (FIT-Connect `Problem`s with documented
types, German texts naming each field by the record's label), ready for the source's
reject-submission. Data that is sound but breaks a business rule raises `RulesBroken`: its
`Finding`s and the record as it came in; the source accepts such a submission and the engine
sends the rejection letter.
`CamelRecord` and the ``check_*`` functions are the building blocks of a new record.
"""

from __future__ import annotations

from connectors.records import hundesteuer
from connectors.records._fields import (
    CamelRecord,
    check_email,
    check_iban,
    check_postal_code,
    check_text,
    checks_rules,
    record_error,
    today_of,
    years_before,
)
from connectors.records._problems import (
    PROBLEM_BASE,
    TITLES,
    Finding,
    Problem,
    RulesBroken,
    SubmissionInvalid,
    from_validation_error,
    problem,
    split_validation_error,
)
from connectors.records._registry import (
    Envelope,
    RecordType,
    parse_record,
    record_type,
    register_record,
    registered_schemas,
)

__all__ = [
    "PROBLEM_BASE",
    "TITLES",
    "CamelRecord",
    "Envelope",
    "Finding",
    "Problem",
    "RecordType",
    "RulesBroken",
    "SubmissionInvalid",
    "check_email",
    "check_iban",
    "check_postal_code",
    "check_text",
    "checks_rules",
    "from_validation_error",
    "hundesteuer",
    "parse_record",
    "problem",
    "record_error",
    "record_type",
    "register_record",
    "registered_schemas",
    "split_validation_error",
    "today_of",
    "years_before",
]
