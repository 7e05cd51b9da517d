"""Settings of the mail connector (env prefix ``AMTSBOTE_MAIL_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from amtsbote import SecretSettings

__all__ = ["MailSettings"]


class MailSettings(SecretSettings):
    """The SMTP relay for internal notifications (clerks, admins)."""

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_MAIL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    sender: str = Field("amtsbote@musterstadt.example", description="the From address")
    starttls: bool = Field(False, description="upgrade the connection with STARTTLS")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(10.0, gt=0)
    default_to: list[str] = Field(
        default_factory=list, description="where notifications go when no recipient is given"
    )
