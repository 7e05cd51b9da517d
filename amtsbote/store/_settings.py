"""Settings of the work-item store (env prefix ``AMTSBOTE_STORE_``).

By default the store is an SQLite file under the data dir with a key file beside it that is
generated on first use, so one machine needs no configuration at all. A store given by URL
(PostgreSQL, for several workers on several machines) needs its key given explicitly:
``AMTSBOTE_STORE_KEYS`` (a key, a comma-separated list or a JSON list, newest first; each may
be ``prefect-secret:<block>``) or a key file named in ``AMTSBOTE_STORE_KEY_FILE``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from amtsbote._errors import ApplicationError
from amtsbote._settings import AmtsboteSettings, SecretSettings, resolve_secret
from amtsbote.store._crypto import ensure_key_file, read_key_file

__all__ = ["StoreSettings"]

DB_FILE = "workitems.sqlite"
KEY_FILE = "store.key"


class StoreSettings(SecretSettings):
    """Where the work-item store lives and how its payloads are protected."""

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_STORE_", extra="ignore")

    url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file <data_dir>/workitems.sqlite"
    )
    keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Fernet keys, newest first"
    )
    key_file: Path | None = Field(None, description="default: <data_dir>/store.key")
    retention_days: float = Field(30, ge=0, description="keep payloads this long after the end")
    lease_s: float = Field(300, gt=0, description="default lease of a claim")
    busy_timeout_s: float = Field(30, gt=0, description="SQLite: wait this long for a lock")

    @field_validator("keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("keys", mode="after")
    @classmethod
    def _resolve_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        return [resolve_secret(key) for key in value]

    def resolved_url(self, core: AmtsboteSettings | None = None) -> str:
        """The URL, or the SQLite file under the data dir (whose folder is created)."""
        if self.url:
            return self.url
        data_dir = (core or AmtsboteSettings()).data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(data_dir / DB_FILE).resolve()}"

    def resolved_key_file(self, core: AmtsboteSettings | None = None) -> Path:
        return self.key_file or (core or AmtsboteSettings()).data_dir / KEY_FILE

    def resolved_keys(self, core: AmtsboteSettings | None = None) -> list[str]:
        """The keys, newest first: the setting, else the key file.

        The key file is generated when it is missing only for the embedded default store (no
        URL set). A store given by URL takes its key from `keys` or from a key file named in
        `key_file`, never from a file found by default: a worker on another machine would
        otherwise encrypt with a key of its own that no other worker can open.

        Raises:
            ApplicationError: ``store-key`` when there is no key.
        """
        if self.keys:
            return [key.get_secret_value() for key in self.keys]
        if self.url is None:
            return ensure_key_file(self.resolved_key_file(core))
        if self.key_file is not None:
            try:
                keys = read_key_file(self.key_file)
            except OSError as exc:
                raise ApplicationError(
                    f"Schlüsseldatei des Arbeitsvorrats nicht lesbar: {self.key_file} "
                    f"({type(exc).__name__})",
                    code="store-key",
                ) from None
            if keys:
                return keys
        raise ApplicationError(
            "Kein Schlüssel für den Arbeitsvorrat unter AMTSBOTE_STORE_URL: "
            "AMTSBOTE_STORE_KEYS oder AMTSBOTE_STORE_KEY_FILE setzen "
            "(neuer Schlüssel: amtsbote store new-key)",
            code="store-key",
        )
