"""Shared machinery of ``make demo`` that tests and benchmarks use too.

`PrefectServer` is the one launcher of ``prefect server start`` on this machine (see
``demo._prefect_server``).
"""

from __future__ import annotations

from demo._prefect_server import PREFECT_BIN, PrefectServer, PrefectServerError, free_port

__all__ = ["PREFECT_BIN", "PrefectServer", "PrefectServerError", "free_port"]
