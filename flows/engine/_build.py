"""`build_flows`: the Prefect flows of a `Process`, written once for every process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from prefect import Flow, flow
from prefect.runtime import flow_run

from flows.engine._batch import run_batch
from flows.engine._clerk import run_freigabe, run_klaerfall
from flows.engine._fanout import run_intake
from flows.engine._params import BatchParams, IntakeParams
from flows.engine._process import Process

__all__ = ["ProcessFlows", "attributes", "build_flows"]

BERLIN = ZoneInfo("Europe/Berlin")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ProcessFlows:
    """The four flows of one process; deploy them from the process module."""

    process: Process[Any, Any]
    batch: Flow[..., dict[str, Any]]
    intake: Flow[..., dict[str, Any]]
    klaerfall: Flow[..., dict[str, Any]]
    freigabe: Flow[..., dict[str, Any]]

    def deployments(self) -> list[tuple[Flow[..., Any], str]]:
        """(flow, deployment name) pairs, named as in ``deployments/prefect.yaml``."""
        n = self.process.name
        return [
            (self.batch, n),
            (self.intake, f"{n}-intake"),
            (self.klaerfall, f"{n}-klaerfall"),
            (self.freigabe, f"{n}-freigabe"),
        ]


def _run_id() -> str:
    return str(flow_run.id or "local")


def _entry(fn: F, module: str, attribute: str) -> F:
    # Prefect finds a flow again (in a worker, in `serve`) by "<file of module>:<qualname>":
    # make that the process module's attribute, not this closure.
    fn.__module__ = module
    fn.__name__ = fn.__qualname__ = attribute
    return fn


def build_flows(process: Process[Any, Any], module: str) -> ProcessFlows:
    """Build ``<name>``, ``<name>-intake``, ``<name>-klaerfall`` and ``<name>-freigabe``.

    Args:
        process: The declaration.
        module: ``__name__`` of the process module, which must bind the flows to the names
            `ProcessFlows.attributes` gives (``hundesteuer``, ``hundesteuer_intake``, …):
            deployments name them as entrypoints (``flows/hundesteuer/__init__.py:hundesteuer``).
    """
    name = process.name
    attr = attributes(process)

    def batch_run_name() -> str:
        params = flow_run.parameters.get("params") or {}
        approval = params.get("approval", "auto") if isinstance(params, dict) else "auto"
        return f"{name}-{datetime.now(BERLIN):%Y-%m-%d-%H%M}-{approval}"

    def batch(params: BatchParams | None = None) -> dict[str, Any]:
        return run_batch(process, params or BatchParams(), _run_id())

    def intake(params: IntakeParams | None = None) -> dict[str, Any]:
        return run_intake(process, params or IntakeParams(), _run_id())

    def klaerfall(item_key: str, reason_code: str) -> dict[str, Any]:
        return run_klaerfall(process, item_key, reason_code)

    def freigabe(item_key: str, aktenzeichen: str) -> dict[str, Any]:
        return run_freigabe(process, item_key, aktenzeichen)

    title = process.title
    batch.__doc__ = f"{title}: neue Vorgänge abholen und einen Stapel bearbeiten."
    intake.__doc__ = f"{title}: Eingang – abholen, speichern, quittieren, auf Stapel verteilen."
    klaerfall.__doc__ = f"{title}: ein Klärfall wartet auf die Entscheidung einer Sachbearbeiterin."
    freigabe.__doc__ = f"{title}: ein Bescheid wartet auf die Freigabe (Vier-Augen-Prinzip)."
    return ProcessFlows(
        process=process,
        batch=flow(name=name, flow_run_name=batch_run_name, log_prints=False)(
            _entry(batch, module, attr["batch"])
        ),
        intake=flow(name=f"{name}-intake", log_prints=False)(
            _entry(intake, module, attr["intake"])
        ),
        klaerfall=flow(name=f"{name}-klaerfall", flow_run_name="klaerfall-{item_key}")(
            _entry(klaerfall, module, attr["klaerfall"])
        ),
        freigabe=flow(name=f"{name}-freigabe", flow_run_name="freigabe-{item_key}")(
            _entry(freigabe, module, attr["freigabe"])
        ),
    )


def attributes(process: Process[Any, Any]) -> dict[str, str]:
    """The module attribute each flow of `process` must be bound to."""
    base = process.name.replace("-", "_")
    return {
        "batch": base,
        "intake": f"{base}_intake",
        "klaerfall": f"{base}_klaerfall",
        "freigabe": f"{base}_freigabe",
    }
