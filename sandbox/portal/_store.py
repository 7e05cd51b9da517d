"""SQLite persistence of the portal (stdlib sqlite3, one connection behind a lock).

The portal holds ciphertext and ids only; it carries no letters back (FIT-Connect has no reply
endpoint: the authority answers over the citizen's reply channel). `deadline_notices` remembers
which deadline mail went out for which submission, so each is sent once (see
`sandbox.portal._deadlines`). `reply_mailboxes` is the online service's note of the e-mail
address a citizen gave in the form, kept only when the sandbox runs a webmail (see
`PortalConfig.webmail_url`), so the status page can link to that mailbox.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT UNIQUE NOT NULL,
    case_id TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    service_type TEXT NOT NULL,
    announced TEXT NOT NULL,
    state TEXT NOT NULL,
    encrypted_metadata TEXT,
    encrypted_data TEXT,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    submitted_seq INTEGER
);
CREATE INDEX IF NOT EXISTS submissions_state ON submissions(state, submitted_seq);
CREATE INDEX IF NOT EXISTS submissions_case ON submissions(case_id);
CREATE TABLE IF NOT EXISTS attachments (
    submission_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    jwe TEXT NOT NULL,
    PRIMARY KEY (submission_id, attachment_id)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    jti TEXT UNIQUE NOT NULL,
    token TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_case ON events(case_id, seq);
CREATE TABLE IF NOT EXISTS deadline_notices (
    submission_id TEXT NOT NULL,
    level INTEGER NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (submission_id, level)
);
CREATE TABLE IF NOT EXISTS reply_mailboxes (
    case_id TEXT PRIMARY KEY,
    address TEXT NOT NULL
);
"""


class Store:
    """A single SQLite connection shared by the app's worker threads under one lock.

    The lock makes every `transaction()` block atomic with respect to the others, which is all
    the idempotency checks (read state, then write) need.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one transaction under the store lock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (the app's shutdown hook)."""
        with self._lock:
            self._conn.close()
