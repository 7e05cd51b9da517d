"""The watch: items that wait at the source because this installation cannot open them.

FIT-Connect rejects a submission by itself when nobody picks it up within 14 days. A
submission encrypted to a key the receiver lacks (a key dropped too early in a rotation, a
new key not yet installed) is therefore neither rejected by the intake (it may be our fault)
nor left to that clock unseen. Every poll reports these items (`IntakeReport.held`) and the
watch

- writes the table artifact ``<process>-watch`` (each held item with its age and the day the
  service will reject it; an empty table once none is left), and
- mails the process's admins (``AMTSBOTE_<PROCESS>_ADMIN_EMAIL``) once a day while one of them
  is older than ``AMTSBOTE_<PROCESS>_WATCH_AFTER_DAYS`` (default 2): ids, codes and ages only.

What an admin does then: install the missing key (the next poll takes the item) or reject it
at the portal with ``amtsbote portal reject <submission-id>`` (``amtsbote portal held`` lists
them). Whether today's mail went out is kept in ``<data_dir>/watch/<process>.sent``; with
workers on several machines that do not share a data directory each may send one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect.artifacts import create_table_artifact

from amtsbote import ApplicationError, get_logger
from connectors.mail import Mailer, MailSettings
from flows.engine._intake import HeldItem
from flows.engine._services import Services

__all__ = ["AUTO_REJECT_DAYS", "held_rows", "notify_admins", "watch"]

log = get_logger(__name__)

#: FIT-Connect's deadline: a submission not picked up is rejected after this many days.
AUTO_REJECT_DAYS = 14


def held_rows(held: Sequence[HeldItem], now: datetime) -> list[dict[str, str]]:
    """One row per held item, oldest first: id, part, code, age, the service's reject day."""

    def order(h: HeldItem) -> datetime:
        return h.since or now

    rows = []
    for h in sorted(held, key=order):
        age = h.age_days(now)
        rows.append(
            {
                "Vorgang": h.item_key,
                "Teil": h.part or "",
                "Fehlercode": h.code,
                "Eingereicht": h.since.isoformat(timespec="minutes") if h.since else "unbekannt",
                "Alter (Tage)": f"{age:.1f}" if age is not None else "unbekannt",
                "Ablehnung durch den Dienst am": (
                    (h.since + timedelta(days=AUTO_REJECT_DAYS)).date().isoformat()
                    if h.since
                    else "unbekannt"
                ),
            }
        )
    return rows


def _overdue(held: Sequence[HeldItem], now: datetime, after_days: float) -> list[HeldItem]:
    # An item of unknown age counts as overdue: nobody can say how much time is left.
    return [h for h in held if (h.age_days(now) or after_days) >= after_days]


def _marker(services: Services) -> Path:
    return services.core.data_dir / "watch" / f"{services.process.name}.sent"


def _sent_today(services: Services, today: str) -> bool:
    try:
        return _marker(services).read_text(encoding="utf-8").strip() == today
    except OSError:
        return False


def notify_admins(services: Services, overdue: Sequence[HeldItem], now: datetime) -> bool:
    """Mail the admins about `overdue` (held items older than the setting), once a day.

    Returns:
        True if a mail went out (none: nothing overdue, no address, already sent today, or
        the mail server refused; the last is logged and tried again on the next run).
    """
    to = services.settings.admin_email
    if not overdue:
        return False
    today = now.date().isoformat()
    if not to or _sent_today(services, today):
        return False
    name = services.process.name
    lines = [
        f"{services.process.title}: {len(overdue)} Antrag/Anträge warten am Portal, weil sie "
        "für einen Schlüssel verschlüsselt sind, den diese Installation nicht (mehr) hat.",
        f"Der Zustelldienst lehnt sie {AUTO_REJECT_DAYS} Tage nach Einreichung selbst ab.",
        "",
    ]
    for row in held_rows(overdue, now):
        lines.append(
            f"- {row['Vorgang']}: {row['Fehlercode']} ({row['Teil']}), "
            f"{row['Alter (Tage)']} Tage alt, Ablehnung am {row['Ablehnung durch den Dienst am']}"
        )
    lines += [
        "",
        "Fehlenden Schlüssel einspielen (der nächste Lauf nimmt sie an) oder ablehnen:",
        f"  amtsbote portal held --process {name}",
        f"  amtsbote portal reject --process {name} <Vorgang>",
    ]
    subject = f"[Amtsbote] {services.process.title}: {len(overdue)} Antrag/Anträge warten"
    try:
        Mailer(MailSettings()).notify(to, subject, "\n".join(lines))
    except (ApplicationError, ValueError) as exc:  # the artifact says it; the next run mails
        log.error("watch mail failed", process=name, code=getattr(exc, "code", "bad-address"))
        return False
    marker = _marker(services)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(today, encoding="utf-8")
    return True


def watch(services: Services, held: Sequence[HeldItem], now: datetime | None = None) -> bool:
    """Report the held items of a poll (see module docstring); True if the admins were mailed."""
    now = now or datetime.now(UTC)
    after = services.settings.watch_after_days
    overdue = _overdue(held, now, after)
    name = services.process.name
    create_table_artifact(
        key=f"{name}-watch",
        table=held_rows(held, now) or [{"Vorgang": "", "Fehlercode": "keine"}],
        description=(
            f"## {services.process.title}: {len(held)} Anträge warten auf einen Schlüssel\n\n"
            f"Älter als {after:g} Tage: {len(overdue)}. Der Zustelldienst lehnt einen Antrag "
            f"{AUTO_REJECT_DAYS} Tage nach Einreichung selbst ab. Schlüssel einspielen oder "
            f"`amtsbote portal reject --process {name} <Vorgang>`."
        ),
    )
    if held:
        log.warning("items held at source", process=name, held=len(held), overdue=len(overdue))
    return notify_admins(services, overdue, now)
