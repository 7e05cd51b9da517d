"""OAuth2 client credentials for the portal's two clients: the sender and the receiver.

Tokens live in memory only (a restart logs every client out, as a real token service's key
rotation would); `expire_tokens` lets tests exercise re-authentication.

The token endpoint answers refusals in OAuth2 form (RFC 6749 §5.2: ``{"error":
"invalid_client", "error_description": …}``, 400 or 401), not as problem+json, and grants the
scopes FIT-Connect documents: ``send:region:DE`` for senders (scopes-sender) and
``https://schema.fitko.de/fit-connect/oauth/scopes/subscribe-destinations`` for subscribers
(scopes-subscriber).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox.portal._base import PortalBase, Problem
from sandbox.portal._config import PortalConfig
from sandbox.portal._keys import KeyMaterial
from sandbox.portal._store import Store

__all__ = ["RECEIVER", "SENDER", "SUBSCRIBE_SCOPE", "OAuthError", "TokenAuth"]

SENDER = "sender"
RECEIVER = "receiver"
SEND_SCOPE = "send:region:DE"
SUBSCRIBE_SCOPE = "https://schema.fitko.de/fit-connect/oauth/scopes/subscribe-destinations"


class OAuthError(Exception):
    """A refused token request, answered as an OAuth2 error body (RFC 6749 §5.2)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON answer."""
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Token:
    role: str
    client_id: str
    expires_at: float


class TokenAuth(PortalBase):
    """Issues and checks bearer tokens; the client decides the role."""

    def __init__(self, config: PortalConfig, keys: KeyMaterial, store: Store) -> None:
        super().__init__(config, keys, store)
        self._tokens: dict[str, _Token] = {}
        self._token_lock = threading.Lock()

    def issue_token(
        self, grant_type: str, client_id: str, client_secret: str, scope: str = ""
    ) -> dict[str, Any]:
        """OAuth2 client credentials grant; the client decides the role (sender/receiver).

        Raises:
            OAuthError: ``invalid_request``, ``unsupported_grant_type``, ``invalid_client``,
                or ``invalid_scope`` when `scope` asks for more than the client may have.
        """
        if not grant_type or not client_id:
            raise OAuthError(400, "invalid_request", "grant_type und client_id sind Pflicht")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "Nur client_credentials")
        cfg = self.config
        clients = {
            cfg.sender_client_id: (cfg.sender_client_secret, SENDER),
            cfg.receiver_client_id: (cfg.receiver_client_secret, RECEIVER),
        }
        expected = clients.get(client_id)
        if expected is None or not secrets.compare_digest(
            client_secret.encode(), expected[0].encode()
        ):
            raise OAuthError(401, "invalid_client", "Client-Anmeldung fehlgeschlagen")
        role = expected[1]
        granted = SEND_SCOPE if role == SENDER else SUBSCRIBE_SCOPE
        if scope and any(s != granted for s in scope.split()):
            raise OAuthError(400, "invalid_scope", "Angefragter Scope nicht erlaubt")
        token = secrets.token_urlsafe(32)
        with self._token_lock:
            now = time.time()
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
            self._tokens[token] = _Token(role, client_id, now + cfg.token_lifetime_s)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": cfg.token_lifetime_s,
            "scope": granted,
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
