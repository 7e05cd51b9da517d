"""Wiring: settings → clients, bots and the item processor the flows use.

Each outside system is configured by its own settings class from the environment
(``AMTSBOTE_PORTAL_*``, ``AMTSBOTE_EAKTE_*``, ``AMTSBOTE_STEUER_*``, ``AMTSBOTE_BROWSER_*``,
``AMTSBOTE_MAIL_*``); secrets may be ``prefect-secret:<block>`` references. Nothing here holds a
value of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from amtsbote import (
    AmtsboteSettings,
    ApplicationError,
    AuditTrail,
    SecretSettings,
    get_logger,
    resolve_secret,
)
from bots import BotAccount, BrowserSession, BrowserSettings
from bots.steuer import SteuerBot, SteuerSettings
from connectors.archive import EakteClient, EakteSettings
from connectors.documents import render_dog_tax_notice
from connectors.mail import Mailer, MailSettings, review_notice
from connectors.portal import PortalClient, PortalSettings
from flows._item import ItemProcessor

__all__ = ["ProcessSettings", "Services", "bot_session", "notice_for"]

log = get_logger(__name__)


class ProcessSettings(SecretSettings):
    """Settings of the hundesteuer process (env prefix ``AMTSBOTE_HUNDESTEUER_``).

    Attributes:
        accounts: The bots' service accounts in the Fachverfahren (username → password, or a
            ``prefect-secret:<block>`` reference per password). One account per parallel session.
        seat_limit: Name of the Prefect global concurrency limit that stands for the back office's
            licensed seats; every bot session holds one slot while it is logged in.
        seat_lease_s: Lease of a slot; a crashed worker's slot frees itself after this time.
        pipeline_depth: Items in flight per bot session (1 = one after the other): while the
            browser registers one item, the others are fetched, archived and accepted.
        retries: Task retries of an item on `ApplicationError`.
        retry_delays_s: Backoff between those retries.
        review_deployment: Deployment of the Klärfall flow ("flow/deployment").
        approval_deployment: Deployment of the approval (Freigabe) flow.
        clerk_email: Where Klärfall notifications go (ids only, no citizen data).
    """

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_HUNDESTEUER_", extra="ignore")

    accounts: dict[str, SecretStr] = Field(default_factory=dict)
    seat_limit: str = "fachverfahren-steuern-seats"
    seat_lease_s: float = 60
    pipeline_depth: int = Field(2, ge=1, le=8)
    retries: int = 2
    retry_delays_s: list[float] = Field(default_factory=lambda: [2.0, 10.0])
    review_deployment: str = "klaerfall/klaerfall"
    approval_deployment: str = "freigabe/freigabe"
    clerk_email: str | None = None

    def bot_accounts(self) -> list[BotAccount]:
        if self.accounts:
            return [
                BotAccount(username=u, password=resolve_secret(p))
                for u, p in sorted(self.accounts.items())
            ]
        account = BotAccount()
        if account.password is not None:
            resolve_secret(account.password)
        return [account]


def notice_for(application: Any, registration: Any, today: date) -> bytes:
    """Render the Hundesteuerbescheid for a registered application."""
    owner = application.owner
    return render_dog_tax_notice(
        aktenzeichen=registration.aktenzeichen,
        tax_amount=registration.tax_amount,
        owner_name=f"{owner.given_name} {owner.family_name}",
        address_lines=[f"{owner.street} {owner.house_number}", f"{owner.postal_code} {owner.city}"],
        dog_name=application.dog.name,
        breed_name=application.dog.breed_name,
        start_date=application.dog.owned_since,
        iban=application.sepa_mandate.iban,
        notice_date=today,
    )


@dataclass
class Services:
    """Everything one flow run talks to, built once per run."""

    core: AmtsboteSettings
    process: ProcessSettings
    portal: PortalClient
    archive: EakteClient
    browser: BrowserSettings
    steuer: SteuerSettings
    audit: AuditTrail

    @classmethod
    def from_env(cls) -> Services:
        core = AmtsboteSettings()
        return cls(
            core=core,
            process=ProcessSettings(),
            portal=PortalClient(PortalSettings()),
            archive=EakteClient(EakteSettings()),
            browser=BrowserSettings(),
            steuer=SteuerSettings(),
            audit=AuditTrail(core.audit_path),
        )

    def processor(self, flow_run_id: str | None) -> ItemProcessor:
        return ItemProcessor(
            portal=self.portal,
            archive=self.archive,
            render_notice=notice_for,
            audit=self.audit,
            flow_run_id=flow_run_id,
        )

    def notify_review(self, submission_id: str, reason_code: str, flow_run_id: str) -> None:
        """Mail the clerks that a Klärfall waits (ids and a link only), if an address is set.

        A mail that cannot be sent is logged, not raised: the Klärfall run exists and waits in
        the Prefect UI either way, and retrying the item would not send the mail again.
        """
        if not self.process.clerk_email:
            return
        from prefect.settings import PREFECT_UI_URL

        ui = (PREFECT_UI_URL.value() or "").rstrip("/")
        subject, body = review_notice(
            reference=submission_id,
            reason_code=reason_code,
            review_url=f"{ui}/runs/flow-run/{flow_run_id}",
        )
        try:
            Mailer(MailSettings()).notify(self.process.clerk_email, subject, body)
        except ApplicationError as exc:
            log.error("clerk notification failed", item_key=submission_id, code=exc.code)

    def close(self) -> None:
        for client in (self.portal, self.archive):
            with contextlib.suppress(Exception):
                client.close()


@contextlib.contextmanager
def bot_session(services: Services, account: BotAccount, run_id: str) -> Iterator[SteuerBot]:
    """A logged-in Hundesteuer bot in its own browser (lives in the calling thread)."""
    with BrowserSession(services.browser) as session:
        bot = SteuerBot(
            session,
            services.steuer,
            account,
            evidence_dir=services.core.evidence_dir,
            run_id=run_id,
        )
        with bot:
            yield bot
