"""The delivery service's deadlines, and a clock the tests can move forward.

FIT-Connect (docs.fitko.de, "Benachrichtigungen und Löschfristen") keeps submissions only for a
while, and the sandbox does the same so a receiver's behaviour at the edges can be tested:

- a submission not picked up (still ``submitted``) triggers a mail to the destination's
  technical contact after 3 and again after 9 days;
- after 14 days in ``submitted`` the service rejects it itself (its own reject-submission
  event, signed with the service's key);
- an ``incomplete`` submission (announced, never sent) is deleted after 1 day;
- a picked-up one (accepted or rejected) is deleted 7 days after that decision;
- deleting removes the ciphertext and the attachments and writes a delete-submission event;
  the event log itself is kept, so the signed receipts stay readable.

`Deadlines.sweep` does all of it and is idempotent (each mail once per submission and level,
each event once). The app runs it before every request; ``POST /admin/clock`` with
``{"advance_days": n}`` moves the portal's clock (`PortalClock`) and sweeps at once, so a test
jumps days in milliseconds. The offset can also be set in `PortalConfig.clock_offset_days`.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter, Header, Request

from sandbox.portal._base import (
    PortalBase,
    Problem,
    clock_offset,
    current_time,
    insert_event,
)
from sandbox.portal._codes import EVENT_BASE, EVENT_REJECT
from sandbox.portal._crypto import sign_set

__all__ = ["EVENT_DELETE", "Deadlines", "PortalClock", "SweepReport", "build_clock_api"]

log = logging.getLogger("sandbox.portal")

EVENT_DELETE = EVENT_BASE + "delete-submission"
#: Problem of the service's own rejection (the sandbox's wording; see docs/fit-connect-problems.md)
TIMEOUT_PROBLEM = {
    "type": EVENT_BASE + "problems/submission-not-picked-up",
    "title": "Einreichung nicht abgeholt",
    "detail": "Die Einreichung wurde innerhalb der Frist nicht vom Empfänger abgeholt.",
    "instance": "submission",
}


class PortalClock:
    """The portal's idea of "now": real time plus an offset the tests can move forward."""

    def __init__(self, offset_days: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.offset = timedelta(days=offset_days)

    def advance(self, days: float) -> timedelta:
        """Move the clock `days` forward (never back: deadlines passed stay passed)."""
        if days < 0:
            raise Problem(400, "invalid-request", "Die Uhr läuft nur vorwärts")
        with self._lock:
            self.offset += timedelta(days=days)
            return self.offset

    def now(self) -> datetime:
        """The current portal time (UTC)."""
        return current_time(self.offset)


@dataclass
class SweepReport:
    """What one sweep did (ids only)."""

    notified: dict[int, list[str]] = field(default_factory=dict)  # level (days) -> ids
    auto_rejected: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    mail_failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "notified": {str(k): v for k, v in self.notified.items()},
            "autoRejected": self.auto_rejected,
            "deleted": self.deleted,
            "mailFailed": self.mail_failed,
        }


def _age(now: datetime, stamp: str | None) -> timedelta:
    if not stamp:
        return timedelta(0)
    return now - datetime.fromisoformat(stamp)


class Deadlines:
    """The deadline sweep of one portal (see module docstring).

    Args:
        portal: The portal core (its config, keys and store).
        clock: The portal's clock.
    """

    def __init__(self, portal: PortalBase, clock: PortalClock) -> None:
        self.portal = portal
        self.clock = clock
        self.config = portal.config
        self._lock = threading.Lock()

    # -- the sweep ---------------------------------------------------------------------------
    def sweep(self) -> SweepReport:
        """Apply every deadline that has passed by the portal's clock; idempotent."""
        report = SweepReport()
        with self._lock, clock_offset(self.clock.offset):
            now = self.clock.now()
            self._auto_reject(now, report)
            due = self._due_notices(now)
            self._delete(now, report)
        for level, sids in sorted(due.items()):
            if self._mail(level, sids):
                with self.portal.store.transaction() as conn:
                    conn.executemany(
                        "INSERT OR IGNORE INTO deadline_notices(submission_id, level, sent_at)"
                        " VALUES (?,?,?)",
                        [(sid, level, now.isoformat(timespec="seconds")) for sid in sids],
                    )
                report.notified[level] = sids
            else:
                report.mail_failed.append(level)  # not recorded: the next sweep tries again
        return report

    def _due_notices(self, now: datetime) -> dict[int, list[str]]:
        due: dict[int, list[str]] = {}
        with self.portal.store.transaction() as conn:
            rows = conn.execute(
                "SELECT submission_id, submitted_at FROM submissions WHERE state='submitted'"
                " ORDER BY submitted_seq"
            ).fetchall()
            sent = {
                (r[0], r[1])
                for r in conn.execute("SELECT submission_id, level FROM deadline_notices")
            }
        for sid, submitted_at in rows:
            age = _age(now, submitted_at)
            for level in self.config.notify_after_days:
                if age >= timedelta(days=level) and (sid, level) not in sent:
                    due.setdefault(level, []).append(sid)
        return due

    def _auto_reject(self, now: datetime, report: SweepReport) -> None:
        limit = timedelta(days=self.config.auto_reject_after_days)
        with self.portal.store.transaction() as conn:
            rows = conn.execute(
                "SELECT submission_id, case_id, submitted_at FROM submissions"
                " WHERE state='submitted'"
            ).fetchall()
            for sid, case_id, submitted_at in rows:
                if _age(now, submitted_at) < limit:
                    continue
                conn.execute(
                    "UPDATE submissions SET state='rejected' WHERE submission_id=?", (sid,)
                )
                self._service_event(
                    conn, sid, case_id, EVENT_REJECT, {"problems": [TIMEOUT_PROBLEM]}
                )
                report.auto_rejected.append(sid)
                log.info("submission auto-rejected (not picked up) sid=%s", sid)

    def _delete(self, now: datetime, report: SweepReport) -> None:
        incomplete = timedelta(days=self.config.delete_incomplete_after_days)
        picked_up = timedelta(days=self.config.delete_picked_up_after_days)
        with self.portal.store.transaction() as conn:
            rows = conn.execute(
                "SELECT s.submission_id, s.case_id, s.state, s.created_at,"
                " (SELECT MAX(e.created_at) FROM events e WHERE e.submission_id = s.submission_id"
                "  AND e.event_type IN (?, ?)) AS decided_at"
                " FROM submissions s WHERE s.state IN ('incomplete', 'accepted', 'rejected')",
                (EVENT_BASE + "accept-submission", EVENT_REJECT),
            ).fetchall()
            for sid, case_id, state, created_at, decided_at in rows:
                if state == "incomplete":
                    expired = _age(now, created_at) >= incomplete
                else:
                    expired = decided_at is not None and _age(now, decided_at) >= picked_up
                if not expired:
                    continue
                conn.execute("DELETE FROM attachments WHERE submission_id=?", (sid,))
                conn.execute(
                    "UPDATE submissions SET state='deleted', encrypted_metadata=NULL,"
                    " encrypted_data=NULL WHERE submission_id=?",
                    (sid,),
                )
                self._service_event(conn, sid, case_id, EVENT_DELETE, {})
                report.deleted.append(sid)
                log.info("submission deleted (deadline) sid=%s was=%s", sid, state)

    def _service_event(
        self, conn: Any, sid: str, case_id: str, event: str, payload: dict[str, Any]
    ) -> None:
        """An event the delivery service signs itself (its own key, its own issuer)."""
        jti = str(uuid.uuid4())
        claims = {
            "jti": jti,
            "iss": self.config.issuer,
            "iat": int(time.time() + self.clock.offset.total_seconds()),
            "sub": f"submission:{sid}",
            "txn": f"case:{case_id}",
            "events": {event: payload},
        }
        token = sign_set(claims, self.portal.keys.portal_signing_private)
        insert_event(conn, case_id, sid, event, jti, token)

    # -- mail --------------------------------------------------------------------------------
    def _mail(self, level: int, sids: list[str]) -> bool:
        """Tell the destination's technical contact; False if the mail could not be sent."""
        cfg = self.config
        if not cfg.smtp_host:
            return True  # no mail configured: the deadline counts as notified (as logged)
        msg = EmailMessage()
        msg["From"] = cfg.mail_from
        msg["To"] = cfg.technical_contact
        msg["Subject"] = (
            f"FIT-Connect: {len(sids)} Einreichung(en) seit {level} Tagen nicht abgeholt"
        )
        msg["X-Portal-Deadline-Days"] = str(level)
        lines = [
            f"Zustellpunkt: {cfg.destination_name} ({cfg.destination_id})",
            "",
            f"Diese Einreichungen warten seit mindestens {level} Tagen auf Abholung. Nach "
            f"{cfg.auto_reject_after_days} Tagen weist der Zustelldienst sie selbst zurück.",
            "",
            *[f"- {sid}" for sid in sids],
        ]
        msg.set_content("\n".join(lines))
        try:
            with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=10) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("deadline mail failed level=%s: %s", level, type(exc).__name__)
            return False
        log.info("deadline mail sent level=%s count=%s", level, len(sids))
        return True


def build_clock_api(deadlines: Deadlines) -> APIRouter:
    """``POST /admin/clock`` (move the clock, then sweep) and ``POST /admin/deadlines/sweep``."""
    router = APIRouter()
    token = deadlines.config.admin_token

    def admin(authorization: str | None) -> None:
        if authorization != f"Bearer {token}":
            raise Problem(401, "unauthorized", "Admin-Token fehlt oder ist falsch")

    @router.post("/admin/clock", include_in_schema=False)
    async def move_clock(
        request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        admin(authorization)
        try:
            body = await request.json()
        except ValueError:
            body = None
        days = body.get("advance_days") if isinstance(body, dict) else None
        if not isinstance(days, int | float) or isinstance(days, bool):
            raise Problem(400, "invalid-request", "advance_days (Zahl) erwartet")
        offset = deadlines.clock.advance(float(days))
        report = deadlines.sweep()
        return {
            "offsetDays": offset.total_seconds() / 86400,
            "now": deadlines.clock.now().isoformat(timespec="seconds"),
            "sweep": report.as_dict(),
        }

    @router.post("/admin/deadlines/sweep", include_in_schema=False)
    def sweep(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        admin(authorization)
        return deadlines.sweep().as_dict()

    return router
