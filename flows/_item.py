"""The walk of one dog-tax application, step by step, each step idempotent by the business key.

Plain Python on purpose (no Prefect here): the Prefect task in `flows.hundesteuer` wraps
`ItemProcessor.process`, tests can drive it directly, and the human-task flows (Klärfall,
Freigabe) reuse the same steps to finish an item.

Order of side effects, and why it is safe to crash between any two of them:

1. fetch + decrypt + validate      (no side effect)
2. register in the back office     search-before-create by the submission id (Fremdreferenz)
3. notice                          reused from the e-Akte if already archived, else rendered
4. archive                         put-by-key; identical content is a no-op
5. reply with the notice           the reply id is derived from the submission id
6. accept                          the commit point: only now the submission leaves the
                                   portal's list of new submissions; a second accept is a no-op

A crash anywhere before 6 leaves the submission in the portal, and the next run repeats the
steps, each of which finds its effect already done. Rejection (bad data) is likewise the
commit point of the reject path.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol

from amtsbote import (
    ApplicationError,
    AuditTrail,
    BusinessRuleError,
    ReviewRequired,
    get_logger,
)
from connectors.portal import ReplyAttachment, problem

__all__ = ["ItemProcessor", "ItemResult", "Outcome", "reply_id_for", "NOTICE_KEY"]

log = get_logger(__name__)

Outcome = Literal[
    "accepted", "rejected", "klaerfall", "awaiting-approval", "failed", "dry-run", "skipped"
]
PROCESS = "hundesteuer"
NOTICE_KEY = "bescheid"
_REPLY_NS = uuid.UUID("6f1d8a52-6c0b-4c35-9a55-2f1f3f0e7a11")


def reply_id_for(submission_id: str) -> str:
    """The reply id of a submission's notice: the same on every run, so replies are idempotent."""
    return str(uuid.uuid5(_REPLY_NS, f"{submission_id}/{NOTICE_KEY}"))


@dataclass
class ItemResult:
    """What happened to one item; only ids and codes (this goes into artifacts and the audit)."""

    item_key: str
    outcome: Outcome
    aktenzeichen: str | None = None
    error_code: str | None = None
    evidence: str | None = None
    human_run: str | None = None
    created: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, str]:
        return {
            "Antrag (Submission-ID)": self.item_key,
            "Ergebnis": self.outcome,
            "Aktenzeichen": self.aktenzeichen or "",
            "Fehlercode": self.error_code or "",
            "Beleg": self.evidence or "",
        }


class Portal(Protocol):
    def fetch(self, submission_id: str) -> Any: ...
    def accept(self, received: Any) -> Any: ...
    def reject(self, submission_id: str, case_id: str, problems: Any) -> Any: ...
    def reply(self, case_id: str, reply_id: str, title: str, attachments: Any = ()) -> Any: ...


class Archive(Protocol):
    def put_document(
        self, aktenzeichen: str, key: str, filename: str, mime: str, content: bytes
    ) -> Any: ...
    def get_document(self, aktenzeichen: str, key: str) -> Any: ...


class Registrar(Protocol):
    @property
    def account(self) -> Any: ...

    def register(self, application: Any, *, taxpayer: str = "auto") -> Any: ...


class NoticeRenderer(Protocol):
    def __call__(self, application: Any, registration: Any, today: date) -> bytes: ...


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ItemProcessor:
    """Carries one submission through the steps; every side effect goes to the audit trail."""

    def __init__(
        self,
        *,
        portal: Portal,
        archive: Archive,
        render_notice: NoticeRenderer,
        audit: AuditTrail,
        flow_run_id: str | None = None,
        today: date | None = None,
    ) -> None:
        self.portal = portal
        self.archive = archive
        self.render_notice = render_notice
        self.audit = audit
        self.flow_run_id = flow_run_id
        self.today = today or date.today()

    # -- audit -------------------------------------------------------------------------------
    def _audit(
        self,
        key: str,
        step: str,
        outcome: str,
        *,
        bot: str | None = None,
        **details: Any,
    ) -> None:
        self.audit.append(
            process=PROCESS,
            item_key=key,
            step=step,
            outcome=outcome,
            bot_account=bot,
            flow_run_id=self.flow_run_id,
            details=details,
        )

    def record_failure(self, result: ItemResult) -> None:
        """An item that failed its last try stays in the portal; the trail says so."""
        self._audit(result.item_key, "failed", "retry-next-run", code=result.error_code)

    # -- steps -------------------------------------------------------------------------------
    def receive(self, submission_id: str) -> tuple[Any, Any]:
        """Fetch, decrypt, verify and validate. Raises BusinessRuleError for bad submissions."""
        received = self.portal.fetch(submission_id)
        application = received.record()
        self._audit(submission_id, "received", "ok", case_id=str(received.case_id))
        return received, application

    def reject(self, submission_id: str, case_id: str, error: BusinessRuleError) -> ItemResult:
        """Reject with problems the citizen can read (idempotent)."""
        problems = getattr(error, "problems", None) or [
            problem("schema-violation", error.message, code=error.code, field=error.field)
        ]
        result = self.portal.reject(submission_id, case_id, problems)
        details: dict[str, Any] = {"code": error.code}
        if getattr(result, "set_token", None):
            _, details["receipt_sha256"] = self.audit.store_receipt(
                submission_id, "reject", result.set_token
            )
        self._audit(submission_id, "rejected", "ok", **details)
        log.info("item rejected", item_key=submission_id, code=error.code)
        return ItemResult(submission_id, "rejected", error_code=error.code)

    def register(self, bot: Registrar, application: Any, *, taxpayer: str = "auto") -> Any:
        registration = bot.register(application, taxpayer=taxpayer)
        self._audit(
            application.reference,
            "registered",
            "created" if registration.created else "found-existing",
            bot=bot.account.username,
            aktenzeichen=registration.aktenzeichen,
        )
        return registration

    def notice(self, application: Any, registration: Any) -> bytes:
        """The notice: the archived one if an earlier run got that far, else a fresh render."""
        az = registration.aktenzeichen
        existing = self.archive.get_document(az, self._doc_key(application, NOTICE_KEY))
        if existing is not None:
            content: bytes = existing.content
            return content
        content = self.render_notice(application, registration, self.today)
        self._audit(
            application.reference,
            "notice-rendered",
            "ok",
            aktenzeichen=az,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        return content

    @staticmethod
    def _doc_key(application: Any, kind: str) -> str:
        return f"{application.reference}-{kind}"

    def archive_all(
        self, received: Any, application: Any, registration: Any, notice: bytes
    ) -> None:
        az = registration.aktenzeichen
        ref = application.reference
        data = json.dumps(
            application.model_dump(mode="json", by_alias=True), ensure_ascii=False, sort_keys=True
        ).encode()
        docs: list[tuple[str, str, str, bytes]] = [
            (self._doc_key(application, "antrag"), "antrag.json", "application/json", data)
        ]
        for att in getattr(received, "attachments", []) or []:
            docs.append(
                (
                    self._doc_key(application, f"anlage-{att.attachment_id}"),
                    att.filename,
                    att.mime_type,
                    att.content,
                )
            )
        docs.append((self._doc_key(application, NOTICE_KEY), "bescheid.docx", DOCX, notice))
        for key, filename, mime, content in docs:
            self.archive.put_document(az, key, filename, mime, content)
        self._audit(ref, "archived", "ok", aktenzeichen=az, documents=len(docs))

    def reply_and_accept(
        self, received: Any, application: Any, registration: Any, notice: bytes
    ) -> ItemResult:
        ref = application.reference
        az = registration.aktenzeichen
        self.portal.reply(
            received.case_id,
            reply_id_for(ref),
            f"Hundesteuerbescheid {az}",
            [ReplyAttachment("hundesteuerbescheid.docx", DOCX, notice)],
        )
        self._audit(ref, "replied", "ok", aktenzeichen=az)
        receipt = self.portal.accept(received)
        details: dict[str, Any] = {"aktenzeichen": az}
        _, details["receipt_sha256"] = self.audit.store_receipt(ref, "accept", receipt.set_token)
        self._audit(ref, "accepted", "ok", **details)
        return ItemResult(ref, "accepted", aktenzeichen=az, created=registration.created)

    # -- the whole walk ----------------------------------------------------------------------
    def process(
        self,
        submission_id: str,
        case_id: str,
        bot: Registrar,
        *,
        approval: Literal["auto", "manual"] = "auto",
        dry_run: bool = False,
        request_review: Any = None,
        request_approval: Any = None,
    ) -> ItemResult:
        """Run every step for one submission and return its outcome.

        `ApplicationError` (and programming errors) propagate, so the task retries and the item
        stays in the portal; `BusinessRuleError` ends in a rejection; `ReviewRequired` hands the
        item to a clerk through `request_review(submission_id, error) -> run id`.
        """
        received = None
        try:
            received, application = self.receive(submission_id)
            if dry_run:
                self._audit(submission_id, "dry-run", "ok")
                return ItemResult(submission_id, "dry-run")
            registration = self.register(bot, application)
        except ReviewRequired as exc:
            run = request_review(submission_id, exc) if request_review else None
            self._audit(submission_id, "klaerfall", "opened", code=exc.code, run=run)
            return ItemResult(submission_id, "klaerfall", error_code=exc.code, human_run=run)
        except BusinessRuleError as exc:
            if dry_run:
                return ItemResult(submission_id, "dry-run", error_code=exc.code)
            return self.reject(submission_id, case_id, exc)
        return self.finish(
            received,
            application,
            registration,
            approval=approval,
            request_approval=request_approval,
        )

    def finish(
        self,
        received: Any,
        application: Any,
        registration: Any,
        *,
        approval: Literal["auto", "manual", "approved"] = "auto",
        request_approval: Any = None,
    ) -> ItemResult:
        """Notice → (approval) → archive → reply → accept."""
        notice = self.notice(application, registration)
        ref = application.reference
        if approval == "manual":
            run = request_approval(ref, registration) if request_approval else None
            self._audit(
                ref, "approval", "requested", aktenzeichen=registration.aktenzeichen, run=run
            )
            return ItemResult(
                ref,
                "awaiting-approval",
                aktenzeichen=registration.aktenzeichen,
                human_run=run,
                created=registration.created,
            )
        self._audit(ref, "approval", "automatic" if approval == "auto" else "by-clerk")
        self.archive_all(received, application, registration, notice)
        return self.reply_and_accept(received, application, registration, notice)


def tax_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def failure(submission_id: str, exc: BaseException) -> ItemResult:
    """An item whose last try failed: it stays in the portal for the next run."""
    code = exc.code if isinstance(exc, ApplicationError) else type(exc).__name__
    # Bots attach the folder as a `Path`; artifacts take JSON only, so keep it as text.
    evidence = getattr(exc, "evidence_dir", None)
    return ItemResult(
        submission_id,
        "failed",
        error_code=code,
        evidence=str(evidence) if evidence is not None else None,
    )
