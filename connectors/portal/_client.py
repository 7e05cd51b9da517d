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
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import httpx
from joserfc.jwk import RSAKey
from pydantic import BaseModel

from amtsbote import ApplicationError, ReviewRequired, get_logger
from connectors.portal._crypto import (
    EVENT_BASE,
    PartError,
    auth_tag,
    build_set,
    decrypt_part,
    import_rsa,
    jose_header,
    verify_hash,
    verify_set,
)
from connectors.portal._settings import PortalSettings
from connectors.records import (
    Envelope,
    Problem,
    SubmissionInvalid,
    parse_record,
    problem,
    record_type,
)

__all__ = [
    "ACCEPT",
    "REJECT",
    "AuthenticationTags",
    "EventResult",
    "PortalClient",
    "PortalEvent",
    "ReceivedAttachment",
    "ReceivedSubmission",
    "ReplyAttachment",
    "ReplyResult",
    "SubmissionRef",
]

log = get_logger(__name__)

ACCEPT: Final = EVENT_BASE + "accept-submission"
REJECT: Final = EVENT_BASE + "reject-submission"
JOSE: Final = "application/jose"
PDF: Final = "application/pdf"


@dataclass(frozen=True)
class SubmissionRef:
    """A submission waiting in the portal (state ``submitted``)."""

    submission_id: str
    case_id: str
    destination_id: str


@dataclass(frozen=True)
class AuthenticationTags:
    """The last segment of each part's JWE; the accept event proves receipt with them."""

    metadata: str
    data: str
    attachments: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``authenticationTags`` object of an accept event."""
        return {"metadata": self.metadata, "data": self.data, "attachments": self.attachments}


@dataclass(frozen=True)
class ReceivedAttachment:
    """A decrypted, hash-checked attachment (`content` is never shown in a repr)."""

    attachment_id: str
    filename: str
    mime_type: str
    purpose: str
    sha512: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Size of the plaintext in bytes."""
        return len(self.content)


@dataclass(frozen=True)
class ReceivedSubmission:
    """A fetched submission: decrypted, every hash verified, data parsed if it is JSON.

    The personal data (`metadata`, `data`, `data_json`, attachment contents) stays out of
    the repr so it cannot slip into a log line or a traceback.
    """

    submission_id: str
    case_id: str
    destination_id: str
    service_type: dict[str, Any]
    schema_uri: str
    data_mime_type: str
    data_sha512: str
    auth_tags: AuthenticationTags
    attachments: list[ReceivedAttachment]
    metadata: dict[str, Any] = field(repr=False)
    data: bytes = field(repr=False)
    data_json: Any = field(repr=False, default=None)

    def envelope(self) -> Envelope:
        """What the record may take from the submission besides its data."""
        return Envelope(
            item_key=self.submission_id,
            case_id=self.case_id,
            attachment_types=tuple(a.mime_type for a in self.attachments),
        )

    def record(self, *, today: date | None = None) -> BaseModel:
        """Validate the data into the record registered for its schema (`connectors.records`).

        Args:
            today: Day to check dates against (default: today).

        Returns:
            The typed record of the submission's service, as registered for its schema.

        Raises:
            SubmissionInvalid: No record for the schema (``schema-unsupported``), data that is
                no JSON, or data that breaks the schema or a rule of the record; carries
                `submission_id` and `case_id`, ready for `PortalClient.reject`.
        """
        try:
            record_type(self.schema_uri)  # an unknown form first, whatever its data
            if self.data_json is None:
                raise SubmissionInvalid(
                    [
                        problem(
                            "syntax-violation",
                            "Die Antragsdaten sind kein JSON.",
                            code="data-syntax",
                        )
                    ]
                )
            return parse_record(
                self.schema_uri, self.data_json, envelope=self.envelope(), today=today
            )
        except SubmissionInvalid as exc:
            exc.submission_id = self.submission_id
            exc.case_id = self.case_id
            log.warning(
                "portal.submission_invalid", submission_id=self.submission_id, codes=exc.codes
            )
            raise


@dataclass(frozen=True)
class EventResult:
    """Outcome of `accept` / `reject`.

    Attributes:
        set_token: The signed SET now in the portal's event log (store it: proof of the
            decision). When the decision was already there, this is the stored one.
        created: False when the portal already had this decision (nothing was sent or stored).
    """

    set_token: str
    created: bool
    event_type: str
    jti: str


@dataclass(frozen=True)
class PortalEvent:
    """One verified SET of a case's event log."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def event_type(self) -> str:
        """The full event URI (the SET carries exactly one)."""
        return str(next(iter(self.claims["events"])))

    @property
    def payload(self) -> dict[str, Any]:
        """The event's content (authentication tags, problems …)."""
        value = self.claims["events"][self.event_type]
        return value if isinstance(value, dict) else {}

    @property
    def submission_id(self) -> str | None:
        """The submission the event is about (from ``sub``)."""
        sub = self.claims.get("sub")
        return sub.removeprefix("submission:") if isinstance(sub, str) else None

    @property
    def jti(self) -> str:
        """The token id."""
        return str(self.claims.get("jti", ""))


@dataclass(frozen=True)
class ReplyAttachment:
    """A document sent back to the citizen with a reply (e.g. the notice as PDF)."""

    filename: str
    mime_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class ReplyResult:
    """Outcome of `reply`; `created` is False when the reply id was already there."""

    reply_id: str
    case_id: str
    created: bool


_GET_RETRY_PAUSES_S = (0.2, 0.5)


def _is_pdf(content: bytes) -> bool:
    """True if `content` starts like a PDF and pypdf can open it and count its pages."""
    if not content.startswith(b"%PDF-"):
        return False
    from pypdf import PdfReader  # local: only needed for attachments

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=False)
            return len(reader.pages) >= 1
    except Exception:  # pypdf raises many unrelated types for broken files: all mean "not a PDF"
        return False
    finally:
        pypdf_log.setLevel(level)


class PortalClient:
    """Sync client of the portal's receiver API (httpx), with OAuth token caching.

    Use as a context manager or call `close()`. One client per thread.

    Args:
        settings: Where and who we are; the private keys are loaded once here.
        transport: An httpx transport (tests only).
        clock: Returns Unix time; used for token expiry (tests only).
    """

    def __init__(
        self,
        settings: PortalSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        keys = settings.load_private_keys()
        try:
            self._enc_key = import_rsa(keys["encryption"])
            self._sig_key = import_rsa(keys["signing"])
        except Exception as exc:  # joserfc: several types for a bad JWK; all a config error
            raise ApplicationError(
                "Die privaten Schlüssel für den Portal-Empfang sind ungültig.", code="portal-keys"
            ) from exc
        if not self._sig_key.kid:
            raise ApplicationError("Dem Signaturschlüssel fehlt die kid.", code="portal-keys")
        self._clock = clock
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout(),
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._portal_keys: dict[str, RSAKey] = {}
        self.token_fetches = 0

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP plumbing --------------------------------------------------------------------

    def _raw(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApplicationError(
                "Das Portal antwortet nicht rechtzeitig.", code="portal-timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise ApplicationError(
                "Das Portal ist nicht erreichbar.", code="portal-unreachable"
            ) from exc

    def _access_token(self) -> str:
        margin = self.settings.token_refresh_margin_s
        if self._token is not None and self._clock() < self._token_expires_at - margin:
            return self._token
        resp = self._raw(
            "POST",
            self.settings.token_path,
            data={
                "grant_type": "client_credentials",
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret.get_secret_value(),
            },
        )
        if resp.status_code in (400, 401, 403):
            raise ApplicationError("Anmeldung am Portal fehlgeschlagen.", code="auth")
        if resp.status_code != 200:
            raise self._error(resp)
        body = self._json(resp)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ApplicationError("Das Portal gab kein Zugriffstoken aus.", code="auth")
        expires_in = body.get("expires_in", 300)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
        self._token = token
        self._token_expires_at = self._clock() + lifetime
        self.token_fetches += 1
        log.debug("portal.token", expires_in=lifetime)
        return token

    def _send(
        self, method: str, path: str, *, accept: Sequence[int] = (200,), **kwargs: Any
    ) -> httpx.Response:
        """An authenticated request; one fresh token on a 401; maps failures to our errors."""
        headers = dict(kwargs.pop("headers", {}) or {})
        resp: httpx.Response | None = None
        for attempt in range(2):
            headers["Authorization"] = f"Bearer {self._access_token()}"
            resp = self._raw(method, path, headers=headers, **kwargs)
            # A read is safe to repeat: one 5xx blip must not fail a whole item (or a
            # Klärfall run that fetches once), so GETs get a short second and third try.
            for pause in _GET_RETRY_PAUSES_S if method == "GET" else ():
                if resp.status_code < 500 and resp.status_code != 429:
                    break
                time.sleep(pause)
                resp = self._raw(method, path, headers=headers, **kwargs)
            if resp.status_code != 401:
                break
            self._token = None
            if attempt == 1:
                raise ApplicationError("Anmeldung am Portal abgelehnt.", code="auth")
        assert resp is not None
        if resp.status_code in accept:
            return resp
        raise self._error(resp)

    @staticmethod
    def _json(resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            raise ApplicationError(
                "Das Portal lieferte eine unlesbare Antwort.", code="portal-bad-response"
            ) from exc

    @staticmethod
    def _error(resp: httpx.Response) -> ApplicationError:
        status = resp.status_code
        if status == 429:
            return ApplicationError("Das Portal drosselt die Anfragen.", code="portal-rate-limited")
        if status >= 500:
            return ApplicationError(
                f"Das Portal meldet einen Serverfehler (HTTP {status}).", code="portal-unavailable"
            )
        kind = f"portal-http-{status}"
        title = ""
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            if isinstance(body.get("type"), str) and body["type"] != "about:blank":
                kind = body["type"].rstrip("/").rsplit("/", 1)[-1]
            title = str(body.get("title") or "")
        return ApplicationError(
            f"Das Portal lehnte die Anfrage ab (HTTP {status}{': ' + title if title else ''}).",
            code=kind,
        )

    def _api(self, path: str) -> str:
        return self.settings.api_path(path)

    # --- inbox ----------------------------------------------------------------------------

    def destination(self) -> dict[str, Any]:
        """Our destination as the portal describes it (status, keys, services)."""
        resp = self._send("GET", self._api(f"destinations/{self.settings.destination_id}"))
        body = self._json(resp)
        if not isinstance(body, dict):
            raise ApplicationError("Unerwartete Antwort des Portals.", code="portal-bad-response")
        return body

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
            ApplicationError: The portal misbehaved.
        """
        body = self._json(self._send("GET", self._api(f"submissions/{submission_id}")))
        if not isinstance(body, dict):
            raise ApplicationError("Unerwartete Antwort des Portals.", code="portal-bad-response")
        case_id = str(body.get("caseId", ""))

        def invalid(problems: list[Problem]) -> SubmissionInvalid:
            exc = SubmissionInvalid(problems)
            exc.submission_id = submission_id
            exc.case_id = case_id
            log.warning("portal.submission_invalid", submission_id=submission_id, codes=exc.codes)
            return exc

        enc_meta = body.get("encryptedMetadata")
        enc_data = body.get("encryptedData")
        if not isinstance(enc_meta, str) or not isinstance(enc_data, str):
            raise invalid([problem("missing-data", "Der Antrag enthält keine Daten.")])
        try:
            meta_bytes, _ = decrypt_part(enc_meta, self._enc_key, instance="metadata")
        except PartError as exc:
            raise invalid([exc.problem]) from None
        metadata = _parse_json(meta_bytes)
        structure = metadata.get("contentStructure") if isinstance(metadata, dict) else None
        data_spec = structure.get("data") if isinstance(structure, dict) else None
        schema = data_spec.get("submissionSchema") if isinstance(data_spec, dict) else None
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
        if wanted is not None and schema.get("schemaUri") != wanted:
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
            data, _ = decrypt_part(enc_data, self._enc_key, instance="data")
            data_hash = verify_hash(data, data_spec.get("hash"), instance="data")
        except PartError as exc:
            problems.append(exc.problem)
        else:
            if data_mime == "application/json" or data_mime.endswith("+json"):
                data_json = _parse_json(data)
                if data_json is _INVALID:
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
            got = self._attachment(aid, token, described.get(aid))
            if isinstance(got, Problem):
                problems.append(got)
            else:
                attachments.append(got)

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
            auth_tags=AuthenticationTags(auth_tag(enc_meta), auth_tag(enc_data), tags),
            attachments=attachments,
            metadata=metadata,
            data=data,
            data_json=data_json,
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

    def _attachment(
        self, aid: str, token: str, spec: dict[str, Any] | None
    ) -> ReceivedAttachment | Problem:
        instance = f"attachment:{aid}"
        limit = self.settings.max_attachment_bytes
        if spec is None:
            return problem(
                "incorrect-attachment",
                "Eine Anlage ist in den Metadaten nicht beschrieben.",
                instance=instance,
                code="attachment-undescribed",
            )
        too_large = problem(
            "incorrect-attachment",
            f"Eine Anlage ist zu groß (höchstens {limit // (1024 * 1024)} MiB).",
            instance=instance,
            code="attachment-too-large",
        )
        # base64url inflates by 4/3; refuse before decrypting far too large ciphertext
        if len(token) > limit * 4 // 3 + 64 * 1024:
            return too_large
        try:
            content, _ = decrypt_part(token, self._enc_key, instance=instance)
            digest = verify_hash(content, spec.get("hash"), instance=instance)
        except PartError as exc:
            return exc.problem
        if len(content) > limit:
            return too_large
        mime = str(spec.get("mimeType", "application/octet-stream"))
        if mime == PDF and not _is_pdf(content):
            return problem(
                "incorrect-attachment",
                "Die Anlage ist keine lesbare PDF-Datei.",
                instance=instance,
                code="attachment-not-pdf",
            )
        return ReceivedAttachment(
            attachment_id=aid,
            filename=str(spec.get("filename", aid)),
            mime_type=mime,
            purpose=str(spec.get("purpose", "attachment")),
            sha512=digest,
            content=content,
        )

    # --- events ---------------------------------------------------------------------------

    def _portal_key(self, kid: str, *, refresh: bool) -> RSAKey | None:
        if kid == self._sig_key.kid:
            return self._sig_key
        if refresh or kid not in self._portal_keys:
            resp = self._raw("GET", "/.well-known/jwks.json")
            if resp.status_code != 200:
                raise self._error(resp)
            body = self._json(resp)
            keys = body.get("keys") if isinstance(body, dict) else None
            if not isinstance(keys, list):
                raise ApplicationError("JWKS des Portals unlesbar.", code="portal-bad-response")
            self._portal_keys = {
                str(k["kid"]): import_rsa(k)
                for k in keys
                if isinstance(k, dict) and k.get("kty") == "RSA" and "kid" in k
            }
        return self._portal_keys.get(kid)

    def events(self, case_id: str) -> list[PortalEvent]:
        """The case's event log, each SET's signature verified (portal's JWKS or our key).

        Raises:
            ApplicationError: ``portal-event-signature`` if an event does not verify.
        """
        resp = self._send("GET", self._api(f"cases/{case_id}/events"), accept=(200, 404))
        if resp.status_code == 404:
            return []
        body = self._json(resp)
        tokens = body.get("eventLog") if isinstance(body, dict) else None
        if not isinstance(tokens, list):
            raise ApplicationError("Ereignisprotokoll unlesbar.", code="portal-bad-response")
        out: list[PortalEvent] = []
        for token in tokens:
            out.append(self._verify_event(str(token), case_id))
        return out

    def _verify_event(self, token: str, case_id: str) -> PortalEvent:
        bad = ApplicationError(
            "Ein Ereignis im Protokoll des Portals ist nicht gültig signiert.",
            code="portal-event-signature",
        )
        header = jose_header(token, segments=3)
        kid = header.get("kid") if header else None
        if not isinstance(kid, str):
            raise bad
        key = self._portal_key(kid, refresh=False) or self._portal_key(kid, refresh=True)
        if key is None:
            raise bad
        try:
            header, claims = verify_set(token, key)
        except ValueError:
            raise bad from None
        if claims.get("txn") != f"case:{case_id}":
            raise bad
        return PortalEvent(token=token, header=header, claims=claims)

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

    # --- replies --------------------------------------------------------------------------

    def reply(
        self,
        case_id: str,
        reply_id: str | uuid.UUID,
        title: str,
        attachments: Sequence[ReplyAttachment] = (),
    ) -> ReplyResult:
        """Send a reply (e.g. the notice) to the citizen; idempotent by `reply_id`.

        Args:
            case_id: The accepted case.
            reply_id: A UUID chosen by the caller and kept for reruns (derive it from the
                business key, e.g. ``uuid5``).
            title: Shown to the citizen.
            attachments: Documents to send.
        """
        rid = str(reply_id)
        body = {
            "replyId": rid,
            "title": title,
            "attachments": [
                {
                    "filename": a.filename,
                    "mimeType": a.mime_type,
                    "content": base64.b64encode(a.content).decode("ascii"),
                }
                for a in attachments
            ],
        }
        resp = self._send(
            "POST", self._api(f"cases/{case_id}/replies"), accept=(200, 201), json=body
        )
        created = resp.status_code == 201
        log.info("portal.reply", case_id=case_id, reply_id=rid, created=created)
        return ReplyResult(reply_id=rid, case_id=case_id, created=created)


_INVALID: Final = object()


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _INVALID


def _conflict(submission_id: str, existing: str) -> ReviewRequired:
    state = "angenommen" if existing == ACCEPT else "abgelehnt"
    return ReviewRequired(
        f"Die Einreichung wurde im Portal bereits {state}; bitte prüfen.",
        code="portal-decision-conflict",
        facts={"submissionId": submission_id, "existingEvent": existing.rsplit("/", 1)[-1]},
    )
