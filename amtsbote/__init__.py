"""Amtsbote kernel: errors, settings, structured logging with redaction, audit trail.

Small on purpose, and free of Prefect and Playwright imports, so every layer can use it.
"""

from __future__ import annotations

from amtsbote._audit import AuditTrail, VerifyResult, verify_trail
from amtsbote._errors import (
    AmtsboteError,
    ApplicationError,
    BusinessRuleError,
    ItemHeld,
    LoginRefused,
    ReviewRequired,
    is_retryable,
)
from amtsbote._logging import configure_logging, get_logger, redactor
from amtsbote._redact import MASK, Redactor, register_secret
from amtsbote._settings import (
    PERSONAL_DATA_FIELDS,
    PREFECT_SECRET_PREFIX,
    AmtsboteSettings,
    SecretSettings,
    register_secret_source,
    resolve_secret,
)

__all__ = [
    "MASK",
    "PERSONAL_DATA_FIELDS",
    "PREFECT_SECRET_PREFIX",
    "AmtsboteError",
    "AmtsboteSettings",
    "ApplicationError",
    "AuditTrail",
    "BusinessRuleError",
    "ItemHeld",
    "LoginRefused",
    "Redactor",
    "ReviewRequired",
    "SecretSettings",
    "VerifyResult",
    "configure_logging",
    "get_logger",
    "is_retryable",
    "redactor",
    "register_secret",
    "register_secret_source",
    "resolve_secret",
    "verify_trail",
]
