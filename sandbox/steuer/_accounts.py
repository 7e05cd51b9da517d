"""Account lockout of the Fachverfahren Steuern: failed logins counted, accounts locked.

Real back offices lock an account after a few failed logins (three is common) until an
administrator unlocks it; a bot that retries a wrong password locks its own account. The knob
``lockout_after`` (N) turns this on: the N-th failed login in a row locks the account, and a
locked account is refused even with the right password. A successful login resets the count;
``POST /admin/accounts/{username}/unlock`` unlocks. The lock is a state of the account, not of
the knob: turning the knob off later does not unlock anyone. Unknown user names are refused
with the usual message and counted nowhere (the back office does not reveal which names exist).
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sandbox.steuer._db import SteuerDB

__all__ = ["AccountLocks", "LoginOutcome"]


class LoginOutcome(Enum):
    """What a login attempt comes to."""

    OK = "ok"
    WRONG = "wrong"  # wrong user name or password
    LOCKED = "locked"  # the account is locked (now or before)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class AccountLocks:
    """The failed-login counters and locks of the configured accounts.

    Args:
        db: The app's database (table ``accounts``).
        accounts: The configured accounts (user name → password).
    """

    def __init__(self, db: SteuerDB, accounts: dict[str, str]) -> None:
        self.db = db
        self.accounts = accounts

    def attempt(self, username: str, password_ok: bool, lockout_after: int | None) -> LoginOutcome:
        """Record one login attempt of a configured account and decide it.

        Args:
            username: A configured account's name.
            password_ok: Whether the password was right.
            lockout_after: The knob: failed logins in a row that lock the account (0/None: off).

        Returns:
            ``OK`` (counter reset), ``WRONG`` (counted) or ``LOCKED`` (counted; the account was
            locked before or is locked by this attempt).
        """
        now = time.time()
        with self.db.tx() as c:
            row = self._row(c, username)
            if row["locked_at"] is None and password_ok:
                c.execute(
                    "UPDATE accounts SET failed_logins = 0, last_login_at = ? WHERE username = ?",
                    (now, username),
                )
                return LoginOutcome.OK
            failed = int(row["failed_logins"]) + 1
            locked_at = row["locked_at"]
            if locked_at is None and lockout_after and failed >= lockout_after:
                locked_at = now
            c.execute(
                "UPDATE accounts SET failed_logins = ?, failed_total = failed_total + 1,"
                " last_failed_at = ?, locked_at = ? WHERE username = ?",
                (failed, now, locked_at, username),
            )
        return LoginOutcome.WRONG if locked_at is None else LoginOutcome.LOCKED

    def unlock(self, username: str) -> dict[str, Any]:
        """Unlock an account and reset its count of failed logins in a row.

        Returns:
            The account's state after unlocking (see `state`).
        """
        with self.db.tx() as c:
            self._row(c, username)
            c.execute(
                "UPDATE accounts SET failed_logins = 0, locked_at = NULL WHERE username = ?",
                (username,),
            )
        return self.state(username)

    def state(self, username: str) -> dict[str, Any]:
        """Counters and lock of one account (zeros for one that never logged in)."""
        rows = self.db.query("SELECT * FROM accounts WHERE username = ?", (username,))
        return self._public(username, rows[0] if rows else None)

    def states(self) -> list[dict[str, Any]]:
        """`state` of every configured account, by name."""
        rows = {r["username"]: r for r in self.db.query("SELECT * FROM accounts")}
        return [self._public(name, rows.get(name)) for name in sorted(self.accounts)]

    @staticmethod
    def _row(c: sqlite3.Connection, username: str) -> sqlite3.Row:
        c.execute("INSERT OR IGNORE INTO accounts (username) VALUES (?)", (username,))
        row: sqlite3.Row = c.execute(
            "SELECT * FROM accounts WHERE username = ?", (username,)
        ).fetchone()
        return row

    @staticmethod
    def _public(username: str, row: sqlite3.Row | None) -> dict[str, Any]:
        if row is None:
            return {
                "username": username,
                "failed_logins": 0,
                "failed_total": 0,
                "locked": False,
                "locked_at": None,
                "last_failed_at": None,
                "last_login_at": None,
            }
        return {
            "username": username,
            "failed_logins": int(row["failed_logins"]),
            "failed_total": int(row["failed_total"]),
            "locked": row["locked_at"] is not None,
            "locked_at": _iso(row["locked_at"]),
            "last_failed_at": _iso(row["last_failed_at"]),
            "last_login_at": _iso(row["last_login_at"]),
        }
