"""Portal connector: receive citizens' submissions from a FIT-Connect-style service portal.

```
with PortalClient(PortalSettings()) as portal:       # env AMTSBOTE_PORTAL_*
    for ref in portal.list_new():
        try:
            received = portal.fetch(ref.submission_id)   # decrypted, hashes verified
            application = portal.to_application(received)  # DogTaxApplication
        except SubmissionInvalid as exc:                 # the citizen's data is bad
            portal.reject(ref.submission_id, ref.case_id, exc.problems)
            continue
        ...                                              # enter, file, notify
        receipt = portal.accept(received)                # signed SET: keep it for the audit
        portal.reply(ref.case_id, reply_id, "Ihr Bescheid", [ReplyAttachment(...)])
```

Errors: `SubmissionInvalid` (a `BusinessRuleError` carrying FIT-Connect `Problem`s) for
anything wrong in a submission; `ApplicationError` when the portal misbehaves;
`ReviewRequired` when a decision contradicts the portal's state. `verify_callback` checks the
portal's HMAC-signed new-submission callbacks.
"""

from __future__ import annotations

from connectors.portal._callbacks import (
    CallbackRejected,
    ReplayGuard,
    sign_callback,
    verify_callback,
)
from connectors.portal._client import (
    ACCEPT,
    REJECT,
    AuthenticationTags,
    EventResult,
    PortalClient,
    PortalEvent,
    ReceivedAttachment,
    ReceivedSubmission,
    ReplyAttachment,
    ReplyResult,
    SubmissionRef,
)
from connectors.portal._codes import BREEDS, Breed, breed_by_code
from connectors.portal._problems import (
    PROBLEM_BASE,
    Problem,
    SubmissionInvalid,
    from_validation_error,
    problem,
)
from connectors.portal._records import (
    Dog,
    DogTaxApplication,
    Owner,
    SepaMandate,
    parse_application,
)
from connectors.portal._settings import HUNDESTEUER_SCHEMA_URI, PortalSettings

__all__ = [
    "ACCEPT",
    "BREEDS",
    "HUNDESTEUER_SCHEMA_URI",
    "PROBLEM_BASE",
    "REJECT",
    "AuthenticationTags",
    "Breed",
    "CallbackRejected",
    "Dog",
    "DogTaxApplication",
    "EventResult",
    "Owner",
    "PortalClient",
    "PortalEvent",
    "PortalSettings",
    "Problem",
    "ReceivedAttachment",
    "ReceivedSubmission",
    "ReplayGuard",
    "ReplyAttachment",
    "ReplyResult",
    "SepaMandate",
    "SubmissionInvalid",
    "SubmissionRef",
    "breed_by_code",
    "from_validation_error",
    "parse_application",
    "problem",
    "sign_callback",
    "verify_callback",
]
