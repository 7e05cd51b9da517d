"""Sender side over HTTP: what an online service (the citizen's portal front end) does.

`SenderClient.submit_application` walks the FIT-Connect sender protocol — token, destination
key, seal every part, announce, upload attachments, submit — so seeding, benchmarks and tests
file applications the same way the web form does. Knobs let tests build broken submissions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypedDict

import httpx

from sandbox.portal._codes import DEFAULT_DESTINATION_ID, HUNDESTEUER_SERVICE
from sandbox.portal._envelope import (
    DEFAULT_COMPRESS_SHARE,
    Attachment,
    email_reply_channel,
    seal_submission,
)

__all__ = ["SenderClient", "SubmissionRef"]


class SubmissionRef(TypedDict):
    """Ids of a filed submission."""

    destinationId: str
    submissionId: str
    caseId: str
    attachmentIds: list[str]


class SenderClient:
    """A FIT-Connect sender for the sandbox portal.

    Args:
        base_url: The portal's base URL, e.g. ``http://127.0.0.1:8401``.
        client_id: The sender client id.
        client_secret: The sender client secret.
        destination_id: The destination to file to (the Steueramt by default).
        timeout: HTTP timeout in seconds.
        compress_share: Share of parts sealed with ``zip: "DEF"`` (see `seal_submission`).
        trust_anchor: PEM certificate the destination key's ``x5c`` chain must lead to.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        destination_id: str = DEFAULT_DESTINATION_ID,
        timeout: float = 10.0,
        compress_share: float = DEFAULT_COMPRESS_SHARE,
        trust_anchor: bytes | None = None,
    ) -> None:
        self.destination_id = destination_id
        self.compress_share = compress_share
        self.trust_anchor = trust_anchor
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._token: str | None = None
        self._token_expires = 0.0
        self._key: dict[str, Any] | None = None

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> SenderClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def token(self) -> str:
        """A valid bearer token (fetched again shortly before it expires)."""
        if self._token is None or time.monotonic() > self._token_expires:
            resp = self._http.post(
                "/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
            resp.raise_for_status()
            body = resp.json()
            self._token = str(body["access_token"])
            self._token_expires = time.monotonic() + max(1, int(body["expires_in"]) - 30)
        return self._token

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """An authenticated request; re-authenticates once on 401. Raises on 4xx/5xx."""
        for attempt in (1, 2):
            headers = {**kwargs.pop("headers", {}), "authorization": f"Bearer {self.token()}"}
            resp = self._http.request(method, url, headers=headers, **kwargs)
            if resp.status_code == 401 and attempt == 1:
                self._token = None
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "authorization"}
                continue
            resp.raise_for_status()
            return resp
        raise AssertionError("unreachable")

    def destination(self) -> dict[str, Any]:
        """The destination's public description."""
        return dict(self.request("GET", f"/v1/destinations/{self.destination_id}").json())

    def encryption_key(self) -> dict[str, Any]:
        """The destination's public encryption JWK (cached)."""
        if self._key is None:
            kid = self.destination()["encryptionKid"]
            self._key = dict(
                self.request("GET", f"/v1/destinations/{self.destination_id}/keys/{kid}").json()
            )
        return self._key

    def event_log(self, case_id: str) -> list[str]:
        """The SETs of a case."""
        return list(self.request("GET", f"/v1/cases/{case_id}/events").json()["eventLog"])

    def submit_application(
        self,
        data: Mapping[str, Any] | None,
        attachments: Sequence[Attachment] = (),
        *,
        data_bytes: bytes | None = None,
        raw_parts: Mapping[str, str] | None = None,
        tamper_metadata: Callable[[dict[str, Any]], None] | None = None,
        service_type: Mapping[str, str] | None = None,
        skip_attachments: Sequence[int] = (),
        submit: bool = True,
        without_data: bool = False,
        reply_channel: Mapping[str, Any] | None | Literal["from-data"] = "from-data",
    ) -> SubmissionRef:
        """File one application.

        Args:
            data: The Hundesteuer data (serialized as UTF-8 JSON).
            attachments: ``(filename, mime type, content)`` per attachment.
            data_bytes: Send these bytes as the data instead of `data` (e.g. invalid JSON).
            raw_parts: Replace a sealed part by a given compact JWE before sending; keys are
                ``"metadata"``, ``"data"`` or ``"attachment:<index>"``.
            tamper_metadata: Change the metadata dict before it is encrypted (wrong hash …).
            service_type: Override the service type (default: Hundesteuer).
            skip_attachments: Indexes of announced attachments not to upload.
            submit: False leaves the submission ``incomplete``.
            without_data: File attachments only (no ``encryptedData``, optional in v1).
            reply_channel: The metadata's ``replyChannel``; ``None`` for none (the answer
                comes by post). Default: e-mail to the address in the data
                (``owner.email``), as the online form does.

        Returns:
            The submission's ids.

        Raises:
            httpx.HTTPStatusError: The portal refused a step.
        """
        if data_bytes is None and not without_data:
            data_bytes = json.dumps(data, ensure_ascii=False).encode()
        if reply_channel == "from-data":
            owner = (data or {}).get("owner")
            address = owner.get("email") if isinstance(owner, Mapping) else None
            reply_channel = email_reply_channel(address) if isinstance(address, str) else None
        sealed = seal_submission(
            None if without_data else data_bytes,
            attachments,
            self.encryption_key(),
            tamper_metadata=tamper_metadata,
            compress_share=self.compress_share,
            trust_anchor=self.trust_anchor,
            reply_channel=reply_channel,
        )
        raw = dict(raw_parts or {})
        ref = self.request(
            "POST",
            "/v1/submissions",
            json={
                "destinationId": self.destination_id,
                "announcedAttachments": sealed.attachment_ids,
                "serviceType": dict(service_type or HUNDESTEUER_SERVICE),
            },
        ).json()
        sid = ref["submissionId"]
        for index, aid in enumerate(sealed.attachment_ids):
            if index in skip_attachments:
                continue
            token = raw.get(f"attachment:{index}", sealed.encrypted_attachments[aid])
            self.request(
                "PUT",
                f"/v1/submissions/{sid}/attachments/{aid}",
                content=token.encode(),
                headers={"content-type": "application/jose"},
            )
        if submit:
            body = {"encryptedMetadata": raw.get("metadata", sealed.encrypted_metadata)}
            enc_data = raw.get("data", sealed.encrypted_data)
            if enc_data is not None:
                body["encryptedData"] = enc_data
            self.request("PUT", f"/v1/submissions/{sid}", json=body)
        return SubmissionRef(
            destinationId=ref["destinationId"],
            submissionId=sid,
            caseId=ref["caseId"],
            attachmentIds=list(sealed.attachment_ids),
        )
