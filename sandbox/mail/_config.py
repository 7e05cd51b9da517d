"""Configuration of the sandbox mail system."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

__all__ = ["MailConfig"]


class MailConfig(BaseModel):
    """Start configuration of the mail system (SMTP intake and webmail of Musterstadt)."""

    data_dir: Path = Field(Path("var/sandbox/mail"), description="holds mail.sqlite3")
    host: str = Field("127.0.0.1", description="SMTP and webmail listen here")
    smtp_port: int = Field(0, ge=0, le=65535, description="0 = a free port")
    http_port: int = Field(0, ge=0, le=65535, description="webmail; 0 = a free port")
    hostname: str = Field("mail.musterstadt.example", description="the SMTP greeting's name")
    admin_token: str = "mail-admin-token"
    max_message_bytes: int = Field(32 * 1024 * 1024, gt=0, description="larger: 552 at DATA")
