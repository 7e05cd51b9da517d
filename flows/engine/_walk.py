"""The walk of one work item, and the one place where exception types become item states.

Plain Python (no Prefect here): the batch's task wraps `Walker.work`, the Klärfall and
Freigabe runs call the same steps, tests can drive it directly. Every step is idempotent by
the item key, so a crash between any two is repaired by the next attempt:

    enter      search-before-create in the back office (the bot), → the back office's reference
    notice     reused from the e-Akte if an earlier attempt filed it (asked only after a first
               try), else rendered
    approval   manual: the item waits for a Freigabe run (state ``awaiting_approval``)
    archive    put-by-key: application, attachments, letter under the reference
    deliver    the letter to the citizen over the reply channel the submission names (e-mail,
               else the print-and-post outbox); the reply id is derived from the item key
    done       the store's state; the commit point of the walk

Outcomes (`Walker.settle`): `BusinessRuleError` → rejection letter, state ``rejected`` (also
for an item the source accepted with a `refusal`: a business rule it broke, found on intake);
`ReviewRequired` from any step → a Klärfall run, state ``klaerfall``; `ApplicationError` and
anything unexpected propagate (the task retries; after the last try the batch records
``failed`` and a later run claims the item again).
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from amtsbote import (
    ApplicationError,
    BusinessRuleError,
    ReviewRequired,
    get_logger,
)
from amtsbote.store import ItemState, LeaseLost, WorkItem
from connectors.sources import Document, Received, ReplySettings, pdf_letter
from flows.engine._process import Entry
from flows.engine._services import Services

__all__ = ["ItemResult", "Walker", "failure", "reply_id_for"]

log = get_logger(__name__)
_REPLY_NS = uuid.UUID("6f1d8a52-6c0b-4c35-9a55-2f1f3f0e7a11")
NOTICE = "bescheid"
REJECTION = "ablehnung"


def reply_id_for(item_key: str, kind: str = NOTICE) -> str:
    """The reply id of an item's letter: the same on every attempt, so replies are idempotent."""
    return str(uuid.uuid5(_REPLY_NS, f"{item_key}/{kind}"))


@dataclass
class ItemResult:
    """What happened to one item; ids and codes only (goes into artifacts and the audit)."""

    item_key: str
    outcome: str  # an ItemState value, or "dry-run"
    aktenzeichen: str | None = None
    error_code: str | None = None
    evidence: str | None = None
    human_run: str | None = None
    created: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, str]:
        return {
            "Vorgang": self.item_key,
            "Ergebnis": self.outcome,
            "Aktenzeichen": self.aktenzeichen or "",
            "Fehlercode": self.error_code or "",
            "Beleg": self.evidence or "",
        }


def failure(item_key: str, exc: BaseException) -> ItemResult:
    """An item whose last try failed (stays claimable for the next run)."""
    code = exc.code if isinstance(exc, ApplicationError) else type(exc).__name__
    evidence = getattr(exc, "evidence_dir", None)
    return ItemResult(
        item_key, "failed", error_code=code, evidence=str(evidence) if evidence else None
    )


RequestHuman = Callable[[str, str, dict[str, Any]], str]


class Walker:
    """Carries claimed work items through the steps; every step goes to the audit trail.

    Args:
        services: The run's collaborators.
        worker: Who holds the claims (the flow run id).
        request_review: ``(item_key, reason_code, facts) -> run id`` opens a Klärfall run.
        request_approval: ``(item_key, aktenzeichen, {}) -> run id`` opens a Freigabe run.
        today: The date on letters (default: today).
    """

    def __init__(
        self,
        services: Services,
        worker: str,
        *,
        request_review: RequestHuman | None = None,
        request_approval: RequestHuman | None = None,
        today: date | None = None,
    ) -> None:
        self.s = services
        self.process = services.process
        self.worker = worker
        self.request_review = request_review
        self.request_approval = request_approval
        self.today = today or date.today()
        # Letters are filed and sent in the form the citizen receives (PDF by default).
        self.convert = pdf_letter if ReplySettings().letter_format == "pdf" else None
        # Items whose documents this walker began to file (task retries reuse the claim).
        self._filing: set[str] = set()
        self._filing_lock = threading.Lock()

    # -- audit -------------------------------------------------------------------------------
    def audit(
        self, key: str, step: str, outcome: str, *, bot: str | None = None, **details: Any
    ) -> None:
        self.s.audit.append(
            process=self.process.name,
            item_key=key,
            step=step,
            outcome=outcome,
            bot_account=bot,
            flow_run_id=self.worker,
            details=details,
        )

    # -- store -------------------------------------------------------------------------------
    def load(self, item: WorkItem) -> Received[Any]:
        return self.s.source.decode(self.s.store.payload(item))

    def _transition(self, item: WorkItem, state: ItemState, **kw: Any) -> None:
        try:
            self.s.store.transition(item, state, worker=self.worker, **kw)
        except LeaseLost:
            # Another worker took the item after our lease ran out; it redoes the (idempotent)
            # steps and records the outcome. Nothing to undo here.
            log.warning("lease lost", item_key=item.item_key, state=state.value)

    # -- steps -------------------------------------------------------------------------------
    def enter(
        self,
        call: Callable[[Callable[[], Entry]], Entry],
        bot: Any,
        received: Received[Any],
        option: Any = None,
    ) -> Entry:
        entry = call(lambda: self.process.enter(bot, received, option))
        self.audit(
            received.item_key,
            "entered",
            "created" if entry.created else "found-existing",
            bot=getattr(getattr(bot, "account", None), "username", None),
            aktenzeichen=entry.aktenzeichen,
        )
        return entry

    def _first_try(self, item: WorkItem) -> bool:
        """Whether nothing of `item` can be in the e-Akte yet: its first claim ever, and this
        walker has not begun to file it (a crash or a lost lease makes the next claim count)."""
        with self._filing_lock:
            return item.attempts == 1 and item.item_key not in self._filing

    def _letter(
        self,
        item: WorkItem,
        received: Received[Any],
        aktenzeichen: str,
        kind: str,
        render: Callable[[], Document],
    ) -> Document:
        """The letter: the archived one if an earlier attempt filed it, else a fresh render,
        converted to the form the citizen receives (``AMTSBOTE_REPLY_LETTER_FORMAT``).

        On an item's first try there is nothing to read back, and the e-Akte is not asked.
        """
        key = f"{received.item_key}-{kind}"
        existing = None if self._first_try(item) else self.s.archive.get_document(aktenzeichen, key)
        fresh = render()
        if existing is not None:
            return Document(
                kind, existing.filename, existing.mime_type, existing.content, fresh.title
            )
        letter = Document(kind, fresh.filename, fresh.mime_type, fresh.content, fresh.title)
        if self.convert is not None:
            letter = self.convert(letter)
        self.audit(
            received.item_key,
            f"{kind}-rendered",
            "ok",
            aktenzeichen=aktenzeichen,
            sha256=hashlib.sha256(letter.content).hexdigest(),
        )
        return letter

    def archive(self, received: Received[Any], aktenzeichen: str, letters: list[Document]) -> None:
        record = json.dumps(
            received.record.model_dump(mode="json", by_alias=True),
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        docs = [Document("antrag", "antrag.json", "application/json", record)]
        docs += list(received.attachments) + letters
        with self._filing_lock:
            self._filing.add(received.item_key)
        for d in docs:
            self.s.archive.put_document(
                aktenzeichen, f"{received.item_key}-{d.key}", d.filename, d.mime_type, d.content
            )
        self.audit(
            received.item_key, "archived", "ok", aktenzeichen=aktenzeichen, documents=len(docs)
        )

    def deliver(
        self, received: Received[Any], aktenzeichen: str, kind: str, letter: Document
    ) -> dict[str, str]:
        """Send the letter; returns the references that tell a user how it went out."""
        # the source's own references came back with the payload: no store read per item
        reply_id = reply_id_for(received.item_key, kind)
        sent = self.s.delivery.deliver(received, reply_id, [letter])
        self.audit(
            received.item_key,
            "delivered",
            sent.outcome,
            aktenzeichen=aktenzeichen,
            letter=kind,
            channel=sent.channel,
            reference=sent.reference,
            reason=sent.reason,
        )
        if sent.route == "print":
            log.info("letter posted for print", item_key=received.item_key, reason=sent.reason)
        return {f"zustellung-{kind}": sent.outcome, f"zustellung-{kind}-ref": sent.reference}

    # -- the walk ----------------------------------------------------------------------------
    def work(
        self,
        item: WorkItem,
        call: Callable[[Callable[[], Entry]], Entry],
        bot: Any,
        *,
        approval: Literal["auto", "manual", "approved"] = "auto",
        option: Any = None,
    ) -> ItemResult:
        """Walk a claimed item to its end, or hand it to a clerk. See module docstring."""
        received = self.load(item)
        return self.settle(
            item, received, lambda: self._walk(item, received, call, bot, approval, option)
        )

    def _walk(
        self,
        item: WorkItem,
        received: Received[Any],
        call: Callable[[Callable[[], Entry]], Entry],
        bot: Any,
        approval: str,
        option: Any,
    ) -> ItemResult:
        if received.refusal is not None:
            # Accepted at the source (technically sound) but against a business rule: refused
            # by letter before any back-office entry, through the same path as a bot's refusal.
            raise received.refusal
        entry = self.enter(call, bot, received, option)
        ref = entry.aktenzeichen
        notice = self._letter(
            item, received, ref, NOTICE, lambda: self.process.notice(received, entry, self.today)
        )
        key = received.item_key
        if approval == "manual":
            self._transition(item, ItemState.AWAITING_APPROVAL, refs={"aktenzeichen": ref})
            run = self.request_approval(key, ref, {}) if self.request_approval else None
            self._record_run(key, ItemState.AWAITING_APPROVAL, run)
            self.audit(key, "approval", "requested", aktenzeichen=ref, run=run)
            return ItemResult(
                key, ItemState.AWAITING_APPROVAL.value, ref, human_run=run, created=entry.created
            )
        self.audit(key, "approval", "automatic" if approval == "auto" else "by-clerk")
        self.archive(received, ref, [notice])
        sent = self.deliver(received, ref, NOTICE, notice)
        self._transition(item, ItemState.DONE, refs={"aktenzeichen": ref, **sent}, error_code=None)
        self.audit(key, "done", "ok", aktenzeichen=ref)
        return ItemResult(key, ItemState.DONE.value, ref, created=entry.created, extra=sent)

    def settle(
        self, item: WorkItem, received: Received[Any], walk: Callable[[], ItemResult]
    ) -> ItemResult:
        """Run `walk` and turn a business refusal or a Klärfall into the item's state.

        The one place where exception types become states (with `fail` for the last try of
        an `ApplicationError`). A `ReviewRequired` from any step — the rejection's own
        filing included — hands the item to a clerk.
        """
        try:
            try:
                return walk()
            except BusinessRuleError as exc:
                return self.reject(item, received, exc)
        except ReviewRequired as exc:
            return self.to_clerk(item, exc)

    def to_clerk(self, item: WorkItem, exc: ReviewRequired) -> ItemResult:
        """Hand the item to a clerk: its state first, then the Klärfall run that reads it."""
        key = item.item_key
        self._transition(item, ItemState.KLAERFALL, error_code=exc.code)
        run = self.request_review(key, exc.code, dict(exc.facts)) if self.request_review else None
        self._record_run(key, ItemState.KLAERFALL, run)
        self.audit(key, "klaerfall", "opened", code=exc.code, run=run)
        return ItemResult(key, ItemState.KLAERFALL.value, error_code=exc.code, human_run=run)

    def _record_run(self, key: str, state: ItemState, run: str | None) -> None:
        """Note the clerk's run on the item, if the item still waits for it."""
        if run is None:
            return
        item = self.s.store.get(self.process.name, key)
        if item is not None and item.state == state and item.human_run != run:
            # keep the reason: the Klärfall run and `reconcile` read it
            self.s.store.transition(
                (self.process.name, key), state, human_run=run, error_code=item.error_code
            )

    def reject(
        self, item: WorkItem, received: Received[Any], error: BusinessRuleError
    ) -> ItemResult:
        """The citizen gets a rejection letter, filed and delivered like a notice."""
        key = item.item_key
        ref = item.refs.get("aktenzeichen") or f"{self.process.name.upper()}-{key}"
        letter = self._letter(
            item,
            received,
            ref,
            REJECTION,
            lambda: self.process.rejection(received, error, self.today),
        )
        self.archive(received, ref, [letter])
        sent = self.deliver(received, ref, REJECTION, letter)
        self._transition(
            item, ItemState.REJECTED, error_code=error.code, refs={"aktenzeichen": ref, **sent}
        )
        self.audit(key, "rejected", "ok", code=error.code, aktenzeichen=ref)
        log.info("item rejected", item_key=key, code=error.code)
        return ItemResult(key, ItemState.REJECTED.value, ref, error_code=error.code, extra=sent)

    def fail(self, item: WorkItem, result: ItemResult) -> None:
        """The last try failed: the item stays claimable for a later run."""
        self._transition(item, ItemState.FAILED, error_code=result.error_code)
        self.audit(item.item_key, "failed", "retry-next-run", code=result.error_code)
