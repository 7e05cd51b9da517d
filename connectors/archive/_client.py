"""File documents in the e-Akte under an Aktenzeichen, idempotently by document key.

Put-by-key is what makes archiving safe to redo after a crash (design principle 1): the
archive answers 201 for a new document, 200 when the key already holds the same bytes, and 409
when it holds *other* bytes. That conflict is neither the citizen's fault
(`BusinessRuleError`) nor cured by a retry (`ApplicationError`): two different documents
claim the same place in a legal record, so a clerk must look — `ReviewRequired` with code
``archive-conflict`` and both SHA-256 digests as facts.

Transport errors, timeouts, 5xx and 429 → `ApplicationError` (retried). Other 4xx answers to
our own requests (bad name, bad token) → `ApplicationError` with a precise code: a bug or a
configuration problem. Logs carry Aktenzeichen, keys, sizes and digests; never content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx

from amtsbote import ApplicationError, ReviewRequired, get_logger
from connectors.archive._settings import EakteSettings

__all__ = ["DocumentInfo", "EakteClient", "PutResult", "StoredDocument"]

log = get_logger(__name__)


@dataclass(frozen=True)
class PutResult:
    """Outcome of `EakteClient.put_document`; `created` is False when it was already there."""

    aktenzeichen: str
    key: str
    created: bool
    sha256: str
    size: int


@dataclass(frozen=True)
class DocumentInfo:
    """A document's metadata as the e-Akte lists it."""

    key: str
    filename: str
    mime_type: str
    sha256: str
    size: int
    created_at: str


@dataclass(frozen=True)
class StoredDocument:
    """A document read back from the e-Akte (`content` never shown in a repr)."""

    key: str
    filename: str
    mime_type: str
    sha256: str
    content: bytes = field(repr=False)


def _seg(value: str) -> str:
    return quote(value, safe="")


class EakteClient:
    """Sync client of the e-Akte API (httpx). Use as a context manager or call `close()`.

    Args:
        settings: Where the e-Akte is and the token.
        transport: An httpx transport (tests only).
    """

    def __init__(
        self, settings: EakteSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout(),
            transport=transport,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> EakteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing -------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, accept: Sequence[int], **kwargs: Any
    ) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApplicationError(
                "Die e-Akte antwortet nicht rechtzeitig.", code="archive-timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise ApplicationError(
                "Die e-Akte ist nicht erreichbar.", code="archive-unreachable"
            ) from exc
        if resp.status_code in accept:
            return resp
        status = resp.status_code
        if status == 429:
            raise ApplicationError("Die e-Akte drosselt die Anfragen.", code="archive-rate-limited")
        if status >= 500:
            raise ApplicationError(
                f"Die e-Akte meldet einen Serverfehler (HTTP {status}).",
                code="archive-unavailable",
            )
        if status in (401, 403):
            raise ApplicationError("Anmeldung an der e-Akte abgelehnt.", code="auth")
        raise ApplicationError(
            f"Die e-Akte lehnte die Anfrage ab (HTTP {status}).", code=f"archive-http-{status}"
        )

    @staticmethod
    def _json(resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            raise ApplicationError(
                "Die e-Akte lieferte eine unlesbare Antwort.", code="archive-bad-response"
            ) from exc

    # --- API ------------------------------------------------------------------------------

    def ensure_akte(self, aktenzeichen: str) -> bool:
        """Create the Akte if it does not exist.

        Returns:
            True if it was created now, False if it was already there.
        """
        resp = self._request("PUT", f"/akten/{_seg(aktenzeichen)}", accept=(200, 201))
        created = resp.status_code == 201
        if created:
            log.info("archive.akte_created", aktenzeichen=aktenzeichen)
        return created

    def put_document(
        self, aktenzeichen: str, key: str, filename: str, mime_type: str, content: bytes
    ) -> PutResult:
        """File a document under `key` in the Akte (created if missing); idempotent.

        Args:
            aktenzeichen: The file number (from the back office).
            key: The document's business key within the Akte, stable across reruns
                (e.g. ``antrag-<submission id>``, ``bescheid``).
            filename: Shown to clerks.
            mime_type: The content type.
            content: The bytes.

        Returns:
            Whether it was stored now (`created`) or was already there with the same bytes.

        Raises:
            ReviewRequired: ``archive-conflict``: the key holds a different document;
                ``archive-too-large``: the archive refuses the size.
            ApplicationError: The archive misbehaved.
        """
        sha256 = hashlib.sha256(content).hexdigest()
        path = f"/akten/{_seg(aktenzeichen)}/dokumente/{_seg(key)}"
        headers = {"Content-Type": mime_type, "X-Filename": quote(filename, safe="")}
        accept = (200, 201, 404, 409, 413)
        resp = self._request("PUT", path, accept=accept, content=content, headers=headers)
        if resp.status_code == 404:
            self.ensure_akte(aktenzeichen)
            resp = self._request("PUT", path, accept=accept, content=content, headers=headers)
        if resp.status_code == 404:
            raise ApplicationError(
                "Die Akte konnte nicht angelegt werden.", code="archive-akte-missing"
            )
        if resp.status_code == 409:
            body = self._json(resp)
            existing = body.get("sha256") if isinstance(body, dict) else None
            log.warning("archive.conflict", aktenzeichen=aktenzeichen, key=key, sha256=sha256)
            raise ReviewRequired(
                f"In der Akte {aktenzeichen} liegt unter „{key}“ bereits ein anderes Dokument.",
                code="archive-conflict",
                facts={
                    "aktenzeichen": aktenzeichen,
                    "key": key,
                    "existingSha256": existing,
                    "newSha256": sha256,
                },
            )
        if resp.status_code == 413:
            raise ReviewRequired(
                f"Das Dokument „{key}“ ist für die e-Akte zu groß.",
                code="archive-too-large",
                facts={"aktenzeichen": aktenzeichen, "key": key, "size": len(content)},
            )
        meta = self._json(resp)
        stored = meta.get("sha256") if isinstance(meta, dict) else None
        if stored != sha256:
            raise ApplicationError(
                "Die e-Akte bestätigt ein anderes Dokument als gesendet.", code="archive-integrity"
            )
        created = resp.status_code == 201
        log.info(
            "archive.document_put",
            aktenzeichen=aktenzeichen,
            key=key,
            created=created,
            size=len(content),
            sha256=sha256,
        )
        return PutResult(aktenzeichen, key, created, sha256, len(content))

    def list_documents(self, aktenzeichen: str) -> list[DocumentInfo]:
        """The documents in the Akte, oldest first; empty if the Akte does not exist."""
        resp = self._request("GET", f"/akten/{_seg(aktenzeichen)}", accept=(200, 404))
        if resp.status_code == 404:
            return []
        body = self._json(resp)
        docs = body.get("documents") if isinstance(body, dict) else None
        if not isinstance(docs, list):
            raise ApplicationError("Unerwartete Antwort der e-Akte.", code="archive-bad-response")
        return [
            DocumentInfo(
                key=str(d.get("key")),
                filename=str(d.get("filename")),
                mime_type=str(d.get("mimeType")),
                sha256=str(d.get("sha256")),
                size=int(d.get("size") or 0),
                created_at=str(d.get("created_at") or d.get("createdAt") or ""),
            )
            for d in docs
            if isinstance(d, dict)
        ]

    def get_document(self, aktenzeichen: str, key: str) -> StoredDocument | None:
        """Read a document back, or None if there is none under `key`.

        Raises:
            ApplicationError: ``archive-integrity`` if the bytes do not match the archive's
                own digest; others as for every call.
        """
        resp = self._request(
            "GET", f"/akten/{_seg(aktenzeichen)}/dokumente/{_seg(key)}", accept=(200, 404)
        )
        if resp.status_code == 404:
            return None
        content = resp.content
        sha256 = hashlib.sha256(content).hexdigest()
        etag = resp.headers.get("ETag", "").strip('"')
        if etag and etag != sha256:
            raise ApplicationError(
                "Das Dokument aus der e-Akte ist beschädigt.", code="archive-integrity"
            )
        filename = key
        disposition = resp.headers.get("Content-Disposition", "")
        if "filename*=UTF-8''" in disposition:
            filename = unquote(disposition.split("filename*=UTF-8''", 1)[1].split(";")[0])
        mime = resp.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        return StoredDocument(key, filename, mime, sha256, content)
