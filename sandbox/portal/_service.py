"""The portal's core: submissions, events, status and tokens, shared by the API and the web form.

The HTML form and the sender API run through the same methods (`create_submission`,
`put_attachment`, `submit`), so a form submission is indistinguishable from an API one. Every
refusal is a `Problem`, rendered as ``application/problem+json`` by the API layer.
"""

from __future__ import annotations

from typing import Any

from sandbox.portal._auth import RECEIVER, SENDER, TokenAuth
from sandbox.portal._base import Problem
from sandbox.portal._codes import HUNDESTEUER_SCHEMA_URI, HUNDESTEUER_SERVICE
from sandbox.portal._receiver import ReceiverSide
from sandbox.portal._sender import SenderSide
from sandbox.portal._status import StatusAndExport

__all__ = ["RECEIVER", "SENDER", "Portal", "Problem"]


class Portal(TokenAuth, SenderSide, ReceiverSide, StatusAndExport):
    """State and rules of one portal instance (one destination: the Steueramt).

    Built from one part per concern: `TokenAuth` (OAuth2 tokens), `SenderSide` (submissions and
    callbacks), `ReceiverSide` (inbox and events), `StatusAndExport` (citizen status, export).
    """

    # --- destination ----------------------------------------------------------------------

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
        jwk = self.keys.public_key(kid)
        if jwk is None:
            raise Problem(404, "key-not-found", "Schlüssel nicht gefunden")
        return jwk

    def jwks(self) -> dict[str, Any]:
        """The portal's own signing keys (for the events it writes)."""
        return {"keys": [dict(self.keys.portal_signing_public)]}
