"""Musterstadt for the benchmark, in a process of its own.

Why a separate process: the sandbox apps are Python servers; in the benchmark's process they
would compete for its interpreter lock with the variants being measured. The process prints one
JSON line (URLs, demo credentials) and serves until its stdin closes.

    python -m bench._town <data_dir>
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Town", "start_town"]


@dataclass
class Town:
    """What the benchmark needs to know of the running sandbox."""

    info: dict[str, Any]
    pid: int

    @property
    def steuer_url(self) -> str:
        return str(self.info["steuer"]["url"])

    @property
    def accounts(self) -> dict[str, str]:
        return dict(self.info["steuer"]["accounts"])

    def env(self, data_dir: Path, accounts: list[str]) -> dict[str, str]:
        """The ``AMTSBOTE_*`` environment the flow reads (as in production: env only)."""
        p, e, s = self.info["portal"], self.info["eakte"], self.info["steuer"]
        return {
            "AMTSBOTE_DATA_DIR": str(data_dir),
            "AMTSBOTE_CONSOLE_LOGS": "false",
            # no mail system in Musterstadt yet: letters go to the print-and-post outbox
            "AMTSBOTE_REPLY_CHANNELS": "[]",
            "AMTSBOTE_REPLY_LETTER_FORMAT": "docx",  # the bench measures the bot, not LibreOffice
            "AMTSBOTE_PORTAL_BASE_URL": p["url"],
            "AMTSBOTE_PORTAL_DESTINATION_ID": p["destination_id"],
            "AMTSBOTE_PORTAL_CLIENT_ID": p["receiver_id"],
            "AMTSBOTE_PORTAL_CLIENT_SECRET": p["receiver_secret"],
            "AMTSBOTE_PORTAL_PRIVATE_KEYS_FILE": p["receiver_keys"],
            "AMTSBOTE_EAKTE_BASE_URL": e["url"],
            "AMTSBOTE_EAKTE_TOKEN": e["token"],
            "AMTSBOTE_STEUER_BASE_URL": s["url"],
            "AMTSBOTE_HUNDESTEUER_ACCOUNTS": json.dumps({a: s["accounts"][a] for a in accounts}),
            "AMTSBOTE_HUNDESTEUER_RETRY_DELAYS_S": "[0.5, 1.0]",
        }


@contextlib.contextmanager
def start_town(data_dir: Path) -> Iterator[Town]:
    """Start the sandbox process; stop it when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._town", str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("sandbox process did not start")
        yield Town(json.loads(line), proc.pid)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(data_dir: Path) -> None:
    from sandbox._common import serve_in_thread
    from sandbox.eakte import EakteConfig
    from sandbox.eakte import create_app as eakte_app
    from sandbox.portal import PortalConfig
    from sandbox.portal import create_app as portal_app
    from sandbox.steuer import SteuerConfig
    from sandbox.steuer import create_app as steuer_app

    portal = PortalConfig(data_dir=data_dir / "portal", key_size=2048, seed=3)
    # Faults off; sessions outlive the benchmark (the baselines log in once, like a script).
    steuer = SteuerConfig(data_dir=data_dir / "steuer", session_lifetime_s=86_400)
    eakte = EakteConfig(data_dir=data_dir / "eakte")
    with (
        serve_in_thread(portal_app(portal)) as p,
        serve_in_thread(steuer_app(steuer)) as s,
        serve_in_thread(eakte_app(eakte)) as e,
    ):
        info = {
            "portal": {
                "url": p.base_url,
                "destination_id": portal.destination_id,
                "admin_token": portal.admin_token,
                "sender_id": portal.sender_client_id,
                "sender_secret": portal.sender_client_secret,
                "receiver_id": portal.receiver_client_id,
                "receiver_secret": portal.receiver_client_secret,
                "receiver_keys": str(portal.data_dir / "receiver-keys.json"),
            },
            "steuer": {
                "url": s.base_url,
                "admin_token": steuer.admin_token,
                "accounts": dict(steuer.accounts),
            },
            "eakte": {"url": e.base_url, "token": eakte.token, "admin_token": eakte.admin_token},
        }
        print(json.dumps(info), flush=True)
        sys.stdin.read()  # serve until the benchmark closes our stdin


if __name__ == "__main__":
    _serve(Path(sys.argv[1]))
