"""Structured logging: JSON lines to a file, readable console output, redaction on by default.

All framework loggers live under four stdlib namespaces (``amtsbote``, ``bots``,
``connectors``, ``flows``) and are written through structlog. `configure_logging` attaches the
file and console handlers to those namespaces; flows add Prefect's API log handler through
`extra_handlers` so the same (redacted) events show in the Prefect UI — Prefect 3 does not
forward third-party loggers by itself.

The redaction processor runs last before rendering, after exception formatting, so masked
values cannot reappear in a traceback or in any handler's output.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog

from amtsbote._redact import Redactor
from amtsbote._settings import AmtsboteSettings

__all__ = ["configure_logging", "get_logger", "NAMESPACES", "redactor"]

NAMESPACES = ("amtsbote", "bots", "connectors", "flows")
_MARK = "_amtsbote_handler"
_state: dict[str, Any] = {"redactor": None}


def redactor() -> Redactor:
    """The active redactor (configured fields), created on first use."""
    if _state["redactor"] is None:
        _state["redactor"] = Redactor(AmtsboteSettings().personal_fields())
    red: Redactor = _state["redactor"]
    return red


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]


def _formatter(renderer: Any) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            lambda lg, m, ev: redactor()(lg, m, ev),
            renderer,
        ],
    )


def configure_logging(
    settings: AmtsboteSettings | None = None,
    *,
    log_file: Path | None = None,
    console: bool | None = None,
    extra_handlers: Iterable[logging.Handler] = (),
) -> Path | None:
    """Configure structlog and the framework's stdlib loggers; safe to call more than once.

    Args:
        settings: Framework settings (defaults from the environment).
        log_file: JSON-lines file; defaults to ``<data_dir>/logs/amtsbote.jsonl``.
        console: Human-readable output on stderr (defaults to the setting).
        extra_handlers: More handlers (e.g. Prefect's API log handler); they get the redacted,
            plain-text rendering.

    Returns:
        The path of the JSON log file, or None when file logging is off.
    """
    settings = settings or AmtsboteSettings()
    _state["redactor"] = Redactor(settings.personal_fields())
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handlers: list[logging.Handler] = []
    path: Path | None = None
    if settings.log_json_file:
        path = log_file or settings.log_dir / "amtsbote.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(_formatter(structlog.processors.JSONRenderer(ensure_ascii=False)))
        handlers.append(fh)
    if settings.console_logs if console is None else console:
        ch = logging.StreamHandler(sys.stderr)
        ch.setFormatter(_formatter(structlog.dev.ConsoleRenderer(colors=False)))
        handlers.append(ch)
    for extra in extra_handlers:
        extra.setFormatter(_formatter(structlog.dev.ConsoleRenderer(colors=False)))
        handlers.append(extra)
    for ns in NAMESPACES:
        lg = logging.getLogger(ns)
        for old in [h for h in lg.handlers if getattr(h, _MARK, False)]:
            lg.removeHandler(old)
            old.close()
        for h in handlers:
            setattr(h, _MARK, True)
            lg.addHandler(h)
        lg.setLevel(settings.log_level.upper())
        lg.propagate = False
    return path


def get_logger(name: str) -> Any:
    """A structlog logger for a module (use ``__name__``)."""
    return structlog.get_logger(name)
