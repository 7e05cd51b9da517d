"""Secrets named by store (``prefect-secret:<block>``): the kernel resolves, `connectors` supplies.

The kernel imports no Prefect, so the Prefect Secret store is registered by `connectors`; a
value that names a store nobody registered is a clear configuration error, never used as the
secret itself.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

import amtsbote._settings as kernel_settings
from amtsbote import (
    PREFECT_SECRET_PREFIX,
    ApplicationError,
    SecretSettings,
    register_secret_source,
    resolve_secret,
)


class _VaultSettings(SecretSettings):
    model_config = SettingsConfigDict(env_prefix="AMTSBOTE_VAULTTEST_")
    token: SecretStr = SecretStr("unset")


@pytest.fixture
def sources(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The kernel's store registry, restored after the test."""
    copy = dict(kernel_settings._SECRET_SOURCES)
    monkeypatch.setattr(kernel_settings, "_SECRET_SOURCES", copy)
    return copy  # type: ignore[return-value]


def test_a_registered_store_is_read(
    sources: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = {"portal": "s3cr3t-from-the-vault"}
    register_secret_source("vault:", store.__getitem__)
    assert resolve_secret("vault:portal").get_secret_value() == "s3cr3t-from-the-vault"
    assert resolve_secret(SecretStr("plain")).get_secret_value() == "plain"
    monkeypatch.setenv("AMTSBOTE_VAULTTEST_TOKEN", "vault:portal")
    assert _VaultSettings().token.get_secret_value() == "s3cr3t-from-the-vault"


def test_prefect_secret_without_its_store_is_a_config_error(sources: dict[str, object]) -> None:
    sources.clear()  # as in a process that imported the kernel alone
    with pytest.raises(ApplicationError) as info:
        resolve_secret(PREFECT_SECRET_PREFIX + "portal-client-secret")
    assert info.value.code == "secret-source-missing"
    assert "portal-client-secret" not in info.value.message


def test_connectors_registers_prefect_secret_blocks() -> None:
    import connectors._secrets

    assert (
        kernel_settings._SECRET_SOURCES[PREFECT_SECRET_PREFIX]
        is connectors._secrets.load_prefect_secret
    )


@pytest.mark.slow
def test_prefect_secret_block_through_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    import connectors  # noqa: F401  (registers the store)

    with prefect_test_harness(server_startup_timeout=120):
        Secret(value="vault-value-42").save("vaulttest-token", overwrite=True, _sync=True)
        monkeypatch.setenv("AMTSBOTE_VAULTTEST_TOKEN", "prefect-secret:vaulttest-token")
        assert _VaultSettings().token.get_secret_value() == "vault-value-42"
