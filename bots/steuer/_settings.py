"""Settings of the Fachverfahren Steuern as the bot sees it (env prefix ``AMTSBOTE_STEUER_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .._retry import RetryPolicy

__all__ = ["SteuerSettings"]


class SteuerSettings(BaseSettings):
    """Where the back office is and how the bot treats it.

    The bot's account is a separate `bots.BotAccount` (same env prefix: ``USERNAME``,
    ``PASSWORD``, ``PASSWORD_BLOCK``), so credentials never sit in this object.

    Attributes:
        base_url: The back office's base URL.
        max_relogins: Re-logins allowed within one step before it counts as a failure.
        retry: The bot's retry policy for system failures of this back office, e.g.
            ``AMTSBOTE_STEUER_RETRY='{"attempts": 5, "backoff_base": 1.0}'`` for a slow one.
    """

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_STEUER_", extra="ignore")

    base_url: str = "http://127.0.0.1:8020"
    max_relogins: int = 2
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
