"""Running the mail system: SMTP intake and webmail over one store, on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from sandbox._common import serve_in_thread
from sandbox.mail._app import create_app
from sandbox.mail._config import MailConfig
from sandbox.mail._smtp import SmtpIntake
from sandbox.mail._store import MailStore

__all__ = ["RunningMail", "serve_mail"]


@dataclass(frozen=True)
class RunningMail:
    """Where a running mail system answers."""

    smtp_host: str
    smtp_port: int
    base_url: str
    store: MailStore


@contextlib.contextmanager
def serve_mail(config: MailConfig | None = None) -> Iterator[RunningMail]:
    """Start SMTP intake and webmail until the block ends; both stop and release their ports."""
    config = config or MailConfig()
    store = MailStore(config.data_dir / "mail.sqlite3")
    try:
        smtp = SmtpIntake(
            store,
            host=config.host,
            port=config.smtp_port,
            hostname=config.hostname,
            max_bytes=config.max_message_bytes,
        )
        smtp.start()
        try:
            with serve_in_thread(create_app(config, store), config.http_port, config.host) as web:
                yield RunningMail(config.host, smtp.port, web.base_url, store)
        finally:
            smtp.stop()
    finally:
        store.close()
