"""Settings of the portal connector (env prefix ``AMTSBOTE_PORTAL_``).

The receiver's private keys (encryption and event signing) are the most sensitive thing this
connector holds. They come either as a path to a JSON file ``{"encryption": <private JWK>,
"signing": <private JWK>}`` or as that JSON itself in a secret (environment, or
``prefect-secret:<block>``); never from prefect.yaml or code.

Key rotation: ``encryption`` may also be a list of private JWKs, and ``previousEncryption``
lists keys that are no longer published but still open submissions sent before the rotation.
Every key needs a distinct ``kid``; the receiver picks the key by the JWE's ``kid``. Rotate by
publishing the new key on the destination, adding it here *before* (keep the old one), and
dropping the old one once no submission in the portal is encrypted to it any more.

The token endpoint lives on its own host in FIT-Connect (``token_url``, e.g.
``https://auth-testing.fit-connect.fitko.dev/token``); without it the token is fetched from
``<base_url><token_path>``, as the sandbox serves it. FIT-Connect advises against naming
scopes in the token request (they may change without a major version), so ``scope`` stays
unset unless a deployment needs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from amtsbote import ApplicationError, SecretSettings

__all__ = ["PortalSettings"]


class PortalSettings(SecretSettings):
    """How to reach the portal and act as the receiving destination."""

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_PORTAL_", extra="ignore")

    base_url: str = Field("http://127.0.0.1:8101", description="portal root, without /v1")
    destination_id: str = Field(..., description="our destination (Zustellpunkt) id")
    client_id: str = Field(..., description="OAuth client id of the receiver")
    client_secret: SecretStr
    private_keys: SecretStr | None = Field(
        None, description='JSON {"encryption": JWK, "signing": JWK} (alternative to the file)'
    )
    private_keys_file: Path | None = Field(None, description="file holding that JSON")
    api_version: str = Field("v1", description="path prefix of the submission API")
    token_path: str = "/token"
    token_url: str | None = Field(
        None, description="the OAuth token endpoint (own auth host); default base_url+token_path"
    )
    scope: str | None = Field(
        None, description="OAuth scopes to ask for (FIT-Connect advises to leave this unset)"
    )
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    page_size: int = Field(100, ge=1, le=500)
    event_page_size: int = Field(500, ge=1, le=500, description="events per event-log page")
    token_refresh_margin_s: float = Field(
        60.0, ge=0, description="fetch a new token this long before the old one expires"
    )
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1)
    schema_uri: str | None = Field(
        None,
        description="the only data schema this destination takes (default: every schema "
        "with a registered record, see connectors.records)",
    )

    def timeout(self) -> httpx.Timeout:
        """The httpx timeout built from the settings."""
        return httpx.Timeout(self.read_timeout_s, connect=self.connect_timeout_s)

    def token_endpoint(self) -> str:
        """The absolute URL of the OAuth token endpoint."""
        if self.token_url:
            return self.token_url
        return self.base_url.rstrip("/") + "/" + self.token_path.lstrip("/")

    def api_path(self, path: str) -> str:
        """``/<api_version>/<path>``."""
        return f"/{self.api_version.strip('/')}/{path.lstrip('/')}"

    def load_private_keys(self) -> dict[str, Any]:
        """The private JWKs: ``encryption`` (a list, current first) and ``signing``.

        Raises:
            ApplicationError: ``portal-keys`` when neither source is set or the JSON is unusable
                (a configuration problem).
        """
        try:
            if self.private_keys is not None:
                raw = self.private_keys.get_secret_value()
            elif self.private_keys_file is not None:
                raw = self.private_keys_file.read_text(encoding="utf-8")
            else:
                raise ApplicationError(
                    "Keine privaten Schlüssel für den Portal-Empfang konfiguriert.",
                    code="portal-keys",
                )
            keys = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ApplicationError(
                "Die privaten Schlüssel für den Portal-Empfang sind nicht lesbar.",
                code="portal-keys",
            ) from exc
        bad = ApplicationError(
            "Die Schlüsseldatei muss 'encryption' (JWK oder Liste) und 'signing' (JWK) enthalten.",
            code="portal-keys",
        )
        if not isinstance(keys, dict) or not isinstance(keys.get("signing"), dict):
            raise bad
        current = keys.get("encryption")
        previous = keys.get("previousEncryption") or []
        encryption = [current] if isinstance(current, dict) else current
        if not isinstance(encryption, list) or not isinstance(previous, list):
            raise bad
        encryption = [*encryption, *previous]
        if not encryption or not all(isinstance(k, dict) for k in encryption):
            raise bad
        return {"encryption": encryption, "signing": keys["signing"]}
