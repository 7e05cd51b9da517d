"""The case's event log: read it page by page and verify every Security Event Token.

The service signs its own events (create-, submit-, notify-submission …) with the keys of its
``/.well-known/jwks.json``; our own accept/reject SETs verify with our signing key.
"""

from __future__ import annotations

from typing import Final

from joserfc.jwk import RSAKey

from amtsbote import ApplicationError
from connectors.portal._crypto import import_rsa, jose_header, verify_set
from connectors.portal._http import PortalHTTP
from connectors.portal._models import PortalEvent

__all__ = ["EVENT_PAGE", "EventLog"]

#: Events per page; the Submission API allows at most 500.
EVENT_PAGE: Final = 500


class EventLog(PortalHTTP):
    """Reading a case's event log (the base of `Inbox` and `Events`)."""

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

        Read in pages (``offset``/``limit``, at most 500 events a page as the service allows)
        until ``totalCount`` events are there.

        Raises:
            ApplicationError: ``portal-event-signature`` if an event does not verify.
        """
        out: list[PortalEvent] = []
        offset = 0
        while True:
            resp = self._send(
                "GET",
                self._api(f"cases/{case_id}/events"),
                accept=(200, 404),
                params={"offset": offset, "limit": min(EVENT_PAGE, self.settings.event_page_size)},
            )
            if resp.status_code == 404:
                return out
            body = self._json(resp)
            tokens = body.get("eventLog") if isinstance(body, dict) else None
            if not isinstance(tokens, list):
                raise ApplicationError("Ereignisprotokoll unlesbar.", code="portal-bad-response")
            for token in tokens:
                out.append(self._verify_event(str(token), case_id))
            offset += len(tokens)
            total = body.get("totalCount")
            if not tokens or not isinstance(total, int) or offset >= total:
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
