"""Connectors: turn every outside format and system into typed records and back.

Importing the package registers Prefect Secret blocks as the store behind
``prefect-secret:<block>`` secrets (`connectors._secrets`; the kernel imports no Prefect).
"""

from __future__ import annotations

from connectors import _secrets  # noqa: F401  (registers the secret store on import)

__all__: list[str] = []
