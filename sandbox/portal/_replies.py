"""The authority's replies to the citizen, the citizen's status page, and the admin export.

Replies are idempotent by ``replyId``; the export carries ids, states and event types only,
never plaintext, so tests can check exactly-once without reading personal data.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from typing import Any

from joserfc import jws

from sandbox.portal._base import PortalBase, Problem, is_uuid, now_iso
from sandbox.portal._codes import EVENT_REJECT

__all__ = ["Replies"]


class Replies(PortalBase):
    """Replies of a case, the case's status for the citizen, and the export for tests."""

    callback_stats: dict[str, int]

    def post_reply(self, case_id: str, body: Any) -> tuple[dict[str, Any], bool]:
        """Store the authority's reply to the citizen (idempotent by ``replyId``)."""
        if not isinstance(body, dict) or not is_uuid(body.get("replyId")):
            raise Problem(400, "invalid-request", "replyId (UUID) erwartet")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise Problem(400, "invalid-request", "title erwartet")
        atts: list[tuple[str, str, bytes]] = []
        for att in body.get("attachments") or []:
            if not isinstance(att, dict) or not all(
                isinstance(att.get(k), str) for k in ("filename", "mimeType", "content")
            ):
                raise Problem(400, "invalid-request", "Anlage: filename, mimeType, content")
            try:
                content = base64.b64decode(att["content"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Problem(400, "invalid-request", "content ist kein Base64") from exc
            if len(content) > self.config.max_attachment_bytes:
                raise Problem(413, "attachment-too-large", "Anlage ist zu groß")
            atts.append((att["filename"], att["mimeType"], content))
        reply_id = body["replyId"]
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT state FROM submissions WHERE case_id=?", (case_id,)
            ).fetchall()
            if not rows:
                raise Problem(404, "case-not-found", "Vorgang nicht gefunden")
            ref = {"replyId": reply_id, "caseId": case_id}
            existing = conn.execute(
                "SELECT case_id FROM replies WHERE reply_id=?", (reply_id,)
            ).fetchone()
            if existing is not None:
                if existing[0] != case_id:
                    raise Problem(409, "reply-conflict", "replyId gehört zu einem anderen Vorgang")
                return ref, False
            # A reply may come just before the accept event (the receiver's commit point), so
            # that a crash between the two never leaves an accepted case without its notice.
            if not any(r[0] in ("submitted", "accepted") for r in rows):
                raise Problem(
                    409, "case-not-open", "Antworten nur auf eingereichte oder angenommene Vorgänge"
                )
            conn.execute(
                "INSERT INTO replies(reply_id, case_id, title, created_at) VALUES (?,?,?,?)",
                (reply_id, case_id, title, now_iso()),
            )
            for idx, (filename, mime, content) in enumerate(atts):
                conn.execute(
                    "INSERT INTO reply_attachments VALUES (?,?,?,?,?)",
                    (reply_id, idx, filename, mime, content),
                )
        return ref, True

    def replies(self, case_id: str) -> list[dict[str, Any]]:
        """Replies of a case with attachment names and sizes (no content)."""
        with self.store.transaction() as conn:
            return self._replies(conn, case_id)

    def _replies(self, conn: Any, case_id: str) -> list[dict[str, Any]]:
        out = []
        for r in conn.execute(
            "SELECT reply_id, title, created_at FROM replies WHERE case_id=? ORDER BY created_at,"
            " rowid",
            (case_id,),
        ).fetchall():
            atts = conn.execute(
                "SELECT idx, filename, mime_type, length(content) FROM reply_attachments"
                " WHERE reply_id=? ORDER BY idx",
                (r[0],),
            ).fetchall()
            out.append(
                {
                    "replyId": r[0],
                    "title": r[1],
                    "createdAt": r[2],
                    "attachments": [
                        {"index": a[0], "filename": a[1], "mimeType": a[2], "size": a[3]}
                        for a in atts
                    ],
                }
            )
        return out

    def reply_attachment(self, case_id: str, reply_id: str, idx: int) -> tuple[str, str, bytes]:
        """``(filename, mime type, content)`` of one reply attachment."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT a.filename, a.mime_type, a.content FROM reply_attachments a"
                " JOIN replies r ON r.reply_id = a.reply_id"
                " WHERE r.case_id=? AND a.reply_id=? AND a.idx=?",
                (case_id, reply_id, idx),
            ).fetchone()
        if row is None:
            raise Problem(404, "attachment-not-found", "Dokument nicht gefunden")
        return str(row[0]), str(row[1]), bytes(row[2])

    # --- citizen status and admin export --------------------------------------------------

    def status(self, case_id: str) -> dict[str, Any]:
        """What the citizen's status page shows: state, rejection problems, replies."""
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
            replies = self._replies(conn, case_id)
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
            "replies": replies,
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
                        "replies": self._replies(conn, s["case_id"]),
                    }
                )
        return {
            "submissions": out,
            "counts": dict(counts),
            "callbacks": dict(self.callback_stats),
        }
