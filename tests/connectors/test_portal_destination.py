"""The destination as a sender and a receiver meet it: x5c chains checked against a trust
anchor, and the callback URL registered through the destination.

The callback test changes the destination, so it runs against a portal of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr

from amtsbote import ApplicationError
from connectors.portal import PortalClient, verify_callback
from sandbox._common import serve_in_thread
from sandbox.portal import PortalConfig, SenderClient, create_app, seal_submission
from tests.connectors.test_portal import DATA, settings_for
from tests.connectors.test_portal_protocol import OwnPortal
from tests.fixtures.portal import PortalHandle


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnPortal]:
    config = PortalConfig(data_dir=tmp_path_factory.mktemp("own-portal"), key_size=2048, seed=5)
    app = create_app(config)
    with serve_in_thread(app) as served:
        yield OwnPortal(PortalHandle(served.base_url, config), app)


# --- x5c: destination keys certified by the sandbox test CA -----------------------------------


def test_sender_checks_the_x5c_chain_against_its_trust_anchor(
    portal: PortalHandle, own: OwnPortal
) -> None:
    anchor = (portal.config.data_dir / "trust-anchor.pem").read_bytes()
    with SenderClient(
        portal.base_url,
        portal.sender.client_id,
        portal.sender.client_secret,
        destination_id=portal.destination_id,
        trust_anchor=anchor,
    ) as trusting:
        key = trusting.encryption_key()
        assert len(key["x5c"]) == 2  # leaf, then the CA
        ref = trusting.submit_application(DATA)
    assert ref["submissionId"]
    # another PKI's anchor (the other portal's CA) does not vouch for this key
    foreign = (own.handle.config.data_dir / "trust-anchor.pem").read_bytes()
    with pytest.raises(ValueError, match="trust anchor"):
        seal_submission(b"{}", [], key, trust_anchor=foreign)
    # a chain lifted onto another key is refused too
    other = {**key, "n": portal.receiver_keys["signing"]["n"]}
    with pytest.raises(ValueError, match="another key"):
        seal_submission(b"{}", [], other, trust_anchor=anchor)
    with pytest.raises(ValueError, match="no x5c"):
        seal_submission(
            b"{}", [], {k: v for k, v in key.items() if k != "x5c"}, trust_anchor=anchor
        )


# --- callback registration through the destination ---------------------------------------------


def test_callback_is_registered_through_the_destination(own: OwnPortal) -> None:
    portal = own.handle
    secret = "ein-eigenes-geheimnis-0123456789abcdef"
    arrived: list[dict[str, Any]] = []
    done = threading.Event()
    app = FastAPI()

    @app.post("/fit-connect/callback")
    async def callback(request: Request) -> Response:
        arrived.append(verify_callback(dict(request.headers), await request.body(), secret))
        done.set()
        return Response(status_code=200)

    with serve_in_thread(app) as served, PortalClient(settings_for(portal)) as receiver:
        for refused in ("http://portal.example/callback", "ftp://127.0.0.1/x", "callback"):
            with pytest.raises(ApplicationError) as info:
                receiver.register_callback(refused, SecretStr(secret))
            assert info.value.code == "portal-callback-url"
        receiver.register_callback(served.base_url + "/fit-connect/callback", SecretStr(secret))
        with portal.sender_client() as sender:
            ref = sender.submit_application(DATA)
        assert done.wait(10)
    assert arrived[0]["submissions"][0]["submissionId"] == ref["submissionId"]
    # the service refuses plain http to another host and a callback without a secret itself
    api = portal.receiver_api()
    try:
        url = f"/v1/destinations/{portal.destination_id}"
        bad_url = {"callback": {"url": "http://portal.example/cb", "secret": "s"}}
        assert api.http.patch(url, json=bad_url).status_code == 422
        no_secret = {"callback": {"url": "https://portal.example/cb"}}
        assert api.http.patch(url, json=no_secret).status_code == 400
    finally:
        api.close()
    portal.set_callback(None)  # leave no callback behind for later tests
