"""Musterstadt: the demo systems Amtsbote's bots and connectors work against.

A separate application: it imports nothing of the framework, and the framework never
imports it. Only tests, benchmarks and the demo wire the two together.

- ``sandbox.portal``  Serviceportal Musterstadt (citizen forms + FIT-Connect-style API)
- ``sandbox.steuer``  Fachverfahren Steuern (legacy back office, HTML only)
- ``sandbox.eakte``   e-Akte (document management REST service)

`run_all(SandboxConfig(...))` serves all three in-process (the demo; ``python -m sandbox up``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunningSandbox", "SandboxConfig", "run_all"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing one app (``sandbox.steuer``) does not load the portal and its crypto.
    if name in __all__:
        from sandbox import _run

        return getattr(_run, name)
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
