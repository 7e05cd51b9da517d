"""SQLite storage of the Fachverfahren Steuern: taxpayers, dog tax cases, login sessions.

The login counters of the accounts share the database; their rules live in `_accounts`.

One connection guarded by a lock: the app is small and its writes must be atomic (the
Fremdreferenz check and the insert of a case happen under the same lock, so two bots racing
with the same portal reference cannot both create a case).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["SteuerDB", "name_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS taxpayers (
    id INTEGER PRIMARY KEY,
    steuernummer TEXT UNIQUE,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    street TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    email TEXT NOT NULL,
    family_key TEXT NOT NULL,
    given_key TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    aktenzeichen TEXT UNIQUE NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    fremdreferenz TEXT UNIQUE,
    taxpayer_id INTEGER NOT NULL REFERENCES taxpayers(id),
    dog_name TEXT NOT NULL,
    breed_code TEXT NOT NULL,
    dog_birth_date TEXT NOT NULL,
    chip TEXT NOT NULL,
    owned_since TEXT NOT NULL,
    payment TEXT NOT NULL,
    sepa_mandate INTEGER NOT NULL,
    holder TEXT NOT NULL,
    iban TEXT NOT NULL,
    insurance INTEGER NOT NULL,
    discount_cents INTEGER NOT NULL,
    tax_cents INTEGER NOT NULL,
    remark TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    ended_at REAL,
    expired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    failed_total INTEGER NOT NULL DEFAULT 0,
    locked_at REAL,
    last_failed_at REAL,
    last_login_at REAL
);
"""


def name_key(text: str) -> str:
    """A search key of a name: NFC-normalised, case-folded, trimmed."""
    return unicodedata.normalize("NFC", text).strip().casefold()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SteuerDB:
    """All SQL of the app in one place."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self.lock = threading.RLock()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the app lock."""
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return list(self._conn.execute(sql, params))

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def reset(self) -> None:
        """Wipe all data (sessions and login counters included)."""
        with self.tx() as c:
            for table in ("cases", "taxpayers", "sessions", "meta", "accounts"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    # --- sessions -----------------------------------------------------------------------

    def create_session(self, sid: str, username: str, csrf: str, lifetime_s: float) -> None:
        now = time.time()
        with self.tx() as c:
            c.execute(
                "INSERT INTO sessions (id, username, csrf, created_at) VALUES (?, ?, ?, ?)",
                (sid, username, csrf, now),
            )
            current = self._count_active(c, now, lifetime_s)
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('max_sessions', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                (current,),
            )

    @staticmethod
    def _count_active(c: sqlite3.Connection, now: float, lifetime_s: float) -> int:
        row = c.execute(
            "SELECT count(*) FROM sessions WHERE ended_at IS NULL AND created_at + ? > ?",
            (lifetime_s, now),
        ).fetchone()
        return int(row[0])

    def get_session(self, sid: str) -> sqlite3.Row | None:
        """The session `sid`, ended or not (``ended_at``, ``expired`` tell)."""
        rows = self.query("SELECT * FROM sessions WHERE id = ?", (sid,))
        return rows[0] if rows else None

    def end_session(self, sid: str, *, expired: bool = False) -> None:
        """End a session (logout, new login, or found past its lifetime: `expired`)."""
        with self.tx() as c:
            c.execute(
                "UPDATE sessions SET ended_at = ?, expired = ? WHERE id = ? AND ended_at IS NULL",
                (time.time(), int(expired), sid),
            )

    def session_counts(self, lifetime_s: float) -> dict[str, int]:
        with self.lock:
            current = self._count_active(self._conn, time.time(), lifetime_s)
            row = self._conn.execute("SELECT value FROM meta WHERE key='max_sessions'").fetchone()
        return {"current": current, "max_seen": int(row[0]) if row else 0}

    # --- taxpayers ----------------------------------------------------------------------

    def find_taxpayers(
        self, family: str, given: str, birth_date: str, limit: int = 100
    ) -> list[sqlite3.Row]:
        sql = "SELECT * FROM taxpayers WHERE 1=1"
        params: list[Any] = []
        if family:
            sql += " AND family_key = ?"
            params.append(name_key(family))
        if given:
            sql += " AND given_key = ?"
            params.append(name_key(given))
        if birth_date:
            sql += " AND birth_date = ?"
            params.append(birth_date)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return self.query(sql, tuple(params))

    def get_taxpayer(self, taxpayer_id: int) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM taxpayers WHERE id = ?", (taxpayer_id,))
        return rows[0] if rows else None

    def create_taxpayer(self, data: dict[str, str], created_by: str) -> int:
        with self.tx() as c:
            cur = c.execute(
                "INSERT INTO taxpayers (family_name, given_name, birth_date, street, postal_code,"
                " city, email, family_key, given_key, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    data["family_name"],
                    data["given_name"],
                    data["birth_date"],
                    data["street"],
                    data["postal_code"],
                    data["city"],
                    data["email"],
                    name_key(data["family_name"]),
                    name_key(data["given_name"]),
                    created_by,
                    _now_iso(),
                ),
            )
            tid = int(cur.lastrowid or 0)
            c.execute(
                "UPDATE taxpayers SET steuernummer = ? WHERE id = ?",
                (f"443/{tid:06d}/{(tid * 7) % 10}", tid),
            )
        return tid

    # --- cases --------------------------------------------------------------------------

    def case_by_fremdreferenz(self, c: sqlite3.Connection, ref: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = c.execute(
            "SELECT * FROM cases WHERE fremdreferenz = ?", (ref,)
        ).fetchone()
        return row

    def case_by_chip(self, c: sqlite3.Connection, chip: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = c.execute(
            "SELECT * FROM cases WHERE chip = ?", (chip,)
        ).fetchone()
        return row

    def count_cases_of(self, c: sqlite3.Connection, taxpayer_id: int) -> int:
        row = c.execute("SELECT count(*) FROM cases WHERE taxpayer_id = ?", (taxpayer_id,))
        return int(row.fetchone()[0])

    def insert_case(self, c: sqlite3.Connection, year: int, data: dict[str, Any]) -> str:
        row = c.execute("SELECT coalesce(max(seq), 0) FROM cases WHERE year = ?", (year,))
        seq = int(row.fetchone()[0]) + 1
        az = f"HSt-{year}-{seq:06d}"
        c.execute(
            "INSERT INTO cases (aktenzeichen, year, seq, fremdreferenz, taxpayer_id, dog_name,"
            " breed_code, dog_birth_date, chip, owned_since, payment, sepa_mandate, holder, iban,"
            " insurance, discount_cents, tax_cents, remark, status, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                az,
                year,
                seq,
                data["fremdreferenz"] or None,
                data["taxpayer_id"],
                data["dog_name"],
                data["breed_code"],
                data["dog_birth_date"],
                data["chip"],
                data["owned_since"],
                data["payment"],
                int(data["sepa_mandate"]),
                data["holder"],
                data["iban"],
                int(data["insurance"]),
                data["discount_cents"],
                data["tax_cents"],
                data["remark"],
                "angelegt",
                data["created_by"],
                _now_iso(),
            ),
        )
        return az

    def get_case(self, aktenzeichen: str) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT cases.*, taxpayers.steuernummer, taxpayers.family_name, taxpayers.given_name"
            " FROM cases JOIN taxpayers ON taxpayers.id = cases.taxpayer_id"
            " WHERE aktenzeichen = ?",
            (aktenzeichen,),
        )
        return rows[0] if rows else None

    def search_cases(self, term: str, offset: int, limit: int) -> tuple[list[sqlite3.Row], int]:
        base = " FROM cases JOIN taxpayers ON taxpayers.id = cases.taxpayer_id"
        params: tuple[Any, ...] = ()
        if term:
            key = name_key(term)
            base += (
                " WHERE cases.aktenzeichen = ? OR cases.fremdreferenz = ?"
                " OR instr(taxpayers.family_key || ', ' || taxpayers.given_key, ?) > 0"
                " OR instr(taxpayers.given_key || ' ' || taxpayers.family_key, ?) > 0"
            )
            params = (term.strip(), term.strip(), key, key)
        total = int(self.query("SELECT count(*)" + base, params)[0][0])
        rows = self.query(
            "SELECT cases.*, taxpayers.family_name, taxpayers.given_name"
            + base
            + " ORDER BY cases.year, cases.seq LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return rows, total

    def export(self) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
        cases = self.query(
            "SELECT cases.*, taxpayers.steuernummer FROM cases"
            " JOIN taxpayers ON taxpayers.id = cases.taxpayer_id ORDER BY cases.id"
        )
        taxpayers = self.query("SELECT * FROM taxpayers ORDER BY id")
        return cases, taxpayers
