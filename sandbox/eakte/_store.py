"""SQLite storage of the e-Akte: Akten and their documents (content stored as blobs).

A document is identified by (Aktenzeichen, key). Writes happen under one lock so the
"same key, same content → no-op; same key, other content → conflict" rule holds when several
clients put the same document at once.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["EakteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS akten (
    aktenzeichen TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    aktenzeichen TEXT NOT NULL REFERENCES akten(aktenzeichen),
    key TEXT NOT NULL,
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (aktenzeichen, key)
);
"""

_META = "key, filename, mime_type, sha256, size, created_at"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _meta(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "key": row["key"],
        "filename": row["filename"],
        "mimeType": row["mime_type"],
        "sha256": row["sha256"],
        "size": row["size"],
        "created_at": row["created_at"],
    }


class EakteStore:
    """All SQL of the e-Akte in one place."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def create_akte(self, az: str) -> bool:
        """Create Akte `az` unless it exists. Returns True if it was created."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO akten (aktenzeichen, created_at) VALUES (?, ?)",
                (az, _now_iso()),
            )
            return cur.rowcount == 1

    def akte_exists(self, az: str) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM akten WHERE aktenzeichen = ?", (az,))
            return row.fetchone() is not None

    def documents(self, az: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_META} FROM documents WHERE aktenzeichen = ? ORDER BY created_at, key",
                (az,),
            ).fetchall()
        return [_meta(r) for r in rows]

    def put_document(
        self, az: str, key: str, filename: str, mime_type: str, sha256: str, content: bytes
    ) -> tuple[str, dict[str, Any]]:
        """Store a document. Returns ("created" | "same" | "conflict", metadata held)."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_META} FROM documents WHERE aktenzeichen = ? AND key = ?", (az, key)
            ).fetchone()
            if row is not None:
                return ("same" if row["sha256"] == sha256 else "conflict"), _meta(row)
            now = _now_iso()
            self._conn.execute(
                "INSERT INTO documents (aktenzeichen, key, filename, mime_type, sha256, size,"
                " content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (az, key, filename, mime_type, sha256, len(content), content, now),
            )
            row = self._conn.execute(
                f"SELECT {_META} FROM documents WHERE aktenzeichen = ? AND key = ?", (az, key)
            ).fetchone()
            return "created", _meta(row)

    def get_document(self, az: str, key: str) -> tuple[dict[str, Any], bytes] | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_META}, content FROM documents WHERE aktenzeichen = ? AND key = ?",
                (az, key),
            ).fetchone()
        return None if row is None else (_meta(row), bytes(row["content"]))

    def export(self) -> list[dict[str, Any]]:
        with self._lock:
            akten = self._conn.execute("SELECT * FROM akten ORDER BY aktenzeichen").fetchall()
        return [
            {
                "aktenzeichen": a["aktenzeichen"],
                "created_at": a["created_at"],
                "documents": self.documents(a["aktenzeichen"]),
            }
            for a in akten
        ]

    def reset(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM documents")
            self._conn.execute("DELETE FROM akten")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
