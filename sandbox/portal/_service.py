"""The portal's core: submissions, events, replies and tokens, shared by the API and the web form.

The HTML form and the sender API run through the same methods (`create_submission`,
`put_attachment`, `submit`), so a form submission is indistinguishable from an API one. Every
refusal is a `Problem`, rendered as ``application/problem+json`` by the API layer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jws

from sandbox.portal._codes import (
    EVENT_ACCEPT,
    EVENT_CREATE,
    EVENT_REJECT,
    EVENT_SUBMIT,
    HUNDESTEUER_SCHEMA_URI,
    HUNDESTEUER_SERVICE,
    PROBLEM_BASE,
)
from sandbox.portal._config import PortalConfig
from sandbox.portal._crypto import auth_tag, jwe_header, sign_set, verify_set
from sandbox.portal._keys import KeyMaterial
from sandbox.portal._store import Store

__all__ = ["Portal", "Problem"]

log = logging.getLogger("sandbox.portal")

SENDER = "sender"
RECEIVER = "receiver"
_FINAL_STATES = ("accepted", "rejected")


class Problem(Exception):
    """An RFC 7807 problem; `name` becomes the last segment of the FIT-Connect problem type."""

    def __init__(self, status: int, name: str, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.name = name
        self.title = title
        self.detail = detail

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem as JSON body."""
        out: dict[str, Any] = {
            "type": PROBLEM_BASE + self.name,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            out["detail"] = self.detail
        if instance:
            out["instance"] = instance
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _insert_event(conn: Any, case_id: str, sid: str, event: str, jti: str, token: str) -> None:
    conn.execute(
        "INSERT INTO events(case_id, submission_id, event_type, jti, token, created_at)"
        " VALUES (?,?,?,?,?,?)",
        (case_id, sid, event, jti, token, _now()),
    )


@dataclass
class _Token:
    role: str
    client_id: str
    expires_at: float


class Portal:
    """State and rules of one portal instance (one destination: the Steueramt)."""

    def __init__(self, config: PortalConfig, keys: KeyMaterial, store: Store) -> None:
        self.config = config
        self.keys = keys
        self.store = store
        self.callback_url = config.callback_url
        self.callback_secret = config.callback_secret
        self.callback_stats = {"sent": 0, "failed": 0}
        self._tokens: dict[str, _Token] = {}
        self._token_lock = threading.Lock()
        self._callback_threads: list[threading.Thread] = []

    # --- auth -----------------------------------------------------------------------------

    def issue_token(self, grant_type: str, client_id: str, client_secret: str) -> dict[str, Any]:
        """OAuth2 client credentials grant; the client decides the role (sender/receiver)."""
        if grant_type != "client_credentials":
            raise Problem(400, "unsupported-grant-type", "Nur client_credentials wird unterstützt")
        cfg = self.config
        clients = {
            cfg.sender_client_id: (cfg.sender_client_secret, SENDER),
            cfg.receiver_client_id: (cfg.receiver_client_secret, RECEIVER),
        }
        expected = clients.get(client_id)
        if expected is None or not secrets.compare_digest(
            client_secret.encode(), expected[0].encode()
        ):
            raise Problem(401, "invalid-client", "Client-Anmeldung fehlgeschlagen")
        role = expected[1]
        token = secrets.token_urlsafe(32)
        with self._token_lock:
            now = time.time()
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
            self._tokens[token] = _Token(role, client_id, now + cfg.token_lifetime_s)
        scope = (
            f"send:destination:{cfg.destination_id}"
            if role == SENDER
            else f"receive:destination:{cfg.destination_id}"
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": cfg.token_lifetime_s,
            "scope": scope,
        }

    def authenticate(self, authorization: str | None, role: str) -> None:
        """Check a bearer token and its role.

        Raises:
            Problem: 401 without a valid unexpired token, 403 for the other client's token.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "unauthorized", "Anmeldung erforderlich")
        with self._token_lock:
            entry = self._tokens.get(token)
        if entry is None or entry.expires_at <= time.time():
            raise Problem(401, "unauthorized", "Zugriffstoken ungültig oder abgelaufen")
        if role != "any" and entry.role != role:
            raise Problem(403, "forbidden", "Keine Berechtigung für diesen Aufruf")

    def expire_tokens(self) -> int:
        """Invalidate every issued token (lets tests exercise re-authentication)."""
        with self._token_lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count

    # --- destination ----------------------------------------------------------------------

    def _check_destination(self, destination_id: str) -> None:
        if destination_id != self.config.destination_id:
            raise Problem(404, "destination-not-found", "Zustellpunkt nicht gefunden")

    def destination(self, destination_id: str) -> dict[str, Any]:
        """Public description of the destination (FIT-Connect ``GET /destinations/{id}``)."""
        self._check_destination(destination_id)
        return {
            "destinationId": self.config.destination_id,
            "name": self.config.destination_name,
            "status": "active",
            "encryptionKid": self.keys.encryption_public["kid"],
            "signingKid": self.keys.receiver_signing_public["kid"],
            "metadataVersions": ["1.0.0"],
            "services": [
                {
                    **HUNDESTEUER_SERVICE,
                    "submissionSchemas": [
                        {"schemaUri": HUNDESTEUER_SCHEMA_URI, "mimeType": "application/json"}
                    ],
                    "regions": ["DE05913000"],
                }
            ],
        }

    def key(self, destination_id: str, kid: str) -> dict[str, Any]:
        """A public JWK of the destination (encryption or event-signing key)."""
        self._check_destination(destination_id)
        for jwk in (self.keys.encryption_public, self.keys.receiver_signing_public):
            if jwk["kid"] == kid:
                return dict(jwk)
        raise Problem(404, "key-not-found", "Schlüssel nicht gefunden")

    def jwks(self) -> dict[str, Any]:
        """The portal's own signing keys (for the events it writes)."""
        return {"keys": [dict(self.keys.portal_signing_public)]}

    # --- sender ---------------------------------------------------------------------------

    def _portal_event(self, conn: Any, sid: str, case_id: str, event: str) -> None:
        jti = str(uuid.uuid4())
        claims = {
            "jti": jti,
            "iss": self.config.issuer,
            "iat": int(time.time()),
            "sub": f"submission:{sid}",
            "txn": f"case:{case_id}",
            "events": {event: {}},
        }
        _insert_event(
            conn, case_id, sid, event, jti, sign_set(claims, self.keys.portal_signing_private)
        )

    def create_submission(self, body: Any) -> dict[str, Any]:
        """Announce a submission (state ``incomplete``)."""
        if not isinstance(body, dict):
            raise Problem(400, "invalid-request", "JSON-Objekt erwartet")
        destination_id = body.get("destinationId")
        if not isinstance(destination_id, str):
            raise Problem(400, "invalid-request", "destinationId fehlt")
        self._check_destination(destination_id)
        announced = body.get("announcedAttachments", [])
        if not isinstance(announced, list) or not all(_is_uuid(a) for a in announced):
            raise Problem(400, "invalid-request", "announcedAttachments muss UUIDs enthalten")
        if len(set(announced)) != len(announced):
            raise Problem(400, "invalid-request", "announcedAttachments enthält Dubletten")
        service_type = body.get("serviceType")
        if not isinstance(service_type, dict) or not isinstance(
            service_type.get("identifier"), str
        ):
            raise Problem(400, "invalid-request", "serviceType.identifier fehlt")
        if service_type["identifier"] != HUNDESTEUER_SERVICE["identifier"]:
            raise Problem(
                422,
                "service-not-supported",
                "Leistung wird von diesem Zustellpunkt nicht angeboten",
            )
        sid, case_id = str(uuid.uuid4()), str(uuid.uuid4())
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO submissions(submission_id, case_id, destination_id, service_type,"
                " announced, state, created_at) VALUES (?,?,?,?,?,?,?)",
                (
                    sid,
                    case_id,
                    destination_id,
                    json.dumps(service_type, ensure_ascii=False),
                    json.dumps(announced),
                    "incomplete",
                    _now(),
                ),
            )
            self._portal_event(conn, sid, case_id, EVENT_CREATE)
        log.info("submission created sid=%s", sid)
        return {"destinationId": destination_id, "submissionId": sid, "caseId": case_id}

    def _load(self, conn: Any, sid: str) -> Any:
        row = conn.execute("SELECT * FROM submissions WHERE submission_id = ?", (sid,)).fetchone()
        if row is None:
            raise Problem(404, "submission-not-found", "Einreichung nicht gefunden")
        return row

    def _check_jwe(self, token: Any, what: str) -> str:
        if not isinstance(token, str):
            raise Problem(400, "invalid-jwe", f"{what}: JWE in Compact-Serialisierung erwartet")
        header = jwe_header(token)
        if header is None:
            raise Problem(400, "invalid-jwe", f"{what}: kein gültiges JWE (Compact-Serialisierung)")
        if header.get("alg") != "RSA-OAEP-256" or header.get("enc") != "A256GCM":
            raise Problem(400, "invalid-jwe", f"{what}: alg RSA-OAEP-256 und enc A256GCM erwartet")
        return token

    def put_attachment(self, sid: str, aid: str, body: str) -> None:
        """Store one announced attachment's JWE (repeatable while incomplete)."""
        limit = self.config.max_attachment_bytes * 4 // 3 + 8192
        if len(body) > limit:
            raise Problem(413, "attachment-too-large", "Anlage ist zu groß")
        token = self._check_jwe(body.strip(), "Anlage")
        with self.store.transaction() as conn:
            row = self._load(conn, sid)
            if aid not in json.loads(row["announced"]):
                raise Problem(404, "attachment-not-found", "Anlage wurde nicht angekündigt")
            if row["state"] != "incomplete":
                raise Problem(409, "submission-state-invalid", "Einreichung ist abgeschlossen")
            conn.execute(
                "INSERT OR REPLACE INTO attachments(submission_id, attachment_id, jwe)"
                " VALUES (?,?,?)",
                (sid, aid, token),
            )

    def submit(self, sid: str, body: Any) -> tuple[dict[str, Any], bool]:
        """Complete a submission (``incomplete`` → ``submitted``).

        Returns:
            The submission reference and whether this call submitted it (False for a repeat of
            the same submit, which is answered without a second event).
        """
        if not isinstance(body, dict):
            raise Problem(400, "invalid-request", "JSON-Objekt erwartet")
        metadata = self._check_jwe(body.get("encryptedMetadata"), "encryptedMetadata")
        data = self._check_jwe(body.get("encryptedData"), "encryptedData")
        with self.store.transaction() as conn:
            row = self._load(conn, sid)
            ref = {
                "destinationId": row["destination_id"],
                "submissionId": sid,
                "caseId": row["case_id"],
            }
            if row["state"] != "incomplete":
                same = row["encrypted_metadata"] == metadata and row["encrypted_data"] == data
                if same:
                    return ref, False
                raise Problem(409, "submission-state-invalid", "Einreichung ist bereits abgesendet")
            present = {
                r["attachment_id"]
                for r in conn.execute(
                    "SELECT attachment_id FROM attachments WHERE submission_id = ?", (sid,)
                )
            }
            missing = [a for a in json.loads(row["announced"]) if a not in present]
            if missing:
                raise Problem(
                    409,
                    "missing-attachments",
                    "Angekündigte Anlagen fehlen",
                    detail=", ".join(missing),
                )
            next_seq = conn.execute(
                "SELECT COALESCE(MAX(submitted_seq), 0) + 1 FROM submissions"
            ).fetchone()[0]
            conn.execute(
                "UPDATE submissions SET state='submitted', encrypted_metadata=?, encrypted_data=?,"
                " submitted_at=?, submitted_seq=? WHERE submission_id=?",
                (metadata, data, _now(), next_seq, sid),
            )
            self._portal_event(conn, sid, row["case_id"], EVENT_SUBMIT)
        log.info("submission submitted sid=%s", sid)
        self._notify(ref)
        return ref, True

    # --- callbacks ------------------------------------------------------------------------

    def _notify(self, ref: dict[str, Any]) -> None:
        url = self.callback_url
        if not url:
            return
        body = json.dumps(
            {
                "type": "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions",
                "submissions": [ref],
            },
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        mac = hmac.new(
            self.callback_secret.encode(), timestamp.encode() + b"." + body, hashlib.sha512
        ).hexdigest()
        headers = {
            "content-type": "application/json",
            "callback-timestamp": timestamp,
            "callback-authentication": mac,
        }

        def send() -> None:
            try:
                resp = httpx.post(url, content=body, headers=headers, timeout=5.0)
                ok = resp.status_code < 300
            except httpx.HTTPError:
                ok = False
            self.callback_stats["sent" if ok else "failed"] += 1

        thread = threading.Thread(target=send, daemon=True, name="portal-callback")
        self._callback_threads = [t for t in self._callback_threads if t.is_alive()]
        self._callback_threads.append(thread)
        thread.start()

    def join_callbacks(self, timeout: float = 5.0) -> None:
        """Wait for callbacks in flight (shutdown and tests)."""
        for thread in list(self._callback_threads):
            thread.join(timeout)

    # --- receiver -------------------------------------------------------------------------

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
        if row["state"] == "incomplete":
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
        if not _is_uuid(claims.get("jti")) or not isinstance(claims.get("iat"), int):
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
            _insert_event(conn, case_id, sid, event_type, claims["jti"], token.strip())
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

    # --- replies --------------------------------------------------------------------------

    def post_reply(self, case_id: str, body: Any) -> tuple[dict[str, Any], bool]:
        """Store the authority's reply to the citizen (idempotent by ``replyId``)."""
        if not isinstance(body, dict) or not _is_uuid(body.get("replyId")):
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
                (reply_id, case_id, title, _now()),
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
