"""The receiver side of the portal: list and fetch submissions, record accept/reject events.

Events are Security Event Tokens (SET) signed with the receiver's key; an accept must carry the
authentication tags of every encrypted part, so the receiver proves it decrypted what was sent.
A SET that names a payload schema (``$schema``) must name the FIT-Connect SET payload schema.

The event log is paged (``offset``/``limit``, at most 500 a page) and answers
``{offset, count, totalCount, eventLog}``. The destination's encryption key can be rotated:
the old key stays retrievable until `retire_encryption_key` drops it, which is refused while a
submission the receiver has not decided yet is encrypted to it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sandbox.portal._base import PortalBase, Problem, insert_event, is_uuid
from sandbox.portal._codes import EVENT_ACCEPT, EVENT_REJECT
from sandbox.portal._crypto import SET_SCHEMA, auth_tag, jwe_header, verify_set
from sandbox.portal._keys import retire_encryption, rotate_encryption

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
        out = {
            "destinationId": row["destination_id"],
            "submissionId": sid,
            "caseId": row["case_id"],
            "serviceType": json.loads(row["service_type"]),
            "state": row["state"],
            "attachments": json.loads(row["announced"]),
            "encryptedMetadata": row["encrypted_metadata"],
        }
        if row["encrypted_data"] is not None:  # optional: attachment-only submissions
            out["encryptedData"] = row["encrypted_data"]
        return out

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

    def event_log(self, case_id: str, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        """One page of a case's SETs, oldest first: ``{offset, count, totalCount, eventLog}``."""
        limit = max(1, min(limit, 500))
        with self.store.transaction() as conn:
            total = conn.execute(
                "SELECT COUNT(*) FROM events WHERE case_id=?", (case_id,)
            ).fetchone()[0]
            rows = conn.execute(
                "SELECT token FROM events WHERE case_id=? ORDER BY seq LIMIT ? OFFSET ?",
                (case_id, limit, offset),
            ).fetchall()
        if not total:
            raise Problem(404, "case-not-found", "Vorgang nicht gefunden")
        tokens = [r[0] for r in rows]
        return {"offset": offset, "count": len(tokens), "totalCount": total, "eventLog": tokens}

    def _verify_event(self, case_id: str, token: str) -> tuple[dict[str, Any], str, Any]:
        try:
            header, claims = verify_set(token.strip(), self.keys.receiver_signing_public)
        except ValueError as exc:
            raise Problem(
                422, "invalid-signature", "Signatur des Ereignisses ungültig", detail=str(exc)
            ) from exc
        if header.get("typ") != "secevent+jwt":
            raise Problem(400, "invalid-event", "typ secevent+jwt erwartet")
        if "$schema" in claims and claims["$schema"] != SET_SCHEMA:
            raise Problem(422, "invalid-event", f"$schema muss {SET_SCHEMA} sein")
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
        data = row["encrypted_data"]
        ok = (
            tags.get("metadata") == auth_tag(row["encrypted_metadata"])
            and tags.get("data") == (None if data is None else auth_tag(data))
            and (tags.get("attachments") or {}) == expected_att
        )
        if not ok:
            raise Problem(
                422,
                "authentication-tags-mismatch",
                "Authentication-Tags passen nicht zur Einreichung",
            )

    # --- key rotation of the destination ----------------------------------------------------

    def rotate_encryption_key(self) -> dict[str, Any]:
        """Publish a new encryption key; the old one stays until it is retired."""
        with self.store.transaction():
            self.keys = rotate_encryption(self.config.data_dir, self.config.key_size, self.keys)
        log.info("encryption key rotated kid=%s", self.keys.encryption_public["kid"])
        return {
            "encryptionKid": self.keys.encryption_public["kid"],
            "previousKids": [k["kid"] for k in self.keys.encryption_previous],
        }

    def retire_encryption_key(self, kid: str) -> None:
        """Drop an earlier encryption key.

        Raises:
            Problem: 404 for a kid that is no earlier key, 409 while a submission that is
                not accepted or rejected yet has a part encrypted to it.
        """
        with self.store.transaction() as conn:
            if not any(k["kid"] == kid for k in self.keys.encryption_previous):
                raise Problem(404, "key-not-found", "Kein früherer Schlüssel mit dieser kid")
            open_rows = conn.execute(
                "SELECT s.encrypted_metadata, s.encrypted_data, a.jwe FROM submissions s"
                " LEFT JOIN attachments a ON a.submission_id = s.submission_id"
                " WHERE s.state IN ('incomplete', 'submitted')"
            ).fetchall()
            for row in open_rows:
                for token in row:
                    header = jwe_header(token) if isinstance(token, str) else None
                    if header is not None and header.get("kid") == kid:
                        raise Problem(
                            409,
                            "key-in-use",
                            "Der Schlüssel wird von offenen Einreichungen noch verwendet",
                        )
            self.keys = retire_encryption(self.config.data_dir, kid, self.keys)
        log.info("encryption key retired kid=%s", kid)
