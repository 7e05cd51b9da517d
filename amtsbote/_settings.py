"""Settings of the framework itself, and how secrets are resolved.

Every outside system has its own pydantic-settings class in its layer (``PortalSettings`` in
connectors, ``BotAccount`` in bots …) with the env prefix ``AMTSBOTE_<SYSTEM>_``. This module
holds what all of them share:

- `AmtsboteSettings`: where logs, the audit trail and evidence go, which fields are personal data.
- `SecretSettings`: a base class whose ``SecretStr`` fields are registered with the log redactor
  the moment they are loaded, so no secret can reach a log line, whichever layer logs it.
- `resolve_secret`: a secret may be given as ``<source>:<name>``, e.g. ``prefect-secret:<block
  name>``; it is then read from the secret store registered for that prefix with
  `register_secret_source`. The kernel imports no secret store (no Prefect here): `connectors`
  registers Prefect Secret blocks under ``prefect-secret:`` when it is imported, and every
  settings class with secrets lives in `connectors` or above.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from amtsbote._errors import ApplicationError
from amtsbote._redact import register_secret

__all__ = [
    "PERSONAL_DATA_FIELDS",
    "PREFECT_SECRET_PREFIX",
    "AmtsboteSettings",
    "SecretSettings",
    "register_secret_source",
    "resolve_secret",
]

PREFECT_SECRET_PREFIX = "prefect-secret:"

#: Prefix → loader of the secret stores a secret may name (``prefect-secret:`` …).
_SECRET_SOURCES: dict[str, Callable[[str], str]] = {}

#: Field names that hold personal data wherever they appear in a log event (case and
#: separators are ignored: ``birthDate``, ``birth_date`` and ``birth-date`` are the same).
PERSONAL_DATA_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "first_name",
        "last_name",
        "full_name",
        "owner",
        "owner_name",
        "account_holder",
        "holder",
        "birth_date",
        "date_of_birth",
        "street",
        "house_number",
        "address",
        "postal_code",
        "city",
        "email",
        "e_mail",
        "phone",
        "iban",
        "bic",
        "chip_number",
        "dog_name",
        "steuernummer",
        "taxpayer_name",
        "password",
        "client_secret",
        "token",
        "access_token",
        "secret",
        "authorization",
    }
)


def register_secret_source(prefix: str, load: Callable[[str], str]) -> None:
    """Let a secret written ``<prefix><name>`` be read from a secret store by `load(name)`.

    Args:
        prefix: How a value names the store, ending in ``:`` (e.g. ``"prefect-secret:"``).
        load: Returns the secret stored under a name; raises if it cannot.
    """
    _SECRET_SOURCES[prefix] = load


def resolve_secret(value: SecretStr | str) -> SecretStr:
    """Return the secret itself, reading ``<prefix><name>`` from the store registered for it.

    ``prefect-secret:<name>`` reads the Prefect Secret block of that name (registered by
    `connectors`). The resolved value is registered with the redactor before it is returned.

    Raises:
        ApplicationError: ``secret-source-missing``: the value names Prefect Secret blocks but
            no loader is registered for them (a configuration problem).
    """
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    for prefix, load in _SECRET_SOURCES.items():
        if raw.startswith(prefix):
            raw = str(load(raw.removeprefix(prefix)))
            break
    else:
        if raw.startswith(PREFECT_SECRET_PREFIX):
            raise ApplicationError(
                "Ein Geheimnis soll aus einem Prefect-Secret-Block kommen, aber dafür ist keine "
                "Quelle eingerichtet (sie kommt mit dem Paket connectors).",
                code="secret-source-missing",
            )
    register_secret(raw)
    return SecretStr(raw)


class SecretSettings(BaseSettings):
    """Settings base: each ``SecretStr`` field is resolved and registered for redaction."""

    model_config = SettingsConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _register_secrets(self) -> SecretSettings:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                object.__setattr__(self, name, resolve_secret(value))
        return self


class AmtsboteSettings(BaseSettings):
    """Framework-wide settings (env prefix ``AMTSBOTE_``)."""

    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_", extra="ignore")

    data_dir: Path = Field(
        Path("var"), description="root for logs, audit, evidence, refused-login markers"
    )
    log_level: str = "INFO"
    log_json_file: bool = True
    console_logs: bool = True
    evidence_retention_days: int = Field(30, ge=1)
    extra_personal_fields: list[str] = Field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"

    @property
    def audit_path(self) -> Path:
        return self.audit_dir / "audit.jsonl"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def accounts_dir(self) -> Path:
        """Where bots remember refused logins (one marker per back office and account)."""
        return self.data_dir / "accounts"

    def personal_fields(self) -> frozenset[str]:
        return PERSONAL_DATA_FIELDS | frozenset(self.extra_personal_fields)

    def model_post_init(self, context: Any) -> None:
        self.data_dir = Path(self.data_dir)
