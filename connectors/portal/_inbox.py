"""The inbox: list the new submissions, fetch one, decrypt and verify every part.

Anything wrong *in the submission* — undecryptable, tampered, hash mismatch, malformed JSON,
missing, oversized or broken attachment — becomes one `SubmissionInvalid` listing every problem
(FIT-Connect problem types, German texts, ready for `reject`), never an exception of a library.
Only ids, sizes and hashes are logged.

Two checks beyond the hashes: the authentication tags of the parts as decrypted must be the ones
the service recorded in its signed ``submit-submission`` event (a part swapped on the way
fails here), and a submission without ``encryptedData`` (attachments only, optional in v1) is
taken as such: `ReceivedSubmission.has_data` is False and the record parser gets no data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import SecretStr

from amtsbote import ApplicationError, get_logger
from connectors.portal._callbacks import check_callback_url
from connectors.portal._crypto import (
    EVENT_BASE,
    KeyUnavailable,
    PartError,
    auth_tag,
    decrypt_part,
    verify_hash,
)
from connectors.portal._eventlog import EventLog
from connectors.portal._models import (
    AuthenticationTags,
    ReceivedAttachment,
    ReceivedSubmission,
    SubmissionHeld,
    SubmissionRef,
)
from connectors.portal._parts import INVALID, open_attachment, parse_json, tag_problem
from connectors.records import Problem, SubmissionInvalid, problem

__all__ = ["Inbox"]

log = get_logger(__name__)

SUBMIT: Final = EVENT_BASE + "submit-submission"


class Inbox(EventLog):
    """The reading half of `PortalClient`: destination, `list_new`, `fetch`."""

    def destination(self) -> dict[str, Any]:
        """Our destination as the portal describes it (status, keys, services)."""
        resp = self._send("GET", self._api(f"destinations/{self.settings.destination_id}"))
        body = self._json(resp)
        if not isinstance(body, dict):
            raise ApplicationError("Unerwartete Antwort des Portals.", code="portal-bad-response")
        return body

    def register_callback(self, url: str, secret: SecretStr) -> None:
        """Tell the destination where to call back on new submissions (``PATCH``).

        Args:
            url: ``https://`` (``http://`` only on loopback, see `check_callback_url`).
            secret: The HMAC secret the service signs callbacks with (write-only there).

        Raises:
            ApplicationError: ``portal-callback-url`` for a refused URL, or the portal's answer.
        """
        check_callback_url(url)
        self._send(
            "PATCH",
            self._api(f"destinations/{self.settings.destination_id}"),
            accept=(200, 204),
            json={"callback": {"url": url, "secret": secret.get_secret_value()}},
        )
        log.info("portal.callback_registered", host=url.split("/")[2])

    def list_new(self, limit: int | None = None) -> Iterator[SubmissionRef]:
        """The submissions waiting for us, oldest first.

        All pages are read before the first item is yielded: accepting an item while
        iterating removes it from the portal's list and would shift later pages.

        Args:
            limit: At most this many (default: all).
        """
        refs: list[SubmissionRef] = []
        seen: set[str] = set()
        offset = 0
        while limit is None or len(refs) < limit:
            page = self.settings.page_size
            if limit is not None:
                page = min(page, limit - len(refs))
            resp = self._send(
                "GET",
                self._api("submissions"),
                params={
                    "destinationId": self.settings.destination_id,
                    "limit": page,
                    "offset": offset,
                },
            )
            body = self._json(resp)
            items = body.get("submissions") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ApplicationError("Unerwartete Liste vom Portal.", code="portal-bad-response")
            for item in items:
                sid = item.get("submissionId") if isinstance(item, dict) else None
                if not isinstance(sid, str) or sid in seen:
                    continue
                seen.add(sid)
                refs.append(
                    SubmissionRef(
                        submission_id=sid,
                        case_id=str(item.get("caseId", "")),
                        destination_id=str(item.get("destinationId", "")),
                    )
                )
            offset += len(items)
            total = body.get("totalCount")
            if not items or (isinstance(total, int) and offset >= total):
                break
        log.info("portal.listed", count=len(refs))
        yield from refs[:limit] if limit is not None else refs

    # --- fetch and decrypt ----------------------------------------------------------------

    def fetch(self, submission_id: str) -> ReceivedSubmission:
        """Fetch a submission and decrypt and verify every part.

        Args:
            submission_id: From `list_new`.

        Returns:
            The decrypted submission.

        Raises:
            SubmissionInvalid: The submission cannot be used (its `problems` say why, in
                German, ready for `reject`); carries `submission_id` and `case_id`.
            SubmissionHeld: A part is encrypted to a key we do not hold (unknown ``kid``, or
                our key of that ``kid`` does not unwrap it): neither rejected nor taken.
            ApplicationError: The portal misbehaved.
        """
        body = self._json(self._send("GET", self._api(f"submissions/{submission_id}")))
        if not isinstance(body, dict):
            raise ApplicationError("Unerwartete Antwort des Portals.", code="portal-bad-response")
        case_id = str(body.get("caseId", ""))
        try:
            return self._open(submission_id, case_id, body)
        except KeyUnavailable as exc:
            held = SubmissionHeld(
                code=exc.code,
                submission_id=submission_id,
                case_id=case_id,
                instance=exc.instance,
                kid=exc.kid,
                submitted_at=self._submitted_at(case_id, submission_id),
            )
            log.error(
                "portal.submission_held",
                submission_id=submission_id,
                code=exc.code,
                instance=exc.instance,
                kid=exc.kid,
            )
            raise held from None

    def _submitted_at(self, case_id: str, submission_id: str) -> datetime | None:
        """``iat`` of the service's submit-submission event (None if the log cannot tell)."""
        try:
            events = self.events(case_id)
        except ApplicationError:
            return None
        for e in events:
            if e.event_type == SUBMIT and e.submission_id == submission_id:
                iat = e.claims.get("iat")
                if isinstance(iat, int | float):
                    return datetime.fromtimestamp(iat, UTC)
        return None

    def _open(self, submission_id: str, case_id: str, body: dict[str, Any]) -> ReceivedSubmission:

        def invalid(problems: list[Problem]) -> SubmissionInvalid:
            exc = SubmissionInvalid(problems)
            exc.submission_id = submission_id
            exc.case_id = case_id
            log.warning("portal.submission_invalid", submission_id=submission_id, codes=exc.codes)
            return exc

        enc_meta = body.get("encryptedMetadata")
        enc_data = body.get("encryptedData")
        if not isinstance(enc_meta, str) or not (enc_data is None or isinstance(enc_data, str)):
            raise invalid([problem("missing-data", "Der Antrag enthält keine Metadaten.")])
        keys = self._enc_keys
        try:
            meta_bytes, _ = decrypt_part(enc_meta, keys, instance="metadata")
        except PartError as exc:
            raise invalid([exc.problem]) from None
        metadata = parse_json(meta_bytes)
        structure = metadata.get("contentStructure") if isinstance(metadata, dict) else None
        data_spec = structure.get("data") if isinstance(structure, dict) else None
        schema = data_spec.get("submissionSchema") if isinstance(data_spec, dict) else None
        if enc_data is None and isinstance(structure, dict) and data_spec is None:
            schema = data_spec = {}  # attachments only: no data, no data schema
        if not isinstance(metadata, dict) or not isinstance(schema, dict):
            raise invalid(
                [
                    problem(
                        "syntax-violation",
                        "Die Metadaten des Antrags sind nicht lesbar.",
                        instance="metadata",
                        code="metadata-syntax",
                    )
                ]
            )
        assert isinstance(structure, dict) and isinstance(data_spec, dict)
        wanted = self.settings.schema_uri
        if wanted is not None and enc_data is not None and schema.get("schemaUri") != wanted:
            raise invalid(
                [
                    problem(
                        "unsupported-schema",
                        "Das Antragsformular wird von dieser Stelle nicht unterstützt.",
                        code="schema-unsupported",
                    )
                ]
            )
        problems: list[Problem] = []

        data = b""
        data_hash = ""
        data_json: Any = None
        data_mime = str(schema.get("mimeType", ""))
        try:
            if enc_data is not None:
                data, _ = decrypt_part(enc_data, keys, instance="data")
                data_hash = verify_hash(data, data_spec.get("hash"), instance="data")
        except PartError as exc:
            problems.append(exc.problem)
        else:
            if enc_data is not None and (
                data_mime == "application/json" or data_mime.endswith("+json")
            ):
                data_json = parse_json(data)
                if data_json is INVALID:
                    data_json = None
                    problems.append(
                        problem(
                            "syntax-violation",
                            "Die Antragsdaten sind kein gültiges JSON.",
                            code="data-syntax",
                        )
                    )

        announced = [a for a in body.get("attachments") or [] if isinstance(a, str)]
        described = {
            a["attachmentId"]: a
            for a in structure.get("attachments") or []
            if isinstance(a, dict) and isinstance(a.get("attachmentId"), str)
        }
        tags: dict[str, str] = {}
        attachments: list[ReceivedAttachment] = []
        for aid in described:
            if aid not in announced:
                problems.append(
                    problem(
                        "missing-attachment",
                        "Eine in den Metadaten genannte Anlage fehlt.",
                        instance=f"attachment:{aid}",
                        code="attachment-missing",
                    )
                )
        for aid in announced:
            token = self._send(
                "GET", self._api(f"submissions/{submission_id}/attachments/{aid}")
            ).text.strip()
            tags[aid] = auth_tag(token)
            got = open_attachment(
                aid, token, described.get(aid), self._enc_keys, self.settings.max_attachment_bytes
            )
            if isinstance(got, Problem):
                problems.append(got)
            else:
                attachments.append(got)

        tags_got = AuthenticationTags(
            auth_tag(enc_meta), auth_tag(enc_data) if enc_data is not None else "", tags
        )
        if not problems:
            problems.extend(self._check_submit_tags(case_id, submission_id, tags_got))
        if problems:
            raise invalid(problems)
        received = ReceivedSubmission(
            submission_id=submission_id,
            case_id=case_id,
            destination_id=str(body.get("destinationId", "")),
            service_type=dict(body.get("serviceType") or {}),
            schema_uri=str(schema.get("schemaUri", "")),
            data_mime_type=data_mime,
            data_sha512=data_hash,
            auth_tags=tags_got,
            attachments=attachments,
            metadata=metadata,
            data=data,
            data_json=data_json,
            has_data=enc_data is not None,
        )
        log.info(
            "portal.fetched",
            submission_id=submission_id,
            case_id=case_id,
            data_bytes=len(data),
            data_sha512=data_hash,
            attachments=[(a.attachment_id, a.size) for a in attachments],
        )
        return received

    def _check_submit_tags(
        self, case_id: str, submission_id: str, got: AuthenticationTags
    ) -> list[Problem]:
        """Compare the tags we decrypted with those of the service's ``submit-submission``.

        Raises:
            ApplicationError: ``portal-submit-event-missing`` when the log holds no submit
                event for the submission (the service's fault: retried).
        """
        submit = next(
            (
                e
                for e in self.events(case_id)
                if e.event_type == SUBMIT and e.submission_id == submission_id
            ),
            None,
        )
        if submit is None:
            raise ApplicationError(
                "Im Ereignisprotokoll fehlt das submit-submission-Ereignis der Einreichung.",
                code="portal-submit-event-missing",
            )
        recorded = submit.payload.get("authenticationTags")
        if not isinstance(recorded, dict):
            log.warning("portal.submit_without_tags", submission_id=submission_id)
            return []
        expected = got.as_dict()
        out: list[Problem] = []
        for part in ("metadata", "data"):
            if recorded.get(part) != expected.get(part):
                out.append(tag_problem(part))
        rec_att = recorded.get("attachments") or {}
        for aid in sorted(set(rec_att) | set(got.attachments)):
            if not isinstance(rec_att, dict) or rec_att.get(aid) != got.attachments.get(aid):
                out.append(tag_problem(f"attachment:{aid}"))
        return out
