"""A Musterstadt of its own for the flow tests, the environment the flows read, and a runner.

The flows are configured only through the environment (as in production); the same variables
go to the runner process that serves the human-task deployments (Klärfall, Freigabe).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from sandbox._common import serve_in_thread
from sandbox.portal import PortalConfig, create_app
from tests.fixtures.eakte import EakteServer, run_eakte
from tests.fixtures.portal import PortalHandle
from tests.fixtures.prefect import PrefectServer
from tests.fixtures.smtp import SmtpServer, run_smtp
from tests.fixtures.steuer import SteuerServer, run_steuer


@dataclass
class Musterstadt:
    portal: PortalHandle
    steuer: SteuerServer
    eakte: EakteServer
    data_dir: Path
    env: dict[str, str]
    smtp: SmtpServer  # the mail system: letters to citizens arrive here

    def audit_path(self) -> Path:
        return self.data_dir / "audit" / "audit.jsonl"


def amtsbote_env(
    portal: PortalHandle,
    steuer: SteuerServer,
    eakte: EakteServer,
    data_dir: Path,
    accounts: list[str],
    smtp: SmtpServer,
) -> dict[str, str]:
    return {
        "AMTSBOTE_MAIL_HOST": smtp.host,
        "AMTSBOTE_MAIL_PORT": str(smtp.port),
        "AMTSBOTE_MAIL_SENDER": "steueramt@musterstadt.example",
        # Letters as DOCX: the PDF conversion (about 1 s per letter) has tests of its own.
        "AMTSBOTE_REPLY_LETTER_FORMAT": "docx",
        "AMTSBOTE_DATA_DIR": str(data_dir),
        "AMTSBOTE_CONSOLE_LOGS": "false",
        "AMTSBOTE_PORTAL_BASE_URL": portal.base_url,
        "AMTSBOTE_PORTAL_DESTINATION_ID": portal.destination_id,
        "AMTSBOTE_PORTAL_CLIENT_ID": portal.receiver.client_id,
        "AMTSBOTE_PORTAL_CLIENT_SECRET": portal.receiver.client_secret,
        "AMTSBOTE_PORTAL_PRIVATE_KEYS_FILE": str(portal.receiver_keys_path),
        "AMTSBOTE_EAKTE_BASE_URL": eakte.base_url,
        "AMTSBOTE_EAKTE_TOKEN": eakte.token,
        "AMTSBOTE_STEUER_BASE_URL": steuer.base_url,
        "AMTSBOTE_HUNDESTEUER_ACCOUNTS": json.dumps({a: steuer.accounts[a] for a in accounts}),
        "AMTSBOTE_HUNDESTEUER_RETRY_DELAYS_S": "[0.5, 1.0]",
    }


@contextlib.contextmanager
def musterstadt_env(tmp: Path, accounts: list[str], **steuer_config: Any) -> Iterator[Musterstadt]:
    config = PortalConfig(data_dir=tmp / "portal", key_size=2048, seed=11)
    with (
        serve_in_thread(create_app(config)) as served,
        run_steuer(tmp / "steuer", **steuer_config) as steuer,
        run_eakte(tmp / "eakte") as eakte,
        run_smtp() as smtp,
    ):
        portal = PortalHandle(served.base_url, config)
        env = amtsbote_env(portal, steuer, eakte, tmp / "amtsbote", accounts, smtp)
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield Musterstadt(portal, steuer, eakte, tmp / "amtsbote", env, smtp)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.fixture(scope="module")
def musterstadt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Musterstadt]:
    with musterstadt_env(tmp_path_factory.mktemp("musterstadt"), ["bot1", "bot2"]) as town:
        yield town


@contextlib.contextmanager
def flow_runner(
    prefect_server: PrefectServer, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m flows.serve`` with the town's environment, until the block ends."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.serve"],
            env=prefect_server.environ(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        with get_client(sync_client=True) as client:
            while True:
                try:
                    client.read_deployment_by_name("hundesteuer-klaerfall/hundesteuer-klaerfall")
                    client.read_deployment_by_name("hundesteuer-freigabe/hundesteuer-freigabe")
                    break
                except Exception:  # noqa: BLE001 - not registered yet
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log.read_text()[-3000:]) from None
                    time.sleep(0.5)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def runner(
    prefect_server: PrefectServer,
    musterstadt: Musterstadt,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path_factory.mktemp("runner") / "runner.log"
    with flow_runner(prefect_server, musterstadt.env, log) as proc:
        yield proc
