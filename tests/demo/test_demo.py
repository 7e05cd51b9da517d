"""The demo's own plumbing: stopping what it started (and only that), clear port errors, counting.

The full ``make demo`` takes minutes and fixed ports, so it is run by hand; these tests cover
the parts that decide whether a second ``make demo`` or ``make demo-stop`` is safe.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from demo import DemoError, DemoLayout, _report, free_port, stop_demo
from demo._processes import _same_command, check_ports_free, demo_server

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _start(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, start_new_session=True, env=env)


def _write_pids(
    layout: DemoLayout, procs: dict[str, tuple[subprocess.Popen[bytes], list[str]]]
) -> None:
    layout.base.mkdir(parents=True, exist_ok=True)
    record = {"processes": {n: {"pid": p.pid, "argv": a} for n, (p, a) in procs.items()}}
    layout.pid_file.write_text(json.dumps(record))


def _gone(proc: subprocess.Popen[bytes], timeout: float = 10) -> bool:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_stop_ends_the_recorded_groups_and_marked_stragglers(tmp_path: Path) -> None:
    layout = DemoLayout(tmp_path / "demo")
    recorded = _start(SLEEPER)
    marked_env = {**os.environ, "PREFECT_HOME": str(layout.prefect_home)}
    straggler = _start(SLEEPER, env=marked_env)  # e.g. a flow run a worker started on its own
    bystander = _start(SLEEPER)  # not ours: neither recorded nor marked
    try:
        time.sleep(0.3)  # let the children exec, so /proc shows their command lines
        _write_pids(layout, {"sandbox": (recorded, SLEEPER)})
        assert stop_demo(layout, quiet=True) == 2
        assert _gone(recorded) and _gone(straggler)
        assert bystander.poll() is None
        assert not layout.pid_file.exists()
    finally:
        for p in (recorded, straggler, bystander):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_stop_leaves_a_reused_pid_alone(tmp_path: Path) -> None:
    layout = DemoLayout(tmp_path / "demo")
    other = _start(SLEEPER)
    try:
        time.sleep(0.3)
        # The pid file names this pid, but for another command: the pid was reused.
        _write_pids(layout, {"worker": (other, ["prefect", "worker", "start"])})
        assert stop_demo(layout, quiet=True) == 0
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_same_command_matches_scripts_run_by_their_interpreter() -> None:
    argv = ["/venv/bin/prefect", "server", "start", "--port", "4200"]
    cmdline = ["/venv/bin/python3", "/venv/bin/prefect", "server", "start", "--port", "4200"]
    assert _same_command(cmdline, argv)
    assert _same_command(argv, argv)
    assert not _same_command(cmdline[:-1] + ["4201"], argv)
    assert not _same_command(["/usr/bin/sleep", "server", "start", "--port", "4200"], argv)
    assert not _same_command([], argv)


def test_a_taken_port_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(DemoError, match=rf"127\.0\.0\.1:{port} \(Prefect-Server\)") as err:
            check_ports_free([(free_port(), "e-Akte"), (port, "Prefect-Server")])
    assert "e-Akte" not in str(err.value)  # only the taken one is named


def test_the_demo_server_is_marked_for_stop(tmp_path: Path) -> None:
    layout = DemoLayout(tmp_path / "demo")
    server = demo_server(layout)
    assert server.ui_url == "http://127.0.0.1:4200"
    assert server.log == layout.logs / "prefect-server.log"
    assert server.env["PREFECT_API_DATABASE_CONNECTION_URL"].endswith(
        f"{layout.prefect_home}/prefect.db"
    )
    # What `stop_demo` looks for in the environment of every process the demo started.
    assert server.env["PREFECT_HOME"] == str(layout.prefect_home)
    assert server.process is None  # built, not started


def test_count_outcomes_of_a_completed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.schemas.objects import FlowRun
    from prefect.states import Completed, Failed

    results = ["done"] * 3 + ["rejected", "klaerfall", "failed"]
    rows = [{"Ergebnis": r} for r in results]
    monkeypatch.setattr(_report, "_summary_rows", lambda run_id: rows)
    counts = _report.count_outcomes(FlowRun(flow_id=uuid.uuid4(), state=Completed()))
    assert counts is not None
    assert counts.rows == [
        ("Anträge gesamt", "6"),
        ("verarbeitet (Bescheid)", "3"),
        ("abgelehnt", "1"),
        ("Klärfall", "1"),
        ("sonstige", "{'failed': 1}"),
    ]
    assert counts.klaerfall == 1
    assert _report.count_outcomes(FlowRun(flow_id=uuid.uuid4(), state=Failed())) is None
