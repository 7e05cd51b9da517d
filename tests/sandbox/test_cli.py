"""``python -m sandbox``: ``seed`` against a running portal, ``up`` as a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.portal import PortalHandle

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}


def test_seed_command_files_applications(portal: PortalHandle) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "seed", "--count", "5", "--bad-share", "0.4"]
        + ["--portal", portal.base_url, "--seed", "11", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=_env(),
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5
    assert sum(1 for line in lines if line["label"] != "valid") == 2
    assert "5 Anträge eingereicht" in result.stderr
    states = {s["submissionId"]: s["state"] for s in portal.export()["submissions"]}
    assert all(states[line["submissionId"]] == "submitted" for line in lines)


def test_up_serves_until_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "up", "--data-dir", str(tmp_path)]
        + ["--portal-port", "0", "--steuer-port", "0", "--eakte-port", "0", "--key-size", "2048"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        out: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if line.startswith("Beenden"):
                break
        text = "".join(out)
        match = re.search(r"portal\s+(http://127\.0\.0\.1:\d+)", text)
        assert match, text
        assert "sender_client_secret" in text and "receiver-keys.json" in text
        assert httpx.get(match.group(1) + "/hundesteuer").status_code == 200
        assert (tmp_path / "portal" / "receiver-keys.json").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert "Musterstadt beendet" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
