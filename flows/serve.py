"""Serve every Amtsbote deployment from this one process (``python -m flows.serve``).

The single-machine alternative to ``prefect deploy`` + a work pool worker: handy on a laptop,
in tests and for a small municipality. Production set-ups use ``deployments/prefect.yaml``.
"""

from __future__ import annotations

from typing import Any, cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.audit_report import audit_report
from flows.engine import BatchParams, ProcessFlows
from flows.hundesteuer import FLOWS as HUNDESTEUER

__all__ = ["PROCESSES", "main"]

#: The flows of every process this installation runs.
PROCESSES: list[ProcessFlows] = [HUNDESTEUER]


def main() -> None:
    pairs: list[tuple[Any, str, dict[str, Any] | None]] = [(audit_report, "audit-report", None)]
    for flows in PROCESSES:
        for f, name in flows.deployments():
            defaults = {"params": BatchParams().model_dump()} if f is flows.batch else None
            pairs.append((f, name, defaults))
    deployments = [
        cast(RunnerDeployment, f.to_deployment(name=name, parameters=params))
        for f, name, params in pairs
    ]
    serve(*deployments, limit=20)


if __name__ == "__main__":
    main()
