"""Configuration of the e-Akte."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from sandbox._common import Faults

__all__ = ["EakteConfig"]


class EakteConfig(BaseModel):
    """Start configuration of the e-Akte (document management service)."""

    data_dir: Path = Field(Path("var/sandbox/eakte"), description="holds eakte.sqlite3")
    token: str = Field("eakte-client-token", description="Bearer token of clients")
    admin_token: str = "eakte-admin-token"
    faults: Faults = Field(default_factory=Faults)
    seed: int | None = Field(None, description="seed of fault randomness")
    max_document_bytes: int = Field(50 * 1024 * 1024, gt=0, description="larger bodies: 413")
