"""Settings of one process (env prefix ``AMTSBOTE_<PROCESS>_``), the same fields for all.

Secrets (the bots' passwords) may be ``prefect-secret:<block>`` references.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from amtsbote import SecretSettings, resolve_secret
from bots import BotAccount

__all__ = ["ProcessSettings"]


class ProcessSettings(SecretSettings):
    """How one process runs on this installation.

    Attributes:
        accounts: The bots' service accounts in the back office (username → password, or a
            ``prefect-secret:<block>`` reference per password). One per parallel session.
        seat_limit: Prefect global concurrency limit standing for the licensed seats (default:
            the process's `BotSpec.seats`); every bot session holds one slot while logged in.
        seat_lease_s: Lease of a slot; a crashed worker's slot frees itself after this time.
        pipeline_depth: Items in flight per bot session (1 = one after the other).
        retries: Task retries of an item on `ApplicationError`.
        retry_delays_s: Backoff between those retries.
        review_deployment: Deployment of the Klärfall flow (default
            ``<process>-klaerfall/<process>-klaerfall``).
        approval_deployment: Deployment of the Freigabe flow (likewise).
        clerk_email: Where Klärfall notifications go (ids and a link only).
        admin_email: Where the watch reports items held at the source (ids and ages only).
        watch_after_days: Age from which a held item is mailed to `admin_email` (once a day).
    """

    model_config = SettingsConfigDict(extra="ignore")

    accounts: dict[str, SecretStr] = Field(default_factory=dict)
    seat_limit: str = ""
    seat_lease_s: float = 60
    pipeline_depth: int = Field(2, ge=1, le=8)
    retries: int = 2
    retry_delays_s: list[float] = Field(default_factory=lambda: [2.0, 10.0])
    review_deployment: str = ""
    approval_deployment: str = ""
    clerk_email: str | None = None
    admin_email: str | None = None
    watch_after_days: float = Field(2.0, ge=0)

    @classmethod
    def for_process(cls, name: str, seats: str) -> ProcessSettings:
        """The settings of process `name` from ``AMTSBOTE_<NAME>_*``, defaults filled in."""
        prefix = f"AMTSBOTE_{name.upper().replace('-', '_')}_"
        settings = cls(_env_prefix=prefix)
        defaults: dict[str, Any] = {
            "seat_limit": settings.seat_limit or seats,
            "review_deployment": settings.review_deployment or f"{name}-klaerfall/{name}-klaerfall",
            "approval_deployment": settings.approval_deployment
            or f"{name}-freigabe/{name}-freigabe",
        }
        return settings.model_copy(update=defaults)

    def bot_accounts(self) -> list[BotAccount]:
        """The accounts to log in with, passwords resolved (one per session)."""
        if self.accounts:
            return [
                BotAccount(username=u, password=resolve_secret(p))
                for u, p in sorted(self.accounts.items())
            ]
        account = BotAccount()
        if account.password is not None:
            resolve_secret(account.password)
        return [account]
