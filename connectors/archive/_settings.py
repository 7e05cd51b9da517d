"""Settings of the e-Akte connector (env prefix ``AMTSBOTE_EAKTE_``)."""

from __future__ import annotations

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from amtsbote import SecretSettings

__all__ = ["EakteSettings"]


class EakteSettings(SecretSettings):
    """Where the e-Akte (electronic records system) is and how to authenticate."""

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_EAKTE_", extra="ignore")

    base_url: str = Field("http://127.0.0.1:8103", description="e-Akte API root")
    token: SecretStr = Field(..., description="Bearer token of this client")
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(60.0, gt=0, description="large documents take a while")

    def timeout(self) -> httpx.Timeout:
        """The httpx timeout built from the settings."""
        return httpx.Timeout(self.read_timeout_s, connect=self.connect_timeout_s)
