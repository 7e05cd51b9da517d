"""``make demo``: Musterstadt, a Prefect server and a worker on this machine, and one real run.

Why a script and not a page of instructions: the demo is the first thing anyone tries, on a
fresh machine, and it must show the whole walk (portal → bot → back office → notice → e-Akte →
reply, a Klärfall waiting for a clerk, a verifiable audit trail) with one command. It runs the
same pieces production uses — ``prefect deploy`` from ``deployments/prefect.yaml``, a process
work pool with a worker, the seats concurrency limit — only all on 127.0.0.1.

    python -m flows.demo          stop an earlier demo, start fresh, run hundesteuer once
    python -m flows.demo stop     stop the demo (the process groups in var/demo/demo.json)

Everything lives under ``var/demo/`` (sandbox data, Prefect home with its SQLite database, the
Amtsbote data dir, logs). Sandbox, Prefect server and worker keep running after the run, so the
Klärfall can be decided in the Prefect UI; ``make demo-stop`` ends them. Wiring the sandbox to
the framework is allowed here (and in tests and benchmarks) only.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["DemoError", "DemoLayout", "main", "stop_demo"]

ROOT = Path(__file__).resolve().parents[1]
PREFECT_BIN = str(Path(sys.executable).with_name("prefect"))
HOST = "127.0.0.1"
PORTAL_PORT, STEUER_PORT, EAKTE_PORT, PREFECT_PORT = 8401, 8402, 8403, 4200
PREFECT_URL = f"http://{HOST}:{PREFECT_PORT}"
PREFECT_API = f"{PREFECT_URL}/api"
POOL = "amtsbote-process"
SEAT_LIMIT = "fachverfahren-steuern-seats"
SEATS = 4
BOT_ACCOUNTS = ("bot1", "bot2", "bot3", "bot4")
APPLICATIONS = 24  # plus one Klärfall = 25
BAD_SHARE = 0.25
SEED = 2026

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


def _say(text: str = "") -> None:
    print(text, flush=True)


@contextlib.contextmanager
def _step(text: str) -> Iterator[None]:
    """Print a step and, when it is done, how long it took."""
    began = time.monotonic()
    print(f"{text} …", end="", flush=True)
    try:
        yield
    except BaseException:
        print(flush=True)
        raise
    print(f" {time.monotonic() - began:.0f} s", flush=True)


# --------------------------------------------------------------------------- processes


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


def _demo_processes(layout: DemoLayout) -> list[int]:
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
                _say(f"  beende {name} (Prozessgruppe {pid})")
    stragglers = [p for p in _demo_processes(layout) if p not in signalled]
    for pid in stragglers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    pending = signalled + stragglers
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if _alive(p)]
        time.sleep(0.2)
    for pid in pending + [p for p in _demo_processes(layout) if _alive(p)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        layout.pid_file.unlink()
    if not quiet and not signalled and not stragglers:
        _say("Keine laufende Demo gefunden.")
    return len(signalled) + len(stragglers)


class _Processes:
    """The background processes of one demo, recorded in the pid file as they start."""

    def __init__(self, layout: DemoLayout) -> None:
        self.layout = layout
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.argv: dict[str, list[str]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.layout.logs / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self.procs[name] = proc
        self.argv[name] = argv
        self._write()
        return proc

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
        path = self.layout.logs / f"{name}.log"
        try:
            text = path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def _wait_for(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    procs: _Processes,
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


def _check_ports_free() -> None:
    taken = []
    for port, what in (
        (PORTAL_PORT, "Serviceportal"),
        (STEUER_PORT, "Fachverfahren Steuern"),
        (EAKTE_PORT, "e-Akte"),
        (PREFECT_PORT, "Prefect-Server"),
    ):
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


# --------------------------------------------------------------------------- environment


def _prefect_env(layout: DemoLayout) -> dict[str, str]:
    home = layout.prefect_home
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": PREFECT_API,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    }


def _amtsbote_env(layout: DemoLayout) -> dict[str, str]:
    """What the worker's flow runs read (as in production: only the environment)."""
    from sandbox.eakte import EakteConfig
    from sandbox.portal import PortalConfig
    from sandbox.steuer import SteuerConfig

    portal, steuer, eakte = PortalConfig(), SteuerConfig(), EakteConfig()
    return {
        "AMTSBOTE_HOME": str(ROOT),
        "AMTSBOTE_DATA_DIR": str(layout.data_dir),
        "AMTSBOTE_CONSOLE_LOGS": "false",
        "AMTSBOTE_PORTAL_BASE_URL": f"http://{HOST}:{PORTAL_PORT}",
        "AMTSBOTE_PORTAL_DESTINATION_ID": portal.destination_id,
        "AMTSBOTE_PORTAL_CLIENT_ID": portal.receiver_client_id,
        "AMTSBOTE_PORTAL_CLIENT_SECRET": portal.receiver_client_secret,
        "AMTSBOTE_PORTAL_PRIVATE_KEYS_FILE": str(layout.receiver_keys),
        "AMTSBOTE_EAKTE_BASE_URL": f"http://{HOST}:{EAKTE_PORT}",
        "AMTSBOTE_EAKTE_TOKEN": eakte.token,
        "AMTSBOTE_STEUER_BASE_URL": f"http://{HOST}:{STEUER_PORT}",
        "AMTSBOTE_HUNDESTEUER_ACCOUNTS": json.dumps(
            {a: steuer.accounts[a] for a in BOT_ACCOUNTS if a in steuer.accounts}
        ),
        "AMTSBOTE_HUNDESTEUER_SEAT_LIMIT": SEAT_LIMIT,
    }


# --------------------------------------------------------------------------- steps


def _start_sandbox(layout: DemoLayout, procs: _Processes, base_env: dict[str, str]) -> None:
    from sandbox.eakte import EakteConfig
    from sandbox.portal import PortalConfig
    from sandbox.steuer import SteuerConfig

    argv = [sys.executable, "-m", "sandbox", "up", "--data-dir", str(layout.sandbox)]
    argv += ["--portal-port", str(PORTAL_PORT), "--steuer-port", str(STEUER_PORT)]
    argv += ["--eakte-port", str(EAKTE_PORT)]
    procs.start("sandbox", argv, base_env)
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

    _wait_for("Musterstadt (Sandbox)", healthy, START_TIMEOUT, procs, watch=["sandbox"])


def _start_prefect_server(procs: _Processes, env: dict[str, str]) -> None:
    argv = [PREFECT_BIN, "server", "start", "--host", HOST, "--port", str(PREFECT_PORT)]
    procs.start("prefect-server", argv, env)

    def healthy() -> bool:
        return httpx.get(f"{PREFECT_API}/health", timeout=2).status_code == 200

    _wait_for("Prefect-Server", healthy, START_TIMEOUT, procs, watch=["prefect-server"])


def _moved_owner(app: Any, rng: random.Random) -> Any:
    """A second dog of an owner already filed, with another address: the back office's data
    does not match, so a clerk decides (a Klärfall)."""
    from sandbox.seed import GeneratedApplication

    data: dict[str, Any] = copy.deepcopy(app.data)
    data["owner"]["street"] = "Am Neuen Weg"
    data["owner"]["houseNumber"] = str(rng.randint(1, 99))
    data["dog"]["name"] = "Zweithund"
    data["dog"]["chipNumber"] = "276" + "".join(rng.choice("0123456789") for _ in range(12))
    data["dog"]["breed"] = "DACK"
    return GeneratedApplication(data, [], "moved-owner")


def _seed() -> Counter[str]:
    from sandbox.seed import generate_applications, seed_portal

    rng = random.Random(SEED)
    apps = generate_applications(APPLICATIONS, bad_share=BAD_SHARE, rng=rng)
    first_valid = next(a for a in apps if a.label == "valid")
    apps.append(_moved_owner(first_valid, rng))
    seeded = seed_portal(f"http://{HOST}:{PORTAL_PORT}", len(apps), applications=apps)
    return Counter(item.label for item in seeded)


def _create_pool_and_seats() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(
                name=POOL,
                type="process",
                base_job_template=ProcessWorker.get_default_base_job_template(),
            ),
            overwrite=True,
        )
        client.upsert_global_concurrency_limit_by_name(SEAT_LIMIT, SEATS)


def _deploy(layout: DemoLayout, env: dict[str, str]) -> None:
    argv = [PREFECT_BIN, "--no-prompt", "deploy", "--all"]
    argv += ["--prefect-file", "deployments/prefect.yaml"]
    log = layout.logs / "deploy.log"
    with open(log, "wb") as out:
        try:
            result = subprocess.run(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=DEPLOY_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DemoError(f"prefect deploy: nach {DEPLOY_TIMEOUT} s nicht fertig") from exc
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise DemoError(f"prefect deploy ist fehlgeschlagen (Code {result.returncode}):\n{tail}")


def _start_worker(procs: _Processes, env: dict[str, str]) -> None:
    from prefect.client.orchestration import get_client

    argv = [PREFECT_BIN, "worker", "start", "--pool", POOL, "--name", "demo-worker"]
    procs.start("worker", argv, env)

    def registered() -> bool:
        with get_client(sync_client=True) as client:
            return bool(client.read_workers_for_work_pool(POOL))

    _wait_for("Prefect-Worker", registered, START_TIMEOUT, procs, watch=["worker"], interval=1)


def _run_hundesteuer() -> Any:
    from prefect.deployments import run_deployment

    params = {"max_items": 50, "approval": "auto", "dry_run": False, "sessions": 2}
    return run_deployment(
        "hundesteuer/hundesteuer",
        parameters={"params": params},
        timeout=RUN_TIMEOUT,
        poll_interval=2,
        tags=["demo"],
    )


def _summary_rows(run_id: Any) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                key=ArtifactFilterKey(any_=["hundesteuer-summary"]),
            )
        )
    if not artifacts:
        return []
    data = artifacts[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    return list(rows or [])


def _klaerfall_runs() -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["klaerfall"]))
            )
        )


def _wait_klaerfall_paused(expected: int, timeout: float = 90) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        runs = _klaerfall_runs()
        paused = [r for r in runs if r.state and r.state.name in {"Paused", "Suspended"}]
        if len(paused) >= expected or time.monotonic() > deadline:
            return runs
        time.sleep(2)


def _audit_verify(env: dict[str, str]) -> tuple[bool, str]:
    result = subprocess.run(
        [sys.executable, "-m", "flows", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- main


def up(layout: DemoLayout) -> int:
    """Stop an earlier demo, start everything fresh, run hundesteuer once and report.

    Returns:
        0 when the run completed, 1 otherwise (the services keep running for a look).
    """
    started = time.monotonic()
    if layout.pid_file.exists() or _demo_processes(layout):
        _say("Beende die laufende Demo …")
        stop_demo(layout, quiet=True)
    _check_ports_free()
    if layout.base.exists():
        shutil.rmtree(layout.base)
    for d in (layout.logs, layout.sandbox, layout.prefect_home, layout.data_dir):
        d.mkdir(parents=True, exist_ok=True)

    prefect_env = _prefect_env(layout)
    # This process talks to the demo server too; Prefect reads its settings at import.
    os.environ.update(prefect_env)
    os.environ["AMTSBOTE_HOME"] = str(ROOT)
    base_env = {**os.environ}
    amtsbote_env = _amtsbote_env(layout)
    procs = _Processes(layout)
    try:
        with _step("1/6 Musterstadt starten (Portal, Fachverfahren Steuern, e-Akte)"):
            _start_sandbox(layout, procs, base_env)
        with _step(f"2/6 Prefect-Server starten ({PREFECT_URL})"):
            _start_prefect_server(procs, base_env)
        with _step(f"3/6 {APPLICATIONS + 1} Hundesteuer-Anträge einreichen"):
            labels = _seed()
        _say("    " + ", ".join(f"{k}: {v}" for k, v in sorted(labels.items())))
        with _step(
            f"4/6 Work-Pool '{POOL}', Sitzplatz-Limit '{SEAT_LIMIT}' ({SEATS}), Deployments"
        ):
            _create_pool_and_seats()
            _deploy(layout, {**base_env, **amtsbote_env})
        with _step("5/6 Worker starten"):
            _start_worker(procs, {**base_env, **amtsbote_env, "PREFECT_WORKER_QUERY_SECONDS": "3"})
    except BaseException:
        _say("Start fehlgeschlagen; beende die gestarteten Dienste …")
        stop_demo(layout, quiet=True)
        raise

    with _step("6/6 Lauf 'hundesteuer' mit Freigabe=auto, bis zum Ende"):
        run = _run_hundesteuer()
    state = run.state.name if run.state else "unbekannt"
    completed = bool(run.state and run.state.is_completed())
    rows = _summary_rows(run.id) if completed else []
    counts = Counter(str(r.get("Ergebnis")) for r in rows)
    klaerfall = _wait_klaerfall_paused(counts.get("klaerfall", 0)) if completed else []
    ok_audit, audit_text = _audit_verify({**base_env, **amtsbote_env})
    steuer_login = _clerk_login()
    elapsed = time.monotonic() - started

    _say()
    _say(f"Lauf {run.name}: {state}")
    if completed:
        _say(f"  Anträge gesamt:        {len(rows)}")
        _say(f"  verarbeitet (Bescheid): {counts.get('accepted', 0)}")
        _say(f"  abgelehnt:             {counts.get('rejected', 0)}")
        _say(f"  Klärfall:              {counts.get('klaerfall', 0)}")
        others = {k: v for k, v in counts.items() if k not in {"accepted", "rejected", "klaerfall"}}
        if others:
            _say(f"  sonstige:              {dict(others)}")
    elif run.state and run.state.message:
        _say(f"  {run.state.message}")
    _say()
    _say(f"Prefect-UI:          {PREFECT_URL}")
    _say(f"  dieser Lauf:       {PREFECT_URL}/runs/flow-run/{run.id}")
    for r in klaerfall:
        st = r.state.name if r.state else "?"
        _say(f"  Klärfall ({st}): {PREFECT_URL}/runs/flow-run/{r.id}")
    _say(f"Fachverfahren:       http://{HOST}:{STEUER_PORT}/login  ({steuer_login})")
    _say(f"Serviceportal:       http://{HOST}:{PORTAL_PORT}/hundesteuer  (Bürgerformular)")
    _say(f"e-Akte (API):        http://{HOST}:{EAKTE_PORT}")
    _say(f"Belege (Evidence):   {_rel(layout.data_dir / 'evidence')}")
    _say(f"Audit-Trail:         {_rel(layout.data_dir / 'audit' / 'audit.jsonl')}")
    _say(f"amtsbote audit verify: {audit_text}")
    _say(f"Logs:                {_rel(layout.logs)}")
    _say()
    _say(f"Fertig nach {elapsed:.0f} s. Portal, Fachverfahren, e-Akte, Prefect-Server und Worker")
    _say("laufen weiter (der Klärfall wartet in der UI). Beenden mit: make demo-stop")
    return 0 if completed and ok_audit else 1


def _clerk_login() -> str:
    from sandbox.steuer import SteuerConfig

    accounts = SteuerConfig().accounts
    user = "sachbearbeiter" if "sachbearbeiter" in accounts else next(iter(accounts))
    return f"Benutzer {user}, Passwort {accounts[user]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m flows.demo [up|stop]``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m flows.demo", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("up", "stop"), default="up")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "demo", help="demo state")
    args = parser.parse_args(argv)
    layout = DemoLayout(args.dir.resolve())
    if args.command == "stop":
        stop_demo(layout)
        return 0
    try:
        return up(layout)
    except DemoError as exc:
        print(f"Demo fehlgeschlagen: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
