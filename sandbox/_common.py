"""Shared plumbing of the Musterstadt sandbox apps: fault knobs, admin auth, serving on a port.

Every sandbox app (portal, Fachverfahren Steuern, e-Akte) can misbehave on purpose: a share of
500/503 answers, added latency, rare pages slower than a client's timeout, and a maintenance
mode. The knobs are set at start and changed while running through the token-protected
``GET/PUT /admin/faults`` endpoint, so tests can turn faults on mid-run.

The sandbox imports nothing of the Amtsbote framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

__all__ = [
    "Faults",
    "FaultState",
    "ServedApp",
    "install_faults",
    "require_bearer",
    "serve_in_thread",
]


class Faults(BaseModel):
    """Fault knobs common to all sandbox apps (apps may subclass and add their own)."""

    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of 500/503 answers")
    latency_ms: int = Field(0, ge=0, description="added to every answer")
    latency_jitter_ms: int = Field(0, ge=0, description="random extra latency 0..jitter")
    slow_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of very slow answers")
    slow_ms: int = Field(0, ge=0, description="latency of a slow answer")
    maintenance: bool = Field(False, description="answer 503 'Wartungsarbeiten' to everything")


class FaultState:
    """Holds the current knobs of one app; thread-safe enough for the GIL-bound apps."""

    def __init__(self, faults: Faults, seed: int | None = None) -> None:
        self.faults = faults
        self.rng = random.Random(seed)
        self.injected: dict[str, int] = {"errors": 0, "slow": 0, "maintenance": 0}

    def update(self, changes: dict[str, Any]) -> Faults:
        self.faults = self.faults.model_validate({**self.faults.model_dump(), **changes})
        return self.faults


def require_bearer(expected: str) -> Callable[[str | None], None]:
    """A FastAPI dependency that demands ``Authorization: Bearer <expected>``."""

    def check(authorization: str | None = Header(default=None)) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token, expected):
            raise HTTPException(status_code=401, detail="invalid admin token")

    return check


def _error_page(status: int, title: str, html: bool) -> Response:
    if html:
        body = (
            f"<!doctype html><html lang=de><head><title>Fehler {status} – {title}</title></head>"
            f"<body><h1>Fehler {status} – {title}</h1><p>Bitte versuchen Sie es später "
            "erneut.</p></body></html>"
        )
        return HTMLResponse(body, status_code=status)
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status},
        status_code=status,
        media_type="application/problem+json",
    )


def install_faults(
    app: FastAPI,
    state: FaultState,
    admin_token: str,
    *,
    html: bool,
    exempt: tuple[str, ...] = ("/admin/",),
) -> None:
    """Add the fault middleware and ``/admin/faults`` to `app`.

    Paths starting with one of `exempt` (the admin endpoints) never misbehave.
    """

    @app.middleware("http")
    async def faults_mw(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith(exempt):
            return await call_next(request)
        f = state.faults
        if f.maintenance:
            state.injected["maintenance"] += 1
            return _error_page(503, "Wartungsarbeiten", html)
        jitter = state.rng.randint(0, f.latency_jitter_ms) if f.latency_jitter_ms else 0
        delay = f.latency_ms + jitter
        if f.slow_rate and state.rng.random() < f.slow_rate:
            state.injected["slow"] += 1
            delay += f.slow_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        if f.error_rate and state.rng.random() < f.error_rate:
            state.injected["errors"] += 1
            status = state.rng.choice((500, 503))
            title = "Interner Serverfehler" if status == 500 else "Dienst nicht verfügbar"
            return _error_page(status, title, html)
        return await call_next(request)

    check = require_bearer(admin_token)

    @app.get("/admin/faults", include_in_schema=False)
    def get_faults(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        check(authorization)
        return {**state.faults.model_dump(), "injected": dict(state.injected)}

    @app.put("/admin/faults", include_in_schema=False)
    async def put_faults(
        request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        check(authorization)
        try:
            faults = state.update(await request.json())
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return faults.model_dump()


class ServedApp:
    """An ASGI app served by uvicorn in a background thread on 127.0.0.1."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
        self.server = server
        self.thread = thread
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int = 0, host: str = "127.0.0.1") -> Iterator[ServedApp]:
    """Serve `app` on `host`:`port` (0 = a free port) until the block ends."""
    # IPPROTO_TCP named explicitly: asyncio switches Nagle off (TCP_NODELAY) only on sockets
    # whose proto says TCP, and with Nagle on, every keep-alive answer waits for the client's
    # delayed ACK (measured: 44 ms instead of 2 ms per request). Accepted sockets inherit it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    real_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"sandbox-{real_port}"
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("sandbox app did not start")
        time.sleep(0.01)
    served = ServedApp(server, thread, real_port)
    try:
        yield served
    finally:
        served.stop()
        sock.close()
