"""Talking to the portal: OAuth client credentials, token cache, one request, error mapping.

`PortalHTTP` is the base the inbox and the event parts of `PortalClient` build on. It loads
the receiver's private keys once, caches the access token until shortly before it expires,
retries a 401 once with a fresh token and a failed read (5xx, 429) twice after a short pause,
and maps everything else that goes wrong on the wire to `ApplicationError`:

- timeout → ``portal-timeout``, no connection → ``portal-unreachable``;
- 429 → ``portal-rate-limited``, 5xx → ``portal-unavailable``;
- the token endpoint answering an OAuth2 error (RFC 6749 §5.2): ``invalid_client`` or
  ``unauthorized_client`` → `LoginRefused` (wrong or revoked credentials: never retried, a
  retry could lock the client); any other OAuth2 error → ``portal-token-<error>`` (retried);
- a 401 that survives a fresh token → ``auth``;
- any other 4xx → the problem type the portal answered with (``submission-not-found`` …).

The token endpoint is its own URL (`PortalSettings.token_endpoint`): FIT-Connect runs it on a
separate auth host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Self

import httpx
from joserfc.jwk import RSAKey

from amtsbote import ApplicationError, LoginRefused, get_logger
from connectors.portal._crypto import import_rsa
from connectors.portal._settings import PortalSettings

__all__ = ["PortalHTTP"]

log = get_logger(__name__)

_GET_RETRY_PAUSES_S = (0.2, 0.5)
#: OAuth2 errors that mean "these credentials are refused" (RFC 6749 §5.2).
_REFUSED_LOGIN = frozenset({"invalid_client", "unauthorized_client"})


class PortalHTTP:
    """Authenticated HTTP to the portal (the base of `PortalClient`; see there)."""

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
            enc_keys = [import_rsa(k) for k in keys["encryption"]]
            self._sig_key = import_rsa(keys["signing"])
        except Exception as exc:  # joserfc: several types for a bad JWK; all a config error
            raise ApplicationError(
                "Die privaten Schlüssel für den Portal-Empfang sind ungültig.", code="portal-keys"
            ) from exc
        if not self._sig_key.kid:
            raise ApplicationError("Dem Signaturschlüssel fehlt die kid.", code="portal-keys")
        if len(enc_keys) > 1 and not all(k.kid for k in enc_keys):
            raise ApplicationError(
                "Bei mehreren Entschlüsselungsschlüsseln braucht jeder eine kid.",
                code="portal-keys",
            )
        #: The private encryption keys by kid (several during a key rotation).
        self._enc_keys: dict[str, RSAKey] = {str(k.kid or ""): k for k in enc_keys}
        if len(self._enc_keys) != len(enc_keys):
            raise ApplicationError(
                "Zwei Entschlüsselungsschlüssel haben dieselbe kid.", code="portal-keys"
            )
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

    def __enter__(self) -> Self:
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
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.get_secret_value(),
        }
        if self.settings.scope:
            form["scope"] = self.settings.scope
        resp = self._raw("POST", self.settings.token_endpoint(), data=form)
        if resp.status_code != 200:
            raise self._token_error(resp)
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

    def _token_error(self, resp: httpx.Response) -> Exception:
        """Map a refused token request: OAuth2 error body first, then the status."""
        try:
            body = resp.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str) and error:
            log.warning("portal.token_refused", error=error, status=resp.status_code)
            if error in _REFUSED_LOGIN:
                return LoginRefused(
                    "Das Portal lehnt die Anmeldedaten des Empfängers ab.",
                    account=self.settings.client_id,
                    system="portal",
                )
            return ApplicationError(
                f"Das Portal gab kein Zugriffstoken aus ({error}).",
                code=f"portal-token-{error.replace('_', '-')}",
            )
        if resp.status_code in (401, 403):
            return LoginRefused(
                "Das Portal lehnt die Anmeldedaten des Empfängers ab.",
                account=self.settings.client_id,
                system="portal",
            )
        return self._error(resp)

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
