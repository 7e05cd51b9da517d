"""What every part of the demo shares: where it lives, its fixed ports, its timeouts, its output.

The ports are fixed (not free ones as in the tests) so the URLs the demo prints, the README and
the operations guide all name the same addresses.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PORTAL_PORT, STEUER_PORT, EAKTE_PORT, PREFECT_PORT = 8401, 8402, 8403, 4200
MAIL_PORT, SMTP_PORT = 8404, 8425
PREFECT_URL = f"http://{HOST}:{PREFECT_PORT}"
#: Every port the demo listens on, with what a user knows it as.
PORTS = (
    (PORTAL_PORT, "Serviceportal"),
    (STEUER_PORT, "Fachverfahren Steuern"),
    (EAKTE_PORT, "e-Akte"),
    (MAIL_PORT, "Webmail"),
    (SMTP_PORT, "SMTP"),
    (PREFECT_PORT, "Prefect-Server"),
)

# Timeouts (seconds) of every wait; generous for a busy two-core machine.
START_TIMEOUT = 120
DEPLOY_TIMEOUT = 240
RUN_TIMEOUT = 600
STOP_TIMEOUT = 20


class DemoError(RuntimeError):
    """The demo could not start or run; the message says what to do."""


@dataclass(frozen=True)
class DemoLayout:
    """Where the demo keeps its state (everything under one directory)."""

    base: Path

    @property
    def pid_file(self) -> Path:
        return self.base / "demo.json"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def sandbox(self) -> Path:
        return self.base / "sandbox"

    @property
    def prefect_home(self) -> Path:
        return self.base / "prefect"

    @property
    def data_dir(self) -> Path:
        return self.base / "amtsbote"

    @property
    def receiver_keys(self) -> Path:
        return self.sandbox / "portal" / "receiver-keys.json"


def say(text: str = "") -> None:
    """One line of the demo's output, at once (it runs for minutes)."""
    print(text, flush=True)


@contextlib.contextmanager
def step(text: str) -> Iterator[None]:
    """Print a step and, when it is done, how long it took."""
    began = time.monotonic()
    print(f"{text} …", end="", flush=True)
    try:
        yield
    except BaseException:
        print(flush=True)
        raise
    print(f" {time.monotonic() - began:.0f} s", flush=True)
