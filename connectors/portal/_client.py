"""The receiver side of a FIT-Connect-style submission API: list, fetch, decrypt, accept, reply.

The portal is the queue (design principle 1): a submission stays ``submitted`` until we accept
or reject it, so `list_new` is the inbox and every write is idempotent by the submission id —
`accept` and `reject` first look into the case's event log and do nothing if the same decision
is already there; `reply` is keyed by its ``replyId``.

Error translation at this edge (design principle 2):

- transport errors, timeouts, 5xx, 429, a 401 that survives one fresh token, and 4xx problem
  answers to our own requests (a bug or misconfiguration, not the citizen's fault) →
  `ApplicationError` (retried by the flow);
- anything wrong *in the submission* — undecryptable, tampered, hash mismatch, malformed JSON,
  schema or business-rule violation, missing or broken attachment — → `SubmissionInvalid`
  (a `BusinessRuleError` carrying FIT-Connect problems for `reject`);
- a decision that contradicts the portal's state (accepting what is already rejected) →
  `ReviewRequired`.

Only ids, sizes, hashes and event types are logged; never data contents.

`PortalClient` is one class put together from its parts, one module per concern:
`_http` (token cache, requests, error mapping), `_eventlog` (paged, verified event log),
`_inbox` (list, fetch, decrypt, verify, callback registration), `_events` (accept, reject,
reply); the values it hands out are in `_models`.
"""

from __future__ import annotations

from connectors.portal._events import Events
from connectors.portal._inbox import Inbox

__all__ = ["PortalClient"]


class PortalClient(Inbox, Events):
    """Sync client of the portal's receiver API (httpx), with OAuth token caching.

    Use as a context manager or call `close()`. One client per thread.

    Args:
        settings: Where and who we are; the private keys are loaded once here.
        transport: An httpx transport (tests only).
        clock: Returns Unix time; used for token expiry (tests only).
    """
