"""Bridge the framework's structlog events into Prefect's run logs.

Prefect 3 ships only its own loggers to the API. We attach Prefect's `APILogHandler` to the
framework's namespaces (through `amtsbote.configure_logging`, so the records are redacted first)
and drop records that are emitted outside any run context instead of warning about them.
"""

from __future__ import annotations

import logging

from prefect.logging.handlers import APILogHandler

from amtsbote import AmtsboteSettings, configure_logging

__all__ = ["setup_logging"]


class _RunLogHandler(APILogHandler):
    """Prefect's API handler, silent for records emitted outside a flow or task run."""

    def emit(self, record: logging.LogRecord) -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return
        super().emit(record)


def setup_logging(settings: AmtsboteSettings | None = None) -> None:
    """JSON file + console + Prefect run logs for every framework logger (idempotent)."""
    configure_logging(settings, extra_handlers=[_RunLogHandler()])
