"""Portal connector: receive citizens' submissions from a FIT-Connect-style service portal.

```
with PortalClient(PortalSettings()) as portal:       # env AMTSBOTE_PORTAL_*
    for ref in portal.list_new():
        try:
            received = portal.fetch(ref.submission_id)   # decrypted, hashes verified
            record = received.record()                   # by its schema: connectors.records
        except SubmissionInvalid as exc:                 # the citizen's data is bad
            portal.reject(ref.submission_id, ref.case_id, exc.problems)
            continue
        ...                                              # enter, file, notify
        receipt = portal.accept(received)                # signed SET: keep it for the audit
```

Letters to the citizen do not go through the portal: FIT-Connect has no reply endpoint; they
travel over the submission's ``replyChannel`` (`connectors.sources.ReplyChannels`).

The client knows no service: `received.record()` validates the data into the record that
`connectors.records` registered for the schema URI the submission names.

Errors: `SubmissionInvalid` (a `BusinessRuleError` carrying FIT-Connect `Problem`s; defined
in `connectors.records`, re-exported here) for anything wrong in a submission;
`ApplicationError` when the portal misbehaves; `ReviewRequired` when a decision contradicts
the portal's state. `verify_callback` checks the portal's HMAC-signed new-submission
callbacks; `register_callback` sets the callback URL on the destination.

What follows the published Submission API v1 and what the sandbox does: docs/fit-connect.md.
"""

from __future__ import annotations

from connectors.portal._callbacks import (
    CallbackRejected,
    ReplayGuard,
    check_callback_url,
    sign_callback,
    verify_callback,
)
from connectors.portal._client import PortalClient
from connectors.portal._models import (
    ACCEPT,
    REJECT,
    AuthenticationTags,
    EventResult,
    PortalEvent,
    ReceivedAttachment,
    ReceivedSubmission,
    SubmissionHeld,
    SubmissionRef,
)
from connectors.portal._settings import PortalSettings
from connectors.records import (
    PROBLEM_BASE,
    Problem,
    SubmissionInvalid,
    from_validation_error,
    problem,
)

__all__ = [
    "ACCEPT",
    "PROBLEM_BASE",
    "REJECT",
    "AuthenticationTags",
    "CallbackRejected",
    "EventResult",
    "PortalClient",
    "PortalEvent",
    "PortalSettings",
    "Problem",
    "ReceivedAttachment",
    "ReceivedSubmission",
    "ReplayGuard",
    "SubmissionHeld",
    "SubmissionInvalid",
    "SubmissionRef",
    "check_callback_url",
    "from_validation_error",
    "problem",
    "sign_callback",
    "verify_callback",
]
