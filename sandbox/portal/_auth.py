"""OAuth2 client credentials for the portal's two clients: the sender and the receiver.

Tokens live in memory only (a restart logs every client out, as a real token service's key
rotation would); `expire_tokens` lets tests exercise re-authentication.
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

__all__ = ["RECEIVER", "SENDER", "TokenAuth"]

SENDER = "sender"
RECEIVER = "receiver"


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
