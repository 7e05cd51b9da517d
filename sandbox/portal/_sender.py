"""The sender side of the portal: announce, upload attachments, submit; callbacks on submit.

The HTML form and the sender API both run through these methods, so a form submission is
indistinguishable from an API one. A submit notifies the receiver's callback URL (HMAC-signed,
in a background thread) when one is configured.

The service's own events are SETs naming the SET payload schema (``$schema``); the
``submit-submission`` event carries the authentication tags of the parts as submitted, so the
receiver can check that what it decrypted is what the sender sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from typing import Any

import httpx

from sandbox.portal._base import (
    PortalBase,
    Problem,
    current_time,
    insert_event,
    is_uuid,
    now_iso,
)
from sandbox.portal._codes import EVENT_CREATE, EVENT_SUBMIT, HUNDESTEUER_SERVICE
from sandbox.portal._config import PortalConfig
from sandbox.portal._crypto import SET_SCHEMA, auth_tag, jwe_header, sign_set
from sandbox.portal._keys import KeyMaterial
from sandbox.portal._store import Store

__all__ = ["SenderSide"]

log = logging.getLogger("sandbox.portal")


class SenderSide(PortalBase):
    """Creating and completing submissions (``incomplete`` → ``submitted``)."""

    def __init__(self, config: PortalConfig, keys: KeyMaterial, store: Store) -> None:
        super().__init__(config, keys, store)
        self.callback_url = config.callback_url
        self.callback_secret = config.callback_secret
        self.callback_stats = {"sent": 0, "failed": 0}
        self._callback_threads: list[threading.Thread] = []

    def _portal_event(
        self,
        conn: Any,
        sid: str,
        case_id: str,
        event: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        jti = str(uuid.uuid4())
        claims = {
            "$schema": SET_SCHEMA,
            "jti": jti,
            "iss": self.config.issuer,
            "iat": int(current_time().timestamp()),  # the portal clock a test may move
            "sub": f"submission:{sid}",
            "txn": f"case:{case_id}",
            "events": {event: payload or {}},
        }
        insert_event(
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
        if not isinstance(announced, list) or not all(is_uuid(a) for a in announced):
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
                    now_iso(),
                ),
            )
            self._portal_event(conn, sid, case_id, EVENT_CREATE)
        log.info("submission created sid=%s", sid)
        return {"destinationId": destination_id, "submissionId": sid, "caseId": case_id}

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
        # encryptedData is optional in v1: a submission may carry attachments only
        raw_data = body.get("encryptedData")
        data = None if raw_data is None else self._check_jwe(raw_data, "encryptedData")
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
                r["attachment_id"]: auth_tag(r["jwe"])
                for r in conn.execute(
                    "SELECT attachment_id, jwe FROM attachments WHERE submission_id = ?", (sid,)
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
                (metadata, data, now_iso(), next_seq, sid),
            )
            tags: dict[str, Any] = {"metadata": auth_tag(metadata)}
            if data is not None:
                tags["data"] = auth_tag(data)
            tags["attachments"] = present
            self._portal_event(
                conn, sid, row["case_id"], EVENT_SUBMIT, {"authenticationTags": tags}
            )
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

    def configure_callback(self, destination_id: str, body: Any) -> dict[str, Any]:
        """``PATCH /destinations/{id}`` with ``{"callback": {"url", "secret"}}``.

        The secret is write-only (never answered back); a callback without one is refused, as
        the Self-Service-Portal refuses it. FIT-Connect calls back over HTTPS only; the sandbox
        also takes ``http://`` on loopback, where tests listen.
        """
        self._check_destination(destination_id)
        callback = body.get("callback") if isinstance(body, dict) else None
        if not isinstance(callback, dict):
            raise Problem(400, "invalid-request", "callback {url, secret} erwartet")
        url, secret = callback.get("url"), callback.get("secret")
        if not isinstance(url, str) or not isinstance(secret, str) or not secret:
            raise Problem(400, "invalid-request", "callback.url und callback.secret sind Pflicht")
        host = httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
        loopback = host in ("127.0.0.1", "localhost", "::1")
        if not (url.startswith("https://") and host) and not (
            url.startswith("http://") and loopback
        ):
            raise Problem(422, "invalid-callback-url", "Callback-URL muss https:// sein")
        self.callback_url, self.callback_secret = url, secret
        log.info("callback configured host=%s", host)
        return {"destinationId": destination_id, "callback": {"url": url}}

    def join_callbacks(self, timeout: float = 5.0) -> None:
        """Wait for callbacks in flight (shutdown and tests)."""
        for thread in list(self._callback_threads):
            thread.join(timeout)
