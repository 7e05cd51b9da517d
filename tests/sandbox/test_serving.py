"""How the sandbox apps are served: loopback, a free port, and no Nagle delay on keep-alive."""

from __future__ import annotations

import socket

import httpx
from fastapi import FastAPI

from sandbox._common import serve_in_thread


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "x" * 2000}

    return app


def test_served_sockets_switch_nagle_off() -> None:
    """Without TCP_NODELAY every keep-alive answer waits ~40 ms for the client's delayed ACK,
    which would put a fake floor under every benchmark against the sandbox."""
    with serve_in_thread(_app()) as served:
        with httpx.Client(base_url=served.base_url) as client:
            assert client.get("/ping").status_code == 200
            assert client.get("/ping").status_code == 200  # the same connection again
        listeners = [s for srv in served.server.servers for s in srv.sockets]
        assert listeners
        for sock in listeners:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert sock.getsockname()[0] == "127.0.0.1"
