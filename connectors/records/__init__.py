"""Records: the typed record per service schema, looked up by the schema URI a submission names.

```
record = parse_record(received.schema_uri, received.data, envelope=Envelope(item_key=sid))
```

Each service has its own module here (`connectors.records.hundesteuer`: the dog-tax record,
its validators, breed codes and field labels) that registers its pydantic model under its
schema URI with `register_record`; this package imports them all, so the registry is full as
soon as `connectors.records` is imported. A source such as the portal client stays generic: it
hands the schema URI, the data and the envelope (ids, attachment types) to `parse_record`.

Bad data raises `SubmissionInvalid` (a `BusinessRuleError` carrying FIT-Connect `Problem`s,
German texts naming each field by the record's label), ready for the source's reject.
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
    record_error,
    today_of,
    years_before,
)
from connectors.records._problems import (
    PROBLEM_BASE,
    Problem,
    SubmissionInvalid,
    from_validation_error,
    problem,
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
    "CamelRecord",
    "Envelope",
    "Problem",
    "RecordType",
    "SubmissionInvalid",
    "check_email",
    "check_iban",
    "check_postal_code",
    "check_text",
    "from_validation_error",
    "hundesteuer",
    "parse_record",
    "problem",
    "record_error",
    "record_type",
    "register_record",
    "registered_schemas",
    "today_of",
    "years_before",
]
