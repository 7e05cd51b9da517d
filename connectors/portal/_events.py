"""Our decisions in the case's event log: accept, reject.

Every write is idempotent by the submission id: `accept` and `reject` first look into the
case's event log and do nothing if the same decision is already there. The Submission API has
no reply: letters to the citizen go over the metadata's reply channel
(`connectors.sources.ReplyChannels`). A decision that contradicts the portal's state
(accepting what is already rejected) raises `ReviewRequired`: a person must look.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

from amtsbote import ReviewRequired, get_logger
from connectors.portal._crypto import build_set
from connectors.portal._eventlog import EventLog
from connectors.portal._models import (
    ACCEPT,
    REJECT,
    EventResult,
    PortalEvent,
    ReceivedSubmission,
)
from connectors.records import Problem

__all__ = ["Events"]

log = get_logger(__name__)

JOSE: Final = "application/jose"


class Events(EventLog):
    """The writing half of `PortalClient`: `accept`, `reject` (reads via `EventLog`)."""

    def _decision(self, case_id: str, submission_id: str) -> PortalEvent | None:
        for event in self.events(case_id):
            if event.submission_id == submission_id and event.event_type in (ACCEPT, REJECT):
                return event
        return None

    def _post_decision(
        self, *, event: str, payload: dict[str, Any], submission_id: str, case_id: str
    ) -> EventResult:
        existing = self._decision(case_id, submission_id)
        if existing is not None:
            if existing.event_type != event:
                raise _conflict(submission_id, existing.event_type)
            log.info(
                "portal.decision_exists",
                submission_id=submission_id,
                event_type=event.rsplit("/", 1)[-1],
                jti=existing.jti,
            )
            return EventResult(existing.token, False, event, existing.jti)
        jti = str(uuid.uuid4())
        token = build_set(
            event=event,
            payload=payload,
            issuer=self.settings.destination_id,
            submission_id=submission_id,
            case_id=case_id,
            signing_key=self._sig_key,
            now=self._clock(),
            jti=jti,
        )
        resp = self._send(
            "POST",
            self._api(f"cases/{case_id}/events"),
            accept=(200, 201, 202, 204, 409),
            content=token.encode("ascii"),
            headers={"Content-Type": JOSE},
        )
        if resp.status_code in (201, 202, 204):
            log.info(
                "portal.decision_sent",
                submission_id=submission_id,
                event_type=event.rsplit("/", 1)[-1],
                jti=jti,
            )
            return EventResult(token, True, event, jti)
        # 200 (the portal already had it) or 409 (it had a decision): read what is stored
        stored = self._decision(case_id, submission_id)
        if stored is not None and stored.event_type == event:
            return EventResult(stored.token, False, event, stored.jti)
        if resp.status_code == 409 or stored is not None:
            raise _conflict(submission_id, stored.event_type if stored else "unknown")
        return EventResult(token, True, event, jti)

    def accept(self, received: ReceivedSubmission) -> EventResult:
        """Accept a submission: a signed SET with the authentication tags of every part.

        Idempotent: if the case's log already holds an accept for this submission, nothing
        is sent and the stored SET is returned.

        Returns:
            The SET (store it with the audit trail: it is the signed receipt).

        Raises:
            ReviewRequired: The submission was already rejected.
            ApplicationError: The portal misbehaved or refused the event.
        """
        return self._post_decision(
            event=ACCEPT,
            payload={"authenticationTags": received.auth_tags.as_dict()},
            submission_id=received.submission_id,
            case_id=received.case_id,
        )

    def reject(
        self, submission_id: str, case_id: str, problems: Sequence[Problem | dict[str, Any]]
    ) -> EventResult:
        """Reject a submission with problems the citizen reads. Idempotent like `accept`.

        Args:
            submission_id: The submission.
            case_id: Its case.
            problems: At least one; `Problem` objects (e.g. ``SubmissionInvalid.problems``) or
                dicts with ``type``, ``title``, ``detail``, ``instance``.

        Raises:
            ValueError: No problems given.
            ReviewRequired: The submission was already accepted.
        """
        items = [p.as_dict() if isinstance(p, Problem) else dict(p) for p in problems]
        if not items:
            raise ValueError("reject needs at least one problem")
        return self._post_decision(
            event=REJECT,
            payload={"problems": items},
            submission_id=submission_id,
            case_id=case_id,
        )


def _conflict(submission_id: str, existing: str) -> ReviewRequired:
    state = "angenommen" if existing == ACCEPT else "abgelehnt"
    return ReviewRequired(
        f"Die Einreichung wurde im Portal bereits {state}; bitte prüfen.",
        code="portal-decision-conflict",
        facts={"submissionId": submission_id, "existingEvent": existing.rsplit("/", 1)[-1]},
    )
