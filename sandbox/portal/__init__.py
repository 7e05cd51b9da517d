"""Serviceportal Musterstadt: citizen forms plus a FIT-Connect-style submission API.

The portal sees only ciphertext: citizens' data is encrypted to the Steueramt's key (JWE,
RSA-OAEP-256 + A256GCM) before it is stored, and the receiver confirms with signed events (SET,
PS512). The sandbox generates the receiver's private keys and writes them to
``<data_dir>/receiver-keys.json`` so the framework, demo and tests can play the authority.

- `create_app` / `PortalConfig`: the FastAPI app and its settings.
- `SenderClient`: files applications over HTTP exactly as the web form does.
- JOSE helpers (`encrypt_part`, `decrypt_part`, `sign_set`, `auth_tag` …) for tests.
"""

from __future__ import annotations

from sandbox.portal._app import create_app
from sandbox.portal._client import SenderClient, SubmissionRef
from sandbox.portal._codes import (
    BREEDS,
    DEFAULT_DESTINATION_ID,
    EVENT_ACCEPT,
    EVENT_CREATE,
    EVENT_REJECT,
    EVENT_SUBMIT,
    HUNDESTEUER_SCHEMA_URI,
    HUNDESTEUER_SERVICE,
    LISTED_BREEDS,
    PROBLEM_BASE,
)
from sandbox.portal._config import PortalConfig
from sandbox.portal._crypto import (
    auth_tag,
    decrypt_part,
    encrypt_part,
    sha512_hex,
    sign_set,
    verify_set,
)
from sandbox.portal._envelope import build_metadata, email_reply_channel, seal_submission

__all__ = [
    "BREEDS",
    "DEFAULT_DESTINATION_ID",
    "EVENT_ACCEPT",
    "EVENT_CREATE",
    "EVENT_REJECT",
    "EVENT_SUBMIT",
    "HUNDESTEUER_SCHEMA_URI",
    "HUNDESTEUER_SERVICE",
    "LISTED_BREEDS",
    "PROBLEM_BASE",
    "PortalConfig",
    "SenderClient",
    "SubmissionRef",
    "auth_tag",
    "build_metadata",
    "email_reply_channel",
    "create_app",
    "decrypt_part",
    "encrypt_part",
    "seal_submission",
    "sha512_hex",
    "sign_set",
    "verify_set",
]
