"""The SMTP intake (aiosmtpd): accepts mail for any recipient and files one copy per recipient.

Like a catch-all relay of a test environment, it refuses nothing by address: every ``RCPT TO``
gets a mailbox, created on first delivery. It answers ``250`` to ``DATA`` only after the message
is committed to the store, so a sender that got the ``250`` can rely on the letter being there;
a store failure answers ``451`` (try again later) and keeps nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from typing import Any

from aiosmtpd.smtp import SMTP

from sandbox.mail._parse import header_fields
from sandbox.mail._store import MailStore

__all__ = ["SmtpIntake"]

_log = logging.getLogger(__name__)


class _Handler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content or b"")
        try:
            message_id, from_header, subject = header_fields(raw)
            await asyncio.to_thread(
                self.store.deliver,
                raw,
                envelope_from=str(envelope.mail_from or ""),
                recipients=list(envelope.rcpt_tos),
                message_id=message_id,
                from_header=from_header,
                subject=subject,
            )
        except Exception:
            _log.exception("mail could not be stored")
            return "451 4.3.0 Requested action aborted: local error in processing"
        return "250 2.0.0 Message accepted for delivery"


class SmtpIntake:
    """An SMTP server on its own thread and event loop, bound before it starts (port 0 works)."""

    def __init__(
        self, store: MailStore, *, host: str, port: int, hostname: str, max_bytes: int
    ) -> None:
        self._store = store
        self._hostname = hostname
        self._max_bytes = max_bytes
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"smtp-{self.port}")
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _factory(self) -> SMTP:
        return SMTP(
            _Handler(self._store),
            hostname=self._hostname,
            data_size_limit=self._max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            loop=self._loop,
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                self._loop.create_server(self._factory, sock=self._sock)
            )
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(15) or self._error is not None:
            raise RuntimeError("SMTP intake did not start") from self._error

    def stop(self) -> None:
        if self._server is not None and self._loop.is_running():

            async def close() -> None:
                assert self._server is not None
                self._server.close()
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._server.wait_closed(), 5)

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._sock.close()
