"""What every part of the portal core shares: the `Problem` error, timestamps, ids, the state.

`PortalBase` holds the configuration, keys and store; the parts of `Portal` (tokens, sender,
receiver, status) build on it, each in its own module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.portal._codes import PROBLEM_BASE
from sandbox.portal._config import PortalConfig
from sandbox.portal._keys import KeyMaterial
from sandbox.portal._store import Store

__all__ = [
    "PortalBase",
    "Problem",
    "clock_offset",
    "current_time",
    "insert_event",
    "is_uuid",
    "now_iso",
]


class Problem(Exception):
    """An RFC 7807 problem; `name` becomes the last segment of the FIT-Connect problem type."""

    def __init__(self, status: int, name: str, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.name = name
        self.title = title
        self.detail = detail

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem as JSON body."""
        out: dict[str, Any] = {
            "type": PROBLEM_BASE + self.name,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            out["detail"] = self.detail
        if instance:
            out["instance"] = instance
        return out


#: How far the portal's clock runs ahead of real time in the current request (set by the app
#: per request from the portal's `PortalClock`, and by the deadline sweep), so every timestamp
#: the portal writes follows the clock a test has moved.
_CLOCK_OFFSET: ContextVar[timedelta] = ContextVar("portal_clock_offset", default=timedelta(0))


def current_time(offset: timedelta | None = None) -> datetime:
    """The portal's time (UTC): real time plus `offset` (default: the current request's)."""
    return datetime.now(UTC) + (_CLOCK_OFFSET.get() if offset is None else offset)


@contextmanager
def clock_offset(offset: timedelta) -> Iterator[None]:
    """Run a block with the portal clock `offset` ahead of real time."""
    token = _CLOCK_OFFSET.set(offset)
    try:
        yield
    finally:
        _CLOCK_OFFSET.reset(token)


def now_iso() -> str:
    """The portal's current time (UTC, see `current_time`), ISO 8601 to the second."""
    return current_time().isoformat(timespec="seconds")


def is_uuid(value: Any) -> bool:
    """True if `value` is a string holding a UUID."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def insert_event(conn: Any, case_id: str, sid: str, event: str, jti: str, token: str) -> None:
    """Store one signed event (SET) of a submission."""
    conn.execute(
        "INSERT INTO events(case_id, submission_id, event_type, jti, token, created_at)"
        " VALUES (?,?,?,?,?,?)",
        (case_id, sid, event, jti, token, now_iso()),
    )


class PortalBase:
    """Configuration, keys and store of one portal instance, and the lookups all parts use."""

    def __init__(self, config: PortalConfig, keys: KeyMaterial, store: Store) -> None:
        self.config = config
        self.keys = keys
        self.store = store

    def _check_destination(self, destination_id: str) -> None:
        if destination_id != self.config.destination_id:
            raise Problem(404, "destination-not-found", "Zustellpunkt nicht gefunden")

    def _load(self, conn: Any, sid: str) -> Any:
        row = conn.execute("SELECT * FROM submissions WHERE submission_id = ?", (sid,)).fetchone()
        if row is None:
            raise Problem(404, "submission-not-found", "Einreichung nicht gefunden")
        return row
