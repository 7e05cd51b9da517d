"""Process supervision: start the demo's background processes, record them, stop them again.

The sandbox apps, the Prefect server and the worker each run in their own process group, so
they outlive ``make demo`` (the Klärfall waits in the UI) and ``make demo-stop`` ends each
group as a whole. Their pids and command lines are kept in ``demo.json``; a pid that now runs
another command (pids are reused) is left alone. Flow runs a worker starts in sessions of their
own are found by the demo's ``PREFECT_HOME`` in their environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from demo._common import (
    EAKTE_PORT,
    HOST,
    MAIL_PORT,
    PORTAL_PORT,
    PORTS,
    PREFECT_PORT,
    ROOT,
    SMTP_PORT,
    START_TIMEOUT,
    STEUER_PORT,
    STOP_TIMEOUT,
    DemoError,
    DemoLayout,
    say,
)
from demo._prefect_server import PREFECT_BIN, PrefectServer, PrefectServerError
from demo._setup import POOL, WORKER_NAME

SERVER = "prefect-server"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _same_command(cmdline: list[str], argv: list[str]) -> bool:
    """Whether a running command line is the one we started (scripts run via their interpreter)."""
    if not cmdline or not argv:
        return False
    args = argv[1:]
    return cmdline[len(cmdline) - len(args) :] == args and any(
        Path(part).name == Path(argv[0]).name for part in cmdline[: len(cmdline) - len(args)]
    )


def _environ_has(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False  # a zombie waiting for its parent: gone for our purpose
    return True


def demo_processes(layout: DemoLayout) -> list[int]:
    """Pids of processes started for this demo (marked by ``PREFECT_HOME`` in their environment).

    Catches what the process groups miss: flow-run processes a worker started in their own
    session, and the browsers of those runs.
    """
    marker = f"PREFECT_HOME={layout.prefect_home}".encode()
    me = os.getpid()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != me and _environ_has(int(entry.name), marker):
            pids.append(int(entry.name))
    return pids


def stop_demo(layout: DemoLayout, *, quiet: bool = False) -> int:
    """Stop a running demo: its process groups from the pid file, then any stragglers.

    Args:
        layout: Where the demo lives.
        quiet: Print nothing when no demo was running.

    Returns:
        How many processes were signalled.
    """
    groups: dict[str, dict[str, Any]] = {}
    if layout.pid_file.exists():
        with contextlib.suppress(ValueError, OSError):
            groups = json.loads(layout.pid_file.read_text()).get("processes", {})
    signalled: list[int] = []
    for name, info in groups.items():
        pid = int(info["pid"])
        # Only a process that still runs what we started (pids are reused).
        if not _alive(pid) or not _same_command(_cmdline(pid), info["argv"]):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
            signalled.append(pid)
            if not quiet:
                say(f"  beende {name} (Prozessgruppe {pid})")
    stragglers = [p for p in demo_processes(layout) if p not in signalled]
    for pid in stragglers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    pending = signalled + stragglers
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if _alive(p)]
        time.sleep(0.2)
    for pid in pending + [p for p in demo_processes(layout) if _alive(p)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        layout.pid_file.unlink()
    if not quiet and not signalled and not stragglers:
        say("Keine laufende Demo gefunden.")
    return len(signalled) + len(stragglers)


class Processes:
    """The background processes of one demo, recorded in the pid file as they start."""

    def __init__(self, layout: DemoLayout) -> None:
        self.layout = layout
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.argv: dict[str, list[str]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start `argv` in its own process group, output to ``logs/<name>.log``, and record it."""
        with open(self.log(name), "ab") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self.record(name, proc, argv)
        return proc

    def record(self, name: str, proc: subprocess.Popen[bytes], argv: list[str]) -> None:
        """Add a process started elsewhere (e.g. the Prefect server) to the pid file."""
        self.procs[name] = proc
        self.argv[name] = argv
        self._write()

    def log(self, name: str) -> Path:
        return self.layout.logs / f"{name}.log"

    def _write(self) -> None:
        record = {
            "processes": {
                name: {"pid": proc.pid, "argv": self.argv[name], "log": f"logs/{name}.log"}
                for name, proc in self.procs.items()
            },
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        self.layout.pid_file.write_text(json.dumps(record, indent=2))

    def log_tail(self, name: str, lines: int = 25) -> str:
        try:
            text = self.log(name).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def wait_for(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    procs: Processes,
    watch: Sequence[str] = (),
    interval: float = 0.5,
) -> None:
    """Poll `check` until it is true; fail clearly on timeout or when a watched process dies."""
    deadline = time.monotonic() + timeout
    while True:
        for name in watch:
            proc = procs.procs[name]
            if proc.poll() is not None:
                raise DemoError(
                    f"{what}: Prozess '{name}' ist beendet (Code {proc.returncode}). "
                    f"Log var/demo/logs/{name}.log:\n{procs.log_tail(name)}"
                )
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {n}.log\n{procs.log_tail(n)}" for n in watch)
            raise DemoError(f"{what}: nach {timeout:.0f} s nicht bereit.\n{tails}")
        time.sleep(interval)


def check_ports_free(ports: Sequence[tuple[int, str]] = PORTS) -> None:
    """Fail with the taken ports named (and what to do) before anything starts.

    Raises:
        DemoError: One of `ports` (port, what it is for) is in use on 127.0.0.1.
    """
    taken = []
    for port, what in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((HOST, port))
            except OSError:
                taken.append(f"{HOST}:{port} ({what})")
    if taken:
        raise DemoError(
            "Port belegt: "
            + ", ".join(taken)
            + ". Ein anderes Programm nutzt ihn (prüfen mit `ss -ltnp`); beenden Sie es "
            "oder eine ältere Demo mit `make demo-stop`."
        )


def start_sandbox(layout: DemoLayout, procs: Processes, env: dict[str, str]) -> None:
    """Musterstadt (portal, Fachverfahren Steuern, e-Akte) on the demo's ports, until healthy."""
    from sandbox.eakte import EakteConfig
    from sandbox.portal import PortalConfig
    from sandbox.steuer import SteuerConfig

    argv = [sys.executable, "-m", "sandbox", "up", "--data-dir", str(layout.sandbox)]
    argv += ["--portal-port", str(PORTAL_PORT), "--steuer-port", str(STEUER_PORT)]
    argv += ["--eakte-port", str(EAKTE_PORT)]
    argv += ["--mail-port", str(MAIL_PORT), "--smtp-port", str(SMTP_PORT)]
    procs.start("sandbox", argv, env)
    tokens = {
        PORTAL_PORT: PortalConfig().admin_token,
        STEUER_PORT: SteuerConfig().admin_token,
        EAKTE_PORT: EakteConfig().admin_token,
    }

    def healthy() -> bool:
        for port, token in tokens.items():
            r = httpx.get(
                f"http://{HOST}:{port}/admin/faults",
                headers={"Authorization": f"Bearer {token}"},
                timeout=2,
            )
            if r.status_code != 200:
                return False
        return layout.receiver_keys.exists()

    wait_for("Musterstadt (Sandbox)", healthy, START_TIMEOUT, procs, watch=["sandbox"])


def demo_server(layout: DemoLayout) -> PrefectServer:
    """The demo's Prefect server (not started): SQLite under the demo's Prefect home."""
    return PrefectServer(
        layout.prefect_home,
        port=PREFECT_PORT,
        host=HOST,
        log=layout.logs / f"{SERVER}.log",
        start_timeout=START_TIMEOUT,
        stop_timeout=STOP_TIMEOUT,
    )


def start_prefect_server(server: PrefectServer, procs: Processes) -> None:
    """Start `server`, record it in the pid file, and wait until it is healthy.

    Raises:
        DemoError: It did not come up (the message has the end of its log).
    """
    try:
        server.start()
    except PrefectServerError as exc:
        raise DemoError(f"Prefect-Server startet nicht: {exc}") from exc
    assert server.process is not None
    procs.record(SERVER, server.process, server.argv)


def start_worker(procs: Processes, env: dict[str, str]) -> None:
    """A process worker on the demo's pool, until it has registered with the server."""
    from prefect.client.orchestration import get_client

    argv = [PREFECT_BIN, "worker", "start", "--pool", POOL, "--name", WORKER_NAME]
    procs.start("worker", argv, env)

    def registered() -> bool:
        with get_client(sync_client=True) as client:
            return bool(client.read_workers_for_work_pool(POOL))

    wait_for("Prefect-Worker", registered, START_TIMEOUT, procs, watch=["worker"], interval=1)
