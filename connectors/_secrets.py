"""Prefect Secret blocks as a secret store: ``prefect-secret:<block name>`` in any secret setting.

The kernel resolves secrets but imports no secret store (it stays free of Prefect); this module
registers the Prefect one with `amtsbote.register_secret_source` when `connectors` is imported.
Every settings class with secrets (`PortalSettings`, `EakteSettings`, `MailSettings`, the
flows' settings) sits in `connectors` or above, so the store is there whenever they load.
Prefect itself is imported only when a secret names a block.
"""

from __future__ import annotations

from amtsbote import PREFECT_SECRET_PREFIX, register_secret_source

__all__ = ["load_prefect_secret"]


def load_prefect_secret(block_name: str) -> str:
    """The value of the Prefect ``Secret`` block `block_name` (as text)."""
    from prefect.blocks.system import Secret  # lazy: only a secret that names a block needs it

    # _sync: the calling thread may hold an event loop (sync Playwright's), where Prefect's
    # dual sync/async API would hand back a coroutine instead of the block
    block = Secret.load(block_name, _sync=True)  # type: ignore[call-arg]
    return str(block.get())  # type: ignore[union-attr]


register_secret_source(PREFECT_SECRET_PREFIX, load_prefect_secret)
