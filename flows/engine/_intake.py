"""Intake: poll the source → store each new item as a work item → only then acknowledge it.

Exactly once, with the store as the record of what was received:

- An item is stored before its receipt is acknowledged. A crash between the two leaves it
  both stored and still new at the source; the next poll finds it stored and acknowledges
  it (fetching it again, since the acknowledgement carries its authentication tags).
- The store is idempotent by (process, item key): a second store is a no-op.
- The source's listing is read whole before the first item is acknowledged, and read again
  until nothing unseen is left: acknowledging removes items from the source's list, which
  shifts offset-paged listings, so acknowledging while paging would skip items.

A technically broken item (crypto, hash, schema) is rejected at the source with its
problems and never becomes a work item. An item encrypted to a key this installation lacks
(`ItemHeld`) is neither: it waits at the source, and the report lists it with its age for the
watch (`flows.engine._watch`), which warns the admins before the source gives up on it.

An item that is technically sound but breaks a business rule is stored and acknowledged like
any other: the walk refuses it by letter (`Received.refusal`), since the source's receipt says
nothing about the content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from amtsbote import ApplicationError, BusinessRuleError, ItemHeld, get_logger
from connectors.sources import Receipt, SourceItem
from flows.engine._services import Services

__all__ = ["HeldItem", "IntakeReport", "poll"]

log = get_logger(__name__)
_MAX_ROUNDS = 20


@dataclass(frozen=True)
class HeldItem:
    """An item waiting at the source that cannot be opened here (ids and codes only)."""

    item_key: str
    code: str
    part: str | None
    since: datetime | None

    def age_days(self, now: datetime) -> float | None:
        """Days since the item reached its source (None if unknown)."""
        return None if self.since is None else (now - self.since).total_seconds() / 86400


@dataclass
class IntakeReport:
    """What one poll did; ids and codes only."""

    stored: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # item key -> code
    failed: dict[str, str] = field(default_factory=dict)  # item key -> code (waits at source)
    checked: list[str] = field(default_factory=list)  # dry run: would be stored
    held: dict[str, HeldItem] = field(default_factory=dict)  # cannot be opened here

    def rows(self) -> list[dict[str, str]]:
        out = [
            {"Vorgang": k, "Eingang": "abgelehnt (technisch)", "Fehlercode": c}
            for k, c in self.rejected.items()
        ]
        out += [
            {"Vorgang": k, "Eingang": "wartet an der Quelle", "Fehlercode": c}
            for k, c in self.failed.items()
        ]
        out += [
            {"Vorgang": k, "Eingang": "wartet auf Schlüssel", "Fehlercode": h.code}
            for k, h in self.held.items()
        ]
        return out


def _audit(
    services: Services, key: str, step: str, outcome: str, run_id: str, **details: Any
) -> None:
    services.audit.append(
        process=services.process.name,
        item_key=key,
        step=step,
        outcome=outcome,
        flow_run_id=run_id,
        details=details,
    )


def _keep_receipt(services: Services, key: str, receipt: Receipt | None) -> dict[str, Any]:
    if receipt is None:
        return {}
    _, digest = services.audit.store_receipt(key, receipt.kind, receipt.token)
    return {"receipt_sha256": digest}


def _take(
    services: Services, item: SourceItem, report: IntakeReport, run_id: str, dry_run: bool
) -> None:
    store, source, name = services.store, services.source, services.process.name
    key = item.item_key
    known = store.get(name, key)
    try:
        received = source.fetch(item)
    except BusinessRuleError as exc:  # technically broken: reject at the source
        if dry_run:
            report.rejected[key] = exc.code
            return
        if known is not None:
            # Stored once intact, now unreadable: keep the work item, do not reject it.
            log.error("stored item unreadable at source", item_key=key, code=exc.code)
            report.failed[key] = exc.code
            return
        receipt = source.reject(item, exc)
        _audit(
            services,
            key,
            "rejected-at-source",
            "ok",
            run_id,
            code=exc.code,
            **_keep_receipt(services, key, receipt),
        )
        report.rejected[key] = exc.code
        return
    if dry_run:
        report.checked.append(key)
        return
    if known is None:
        deadline = datetime.now(UTC) + timedelta(days=services.process.deadline_days)
        _, created = store.add(
            name, key, source.encode(received), refs=dict(received.refs), deadline=deadline
        )
        if created:
            report.stored.append(key)
            _audit(
                services,
                key,
                "received",
                "stored",
                run_id,
                **{k: v for k, v in received.refs.items() if k.endswith("_id")},
            )
    receipt = source.acknowledge(received)
    _audit(services, key, "acknowledged", "ok", run_id, **_keep_receipt(services, key, receipt))
    report.acknowledged.append(key)


@task(name="intake-poll", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def poll(services: Services, run_id: str, max_items: int, dry_run: bool = False) -> IntakeReport:
    """Store and acknowledge up to `max_items` new items of the source (see module docstring).

    An item whose fetch or acknowledgement fails for a system fault stays new at the
    source (and, if stored, in the store) and is taken by the next poll.
    """
    report = IntakeReport()
    seen: set[str] = set()
    for round_ in range(_MAX_ROUNDS):
        try:
            listed = services.source.list_new()
        except ApplicationError as exc:
            if round_ == 0:
                raise  # the source is down: nothing was taken, the run says so
            log.warning("intake listing stopped", code=exc.code)  # the next poll goes on
            break
        fresh = [i for i in listed if i.item_key not in seen]
        if not fresh:
            break
        for item in fresh:
            if len(seen) >= max_items:
                return report
            seen.add(item.item_key)
            try:
                _take(services, item, report, run_id, dry_run)
            except ItemHeld as exc:
                log.error("intake item held", item_key=item.item_key, code=exc.code)
                report.held[item.item_key] = HeldItem(item.item_key, exc.code, exc.part, exc.since)
            except ApplicationError as exc:
                log.warning("intake item deferred", item_key=item.item_key, code=exc.code)
                report.failed[item.item_key] = exc.code
        if dry_run:
            break
    log.info(
        "intake polled",
        process=services.process.name,
        stored=len(report.stored),
        acknowledged=len(report.acknowledged),
        rejected=len(report.rejected),
        deferred=len(report.failed),
        held=len(report.held),
    )
    return report
