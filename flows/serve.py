"""Serve every Amtsbote deployment from this one process (``python -m flows.serve``).

The single-machine alternative to ``prefect deploy`` + a work pool worker: handy on a laptop,
in tests and for a small municipality. Production set-ups use ``deployments/prefect.yaml``.
"""

from __future__ import annotations

from typing import Any, cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.audit_report import audit_report
from flows.human import freigabe, klaerfall
from flows.hundesteuer import HundesteuerParams, hundesteuer
from flows.intake import intake

__all__ = ["main"]


def main() -> None:
    flows: list[tuple[Any, str]] = [
        (hundesteuer, "hundesteuer"),
        (intake, "intake"),
        (klaerfall, "klaerfall"),
        (freigabe, "freigabe"),
        (audit_report, "audit-report"),
    ]
    defaults = {"hundesteuer": {"params": HundesteuerParams().model_dump()}}
    deployments = [
        cast(RunnerDeployment, f.to_deployment(name=name, parameters=defaults.get(name)))
        for f, name in flows
    ]
    serve(*deployments, limit=20)


if __name__ == "__main__":
    main()
