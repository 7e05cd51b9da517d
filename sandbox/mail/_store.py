"""SQLite storage of the sandbox mail system: mailboxes by recipient address and their messages.

A message is kept as the raw RFC 5322 bytes that arrived over SMTP, one row per recipient, next
to the few header fields the webmail lists (Message-ID, From, Subject) and the time it arrived.
The schema is laid out so an IMAP server can serve the same store later without a migration:
every mailbox has a ``uid_validity`` and hands out strictly ascending per-mailbox ``uid``s, every
message has an IMAP ``flags`` column (space-separated, ``\\Seen`` once read) and its exact
octets (``RFC822.SIZE`` is ``size``). Deliveries to several recipients happen in one
transaction, so a message is in all mailboxes or in none.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["MailStore", "StoredMessage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailboxes (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    uid_validity INTEGER NOT NULL,
    uid_next INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    uid INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    from_header TEXT NOT NULL,
    subject TEXT NOT NULL,
    received_at TEXT NOT NULL,
    size INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '',
    raw BLOB NOT NULL,
    UNIQUE (mailbox_id, uid)
);
"""

_COLS = (
    "m.id, b.address, m.uid, m.message_id, m.envelope_from, m.from_header, m.subject,"
    " m.received_at, m.size, m.flags"
)


@dataclass(frozen=True)
class StoredMessage:
    """One message in one mailbox (without its bytes, see `MailStore.raw`)."""

    id: int
    mailbox: str
    uid: int
    message_id: str
    envelope_from: str
    from_header: str
    subject: str
    received_at: str
    size: int
    flags: str


def normalize_address(address: str) -> str:
    """The mailbox key of an address: trimmed, angle brackets off, lower case."""
    return address.strip().strip("<>").strip().lower()


def _row(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(*row)  # the columns of _COLS, in field order


class MailStore:
    """All SQL of the mail system in one place; safe to share between SMTP and web threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _mailbox_id(self, address: str) -> int:
        row = self._conn.execute("SELECT id FROM mailboxes WHERE address = ?", (address,))
        found = row.fetchone()
        if found is not None:
            return int(found["id"])
        cur = self._conn.execute(
            "INSERT INTO mailboxes (address, uid_validity, created_at) VALUES (?, ?, ?)",
            (address, int(time.time()), datetime.now(UTC).isoformat(timespec="seconds")),
        )
        return int(cur.lastrowid or 0)

    def deliver(
        self,
        raw: bytes,
        *,
        envelope_from: str,
        recipients: list[str],
        message_id: str,
        from_header: str,
        subject: str,
    ) -> list[int]:
        """Store one copy of `raw` per distinct recipient; all or none. Returns the message ids."""
        received = datetime.now(UTC).isoformat(timespec="seconds")
        addresses = list(dict.fromkeys(normalize_address(r) for r in recipients))
        ids: list[int] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for address in addresses:
                    box = self._mailbox_id(address)
                    uid = self._conn.execute(
                        "UPDATE mailboxes SET uid_next = uid_next + 1 WHERE id = ?"
                        " RETURNING uid_next - 1",
                        (box,),
                    ).fetchone()[0]
                    cur = self._conn.execute(
                        "INSERT INTO messages (mailbox_id, uid, message_id, envelope_from,"
                        " from_header, subject, received_at, size, raw)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            box,
                            uid,
                            message_id,
                            envelope_from,
                            from_header,
                            subject,
                            received,
                            len(raw),
                            raw,
                        ),
                    )
                    ids.append(int(cur.lastrowid or 0))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return ids

    def mailboxes(self) -> list[tuple[str, int]]:
        """Every mailbox address with its message count, sorted by address."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT b.address, COUNT(m.id) AS n FROM mailboxes b"
                " LEFT JOIN messages m ON m.mailbox_id = b.id GROUP BY b.id ORDER BY b.address"
            ).fetchall()
        return [(r["address"], int(r["n"])) for r in rows]

    def has_mailbox(self, address: str) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM mailboxes WHERE address = ?", (normalize_address(address),)
            ).fetchone()
        return row is not None

    def messages(self, address: str | None = None) -> list[StoredMessage]:
        """The messages of one mailbox (all if `address` is None), oldest first."""
        sql = f"SELECT {_COLS} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
        args: tuple[str, ...] = ()
        if address is not None:
            sql += " WHERE b.address = ?"
            args = (normalize_address(address),)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY m.id", args).fetchall()
        return [_row(r) for r in rows]

    def message(self, address: str, message_id: int) -> StoredMessage | None:
        """Message `message_id` if it lies in mailbox `address`."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLS} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
                " WHERE b.address = ? AND m.id = ?",
                (normalize_address(address), message_id),
            ).fetchone()
        return None if row is None else _row(row)

    def raw(self, message_id: int) -> bytes:
        """The octets of a message exactly as they arrived."""
        with self._lock:
            row = self._conn.execute(
                "SELECT raw FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        if row is None:
            raise KeyError(message_id)
        return bytes(row["raw"])

    def add_flag(self, message_id: int, flag: str) -> None:
        """Set an IMAP flag (``\\Seen`` when the webmail opens a message); idempotent."""
        with self._lock:
            row = self._conn.execute(
                "SELECT flags FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise KeyError(message_id)
            flags = row["flags"].split()
            if flag not in flags:
                self._conn.execute(
                    "UPDATE messages SET flags = ? WHERE id = ?",
                    (" ".join([*flags, flag]), message_id),
                )

    def reset(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM messages")
            self._conn.execute("DELETE FROM mailboxes")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
