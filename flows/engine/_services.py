"""What one run of a process talks to, built once per run from settings.

Each outside system is configured by its own settings class from the environment; nothing
here holds a value of its own. The work-item store is shared by every process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from amtsbote import AmtsboteSettings, ApplicationError, AuditTrail, get_logger
from amtsbote.store import WorkItemStore
from bots import BotAccount, BrowserSession, BrowserSettings
from connectors.archive import EakteClient, EakteSettings
from connectors.mail import Mailer, MailSettings, review_notice
from connectors.sources import Delivery, Source
from flows.engine._process import Process
from flows.engine._settings import ProcessSettings

__all__ = ["Services", "bot_session"]

log = get_logger(__name__)


@dataclass
class Services:
    """Everything one flow run of a process uses."""

    process: Process[Any, Any]
    core: AmtsboteSettings
    settings: ProcessSettings
    store: WorkItemStore
    source: Source[Any]
    archive: EakteClient
    browser: BrowserSettings
    audit: AuditTrail

    @classmethod
    def from_env(cls, process: Process[Any, Any]) -> Services:
        core = AmtsboteSettings()
        store = WorkItemStore.from_settings(core=core)
        store.upgrade()
        return cls(
            process=process,
            core=core,
            settings=ProcessSettings.for_process(process.name, process.bot.seats),
            store=store,
            source=process.source(),
            archive=EakteClient(EakteSettings()),
            browser=BrowserSettings(),
            audit=AuditTrail(core.audit_path),
        )

    @property
    def delivery(self) -> Delivery:
        """How letters reach the citizen: the source's reply channels (portal: the metadata's)."""
        if not hasattr(self.source, "deliver"):
            raise ApplicationError(
                f"Die Quelle {self.source.name} kann keine Schreiben zustellen.",
                code="no-delivery",
            )
        return self.source  # type: ignore[return-value]

    def notify_review(self, item_key: str, reason_code: str, flow_run_id: str) -> None:
        """Mail the clerks that a Klärfall waits (ids and a link only), if an address is set.

        A mail that cannot be sent is logged, not raised: the Klärfall run waits in the
        Prefect UI either way.
        """
        if not self.settings.clerk_email:
            return
        from prefect.settings import PREFECT_UI_URL

        ui = (PREFECT_UI_URL.value() or "").rstrip("/")
        subject, body = review_notice(
            reference=item_key,
            reason_code=reason_code,
            process=self.process.title,
            review_url=f"{ui}/runs/flow-run/{flow_run_id}",
        )
        try:
            Mailer(MailSettings()).notify(self.settings.clerk_email, subject, body)
        except ApplicationError as exc:
            log.error("clerk notification failed", item_key=item_key, code=exc.code)

    def close(self) -> None:
        for closer in (self.source.close, self.archive.close, self.store.close):
            with contextlib.suppress(Exception):
                closer()


@contextlib.contextmanager
def bot_session(services: Services, account: BotAccount, run_id: str) -> Iterator[Any]:
    """A logged-in bot of the process's back office, in its own browser (this thread only)."""
    with BrowserSession(services.browser) as session:
        bot = services.process.bot.make(session, account, services.core.evidence_dir, run_id)
        with bot:
            yield bot
