"""The citizen's status page and the admin export.

Like FIT-Connect, the portal carries no letters back: the authority answers over the reply
channel the citizen chose (e-mail, De-Mail, …, or post). The status page shows the technical
state of the submission only, and, when the sandbox runs a webmail and the citizen asked for
the answer by e-mail, a link to that mailbox. The export carries ids, states and event types,
never plaintext, so tests can check exactly-once without reading personal data.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import quote

from joserfc import jws

from sandbox.portal._base import PortalBase, Problem
from sandbox.portal._codes import EVENT_REJECT

__all__ = ["StatusAndExport"]


class StatusAndExport(PortalBase):
    """The case's technical state for the citizen, and the export for tests."""

    callback_stats: dict[str, int]

    # --- citizen status and admin export --------------------------------------------------

    def remember_reply_mailbox(self, case_id: str, address: str) -> None:
        """Note the e-mail address of a case for the status page's link (only with a webmail)."""
        if not self.config.webmail_url or not address:
            return
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO reply_mailboxes (case_id, address) VALUES (?, ?)",
                (case_id, address),
            )

    def _mailbox_url(self, conn: Any, case_id: str) -> str | None:
        if not self.config.webmail_url:
            return None
        row = conn.execute(
            "SELECT address FROM reply_mailboxes WHERE case_id=?", (case_id,)
        ).fetchone()
        if row is None:
            return None
        return f"{self.config.webmail_url.rstrip('/')}/mailbox/{quote(row[0], safe='@')}"

    def status(self, case_id: str) -> dict[str, Any]:
        """What the citizen's status page shows: the state, a technical rejection's problems and
        the link to the citizen's mailbox in the sandbox webmail (``mailboxUrl``, or None)."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM submissions WHERE case_id=? ORDER BY seq DESC LIMIT 1", (case_id,)
            ).fetchone()
            if row is None:
                raise Problem(404, "case-not-found", "Vorgang nicht gefunden")
            reject = conn.execute(
                "SELECT token FROM events WHERE case_id=? AND event_type=? ORDER BY seq DESC",
                (case_id, EVENT_REJECT),
            ).fetchone()
            mailbox_url = self._mailbox_url(conn, case_id)
        problems: list[dict[str, Any]] = []
        if reject is not None:
            # Stored only after its signature was verified: read the claims without re-checking.
            claims = json.loads(jws.extract_compact(reject[0].encode()).payload)
            problems = list(claims["events"][EVENT_REJECT].get("problems", []))
        return {
            "caseId": case_id,
            "submissionId": row["submission_id"],
            "state": row["state"],
            "createdAt": row["created_at"],
            "submittedAt": row["submitted_at"],
            "problems": problems,
            "mailboxUrl": mailbox_url,
        }

    def export(self) -> dict[str, Any]:
        """Everything tests need to check exactly-once, without any plaintext."""
        with self.store.transaction() as conn:
            subs = conn.execute("SELECT * FROM submissions ORDER BY seq").fetchall()
            out = []
            counts: Counter[str] = Counter()
            for s in subs:
                events = [
                    r[0]
                    for r in conn.execute(
                        "SELECT event_type FROM events WHERE submission_id=? ORDER BY seq",
                        (s["submission_id"],),
                    )
                ]
                short_types = [e.rsplit("/", 1)[-1] for e in events]
                counts[s["state"]] += 1
                out.append(
                    {
                        "submissionId": s["submission_id"],
                        "caseId": s["case_id"],
                        "destinationId": s["destination_id"],
                        "serviceType": json.loads(s["service_type"]).get("identifier"),
                        "state": s["state"],
                        "createdAt": s["created_at"],
                        "submittedAt": s["submitted_at"],
                        "attachments": json.loads(s["announced"]),
                        "eventTypes": short_types,
                        "eventCounts": dict(Counter(short_types)),
                    }
                )
        return {
            "submissions": out,
            "counts": dict(counts),
            "callbacks": dict(self.callback_stats),
        }
