"""The receiver side of the portal: list and fetch submissions, record accept/reject events.

Events are Security Event Tokens (SET) signed with the receiver's key; an accept must carry the
authentication tags of every encrypted part, so the receiver proves it decrypted what was sent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sandbox.portal._base import PortalBase, Problem, insert_event, is_uuid
from sandbox.portal._codes import EVENT_ACCEPT, EVENT_REJECT
from sandbox.portal._crypto import auth_tag, verify_set

__all__ = ["ReceiverSide"]

log = logging.getLogger("sandbox.portal")

_FINAL_STATES = ("accepted", "rejected")


class ReceiverSide(PortalBase):
    """What the authority's receiver calls: the inbox, the ciphertext, the events."""

    def list_submissions(
        self, destination_id: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        """New submissions (state ``submitted``) in the order they were submitted."""
        if destination_id is not None:
            self._check_destination(destination_id)
        with self.store.transaction() as conn:
            total = conn.execute(
                "SELECT COUNT(*) FROM submissions WHERE state='submitted'"
            ).fetchone()[0]
            rows = conn.execute(
                "SELECT destination_id, submission_id, case_id FROM submissions"
                " WHERE state='submitted' ORDER BY submitted_seq LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        items = [{"destinationId": r[0], "submissionId": r[1], "caseId": r[2]} for r in rows]
        return {"submissions": items, "count": len(items), "offset": offset, "totalCount": total}

    def get_submission(self, sid: str) -> dict[str, Any]:
        """A submitted submission's ciphertext parts and ids."""
        with self.store.transaction() as conn:
            row = self._load(conn, sid)
        if row["state"] in ("incomplete", "deleted"):
            raise Problem(404, "submission-not-found", "Einreichung nicht gefunden")
        return {
            "destinationId": row["destination_id"],
            "submissionId": sid,
            "caseId": row["case_id"],
            "serviceType": json.loads(row["service_type"]),
            "state": row["state"],
            "attachments": json.loads(row["announced"]),
            "encryptedMetadata": row["encrypted_metadata"],
            "encryptedData": row["encrypted_data"],
        }

    def get_attachment(self, sid: str, aid: str) -> str:
        """One attachment's JWE."""
        with self.store.transaction() as conn:
            row = self._load(conn, sid)
            att = conn.execute(
                "SELECT jwe FROM attachments WHERE submission_id=? AND attachment_id=?",
                (sid, aid),
            ).fetchone()
        if row["state"] == "incomplete" or att is None:
            raise Problem(404, "attachment-not-found", "Anlage nicht gefunden")
        return str(att["jwe"])

    def event_log(self, case_id: str) -> list[str]:
        """All SETs of a case, oldest first."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT token FROM events WHERE case_id=? ORDER BY seq", (case_id,)
            ).fetchall()
        if not rows:
            raise Problem(404, "case-not-found", "Vorgang nicht gefunden")
        return [r[0] for r in rows]

    def _verify_event(self, case_id: str, token: str) -> tuple[dict[str, Any], str, Any]:
        try:
            header, claims = verify_set(token.strip(), self.keys.receiver_signing_public)
        except ValueError as exc:
            raise Problem(
                422, "invalid-signature", "Signatur des Ereignisses ungültig", detail=str(exc)
            ) from exc
        if header.get("typ") != "secevent+jwt":
            raise Problem(400, "invalid-event", "typ secevent+jwt erwartet")
        if claims.get("iss") != self.config.destination_id:
            raise Problem(422, "invalid-event", "iss muss die destinationId sein")
        if not is_uuid(claims.get("jti")) or not isinstance(claims.get("iat"), int):
            raise Problem(400, "invalid-event", "jti (UUID) und iat sind Pflicht")
        if claims.get("txn") != f"case:{case_id}":
            raise Problem(422, "invalid-event", "txn passt nicht zum Vorgang")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith("submission:"):
            raise Problem(400, "invalid-event", "sub muss submission:<id> sein")
        events = claims.get("events")
        if not isinstance(events, dict) or len(events) != 1:
            raise Problem(400, "invalid-event", "Genau ein Ereignis erwartet")
        ((event_type, payload),) = events.items()
        if event_type not in (EVENT_ACCEPT, EVENT_REJECT) or not isinstance(payload, dict):
            raise Problem(422, "invalid-event", "Nur accept- oder reject-submission erlaubt")
        return claims, event_type, payload

    def post_event(self, case_id: str, token: str) -> bool:
        """Record a receiver's accept/reject SET.

        Returns:
            True if the event was new; False if it repeats the submission's final state (or
            replays the same ``jti``) and so was not stored again.
        """
        claims, event_type, payload = self._verify_event(case_id, token)
        sid = claims["sub"].removeprefix("submission:")
        with self.store.transaction() as conn:
            row = self._load(conn, sid)
            if row["case_id"] != case_id:
                raise Problem(422, "invalid-event", "Einreichung gehört nicht zu diesem Vorgang")
            replay = conn.execute(
                "SELECT token FROM events WHERE jti=?", (claims["jti"],)
            ).fetchone()
            if replay is not None:
                if replay[0] == token.strip():
                    return False
                raise Problem(409, "event-conflict", "jti wurde bereits verwendet")
            if row["state"] == "deleted":  # past its deadline: the event log is all that is left
                raise Problem(404, "submission-not-found", "Einreichung wurde gelöscht")
            if row["state"] == "incomplete":
                raise Problem(409, "submission-state-invalid", "Einreichung ist nicht abgesendet")
            if event_type == EVENT_ACCEPT:
                self._check_tags(conn, row, payload)
                target = "accepted"
            else:
                problems = payload.get("problems")
                if (
                    not isinstance(problems, list)
                    or not problems
                    or not all(
                        isinstance(p, dict) and isinstance(p.get("title"), str) for p in problems
                    )
                ):
                    raise Problem(400, "invalid-event", "problems (mit title) erwartet")
                target = "rejected"
            if row["state"] == target:
                return False
            if row["state"] in _FINAL_STATES:
                raise Problem(
                    409,
                    "submission-state-invalid",
                    f"Einreichung ist bereits {row['state']}",
                )
            conn.execute("UPDATE submissions SET state=? WHERE submission_id=?", (target, sid))
            insert_event(conn, case_id, sid, event_type, claims["jti"], token.strip())
        log.info("submission %s sid=%s", target, sid)
        return True

    def _check_tags(self, conn: Any, row: Any, payload: dict[str, Any]) -> None:
        tags = payload.get("authenticationTags")
        if not isinstance(tags, dict):
            raise Problem(400, "invalid-event", "authenticationTags fehlen")
        expected_att = {
            r["attachment_id"]: auth_tag(r["jwe"])
            for r in conn.execute(
                "SELECT attachment_id, jwe FROM attachments WHERE submission_id=?",
                (row["submission_id"],),
            )
        }
        ok = (
            tags.get("metadata") == auth_tag(row["encrypted_metadata"])
            and tags.get("data") == auth_tag(row["encrypted_data"])
            and (tags.get("attachments") or {}) == expected_att
        )
        if not ok:
            raise Problem(
                422,
                "authentication-tags-mismatch",
                "Authentication-Tags passen nicht zur Einreichung",
            )
