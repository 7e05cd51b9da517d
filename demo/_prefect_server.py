"""One way to run ``prefect server start`` on this machine: for the demo, tests, bench and scale.

Why one: the demo, the test session, the benchmark and the scale tests all need a real Prefect
server with its own home and database, listening on loopback, that stops completely — and each
used to start it its own way. Here the server runs in its own session (process group), so
stopping it stops everything it started: SIGTERM to the group, SIGKILL after a grace period.

The database is an SQLite file under the server's ``PREFECT_HOME`` unless a PostgreSQL URL
(``postgresql+asyncpg://…``) is given. The port is a free one unless a fixed one is asked for
(the demo's 4200); a fixed port that is taken is an error, never another server's health.

    with PrefectServer(tmp / "prefect") as server, server.use():
        ...  # this process's Prefect client talks to server.api_url
        subprocess.run(argv, env=server.environ(town_env))  # and so do child processes

``start()`` without ``with`` leaves the server running after this process ends (the demo does
that; ``make demo-stop`` ends it by its process group).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["PREFECT_BIN", "PrefectServer", "PrefectServerError", "free_port"]

#: The ``prefect`` command of this interpreter's environment.
PREFECT_BIN = str(Path(sys.executable).with_name("prefect"))

#: Settings every server and its clients get: nothing phones home, no banners, and flow-less
#: log records (e.g. a worker's own) are not sent to the API.
_BASE_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}
_LOG_TAIL_CHARS = 3000


class PrefectServerError(RuntimeError):
    """The server did not come up: its port is taken, it exited, or it never became healthy."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


class PrefectServer:
    """A ``prefect server start`` process with its own home, database, port and log file.

    Args:
        home: Its ``PREFECT_HOME`` (created if missing); holds the SQLite database by default.
        database_url: SQLAlchemy URL of the server's database; default an SQLite file in `home`.
        port: Port to listen on; default a free one.
        host: Interface to listen on.
        log: Where the server's output goes (appended); default ``home / "server.log"``.
        settings: More ``PREFECT_*`` variables for the server and its clients, e.g.
            ``{"PREFECT_LOGGING_LEVEL": "WARNING"}``.
        start_timeout: Seconds to wait for ``/api/health``.
        stop_timeout: Seconds between SIGTERM and SIGKILL.
    """

    def __init__(
        self,
        home: Path,
        *,
        database_url: str | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        log: Path | None = None,
        settings: Mapping[str, str] | None = None,
        start_timeout: float = 120.0,
        stop_timeout: float = 20.0,
    ) -> None:
        self.home = Path(home)
        self.host = host
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port(host)
        self.log = log if log is not None else self.home / "server.log"
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        database = database_url or f"sqlite+aiosqlite:///{self.home}/prefect.db"
        #: The ``PREFECT_*`` variables that point a client (or child process) at this server.
        self.env: dict[str, str] = {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_API_DATABASE_CONNECTION_URL": database,
            **_BASE_SETTINGS,
            **(settings or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    @property
    def ui_url(self) -> str:
        """The Prefect UI, e.g. ``http://127.0.0.1:4200``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The REST API (``PREFECT_API_URL``), e.g. ``http://127.0.0.1:4200/api``."""
        return f"{self.ui_url}/api"

    @property
    def argv(self) -> list[str]:
        """The command line the server runs with."""
        return [PREFECT_BIN, "server", "start", "--host", self.host, "--port", str(self.port)]

    @property
    def pid(self) -> int:
        """Pid of the server process (also its process group id)."""
        if self.process is None:
            raise PrefectServerError("the Prefect server has not been started")
        return self.process.pid

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for a child process: this one's, the server's `env`, then `extra`."""
        return {**os.environ, **self.env, **(extra or {})}

    def healthy(self) -> bool:
        """Whether the API answers ``/health`` with 200 right now."""
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> PrefectServer:
        """Start the server and wait until it is healthy.

        Returns:
            The server itself (for chaining).

        Raises:
            PrefectServerError: The fixed port is taken, the server exited, or it was not
                healthy within `start_timeout`; a started process is stopped again.
        """
        if self.process is not None:
            raise PrefectServerError(f"the Prefect server on {self.ui_url} is already started")
        if self._fixed_port and _port_taken(self.host, self.port):
            raise PrefectServerError(f"port {self.host}:{self.port} is taken")
        self.home.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.environ(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        try:
            self._wait_healthy(self.process)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = proc.poll()
            if code is not None:
                raise PrefectServerError(
                    f"prefect server exited with code {code}; {self.log}:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            if time.monotonic() > deadline:
                raise PrefectServerError(
                    f"prefect server not healthy at {self.api_url} after "
                    f"{self.start_timeout:.0f} s; {self.log}:\n{self.log_tail()}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after `stop_timeout`.

        Does nothing when it was never started or is already stopped.
        """
        proc = self.process
        if proc is None or self._stopped:
            return
        self._stopped = True
        group = proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader, so only live members keep the group
            if not _group_alive(group):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        proc.wait(timeout=10)

    @contextlib.contextmanager
    def use(self) -> Iterator[PrefectServer]:
        """Point this process's Prefect client at the server until the block ends.

        At the end, log records still queued for the API are sent first, so a run's logs
        reach the server before it stops.
        """
        from prefect.logging.handlers import APILogWorker
        from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

        updates = {PREFECT_API_URL: self.api_url, PREFECT_HOME: str(self.home)}
        with temporary_settings(updates=updates):
            try:
                yield self
            finally:
                APILogWorker.drain_all(timeout=10)

    def log_tail(self, chars: int = _LOG_TAIL_CHARS) -> str:
        """The end of the server's log file ('' if there is none)."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> PrefectServer:
        if self.process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "not started" if self.process is None else f"pid {self.process.pid}"
        return f"PrefectServer({self.ui_url}, home={self.home}, {state})"


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
