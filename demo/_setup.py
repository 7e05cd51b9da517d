"""Prefect setup for the demo, as an admin does it: work pool, seats limit, ``prefect deploy``.

The first block is the one place in the demo that names the process it runs — its flow,
deployment, parameters, summary artifact and settings. When the process changes, this block
changes; the supervision, seeding and report code does not.

Prefect is imported inside the functions: the demo points the environment at its own server
before Prefect reads its settings (at import).
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any, cast

from demo._common import (
    DEPLOY_TIMEOUT,
    EAKTE_PORT,
    HOST,
    PORTAL_PORT,
    ROOT,
    RUN_TIMEOUT,
    SMTP_PORT,
    STEUER_PORT,
    DemoError,
    DemoLayout,
)
from demo._prefect_server import PREFECT_BIN

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

# --------------------------------------------------------------------------- what runs
#: The flow the demo runs once, and its deployment (``deployments/prefect.yaml``).
FLOW = "hundesteuer"
DEPLOYMENT = f"{FLOW}/hundesteuer"
#: Every waiting application, notices without a Freigabe, two bot sessions.
RUN_PARAMETERS: dict[str, Any] = {
    "params": {"max_items": 50, "approval": "auto", "dry_run": False, "sessions": 2}
}
#: The run's table artifact: one row per application, its outcome in column ``Ergebnis``.
SUMMARY_ARTIFACT = f"{FLOW}-summary"
RESULT_COLUMN = "Ergebnis"
#: Tag of the flow runs that wait for a clerk's decision.
KLAERFALL_TAG = "klaerfall"
#: The settings (environment) the process reads: bot accounts and the seats limit's name.
ACCOUNTS_SETTING = "AMTSBOTE_HUNDESTEUER_ACCOUNTS"
SEAT_LIMIT_SETTING = "AMTSBOTE_HUNDESTEUER_SEAT_LIMIT"
# ---------------------------------------------------------------------------

POOL = "amtsbote-process"  # as in deployments/prefect.yaml
WORKER_NAME = "demo-worker"
SEAT_LIMIT = "fachverfahren-steuern-seats"
SEATS = 4
BOT_ACCOUNTS = ("bot1", "bot2", "bot3", "bot4")


def amtsbote_env(layout: DemoLayout) -> dict[str, str]:
    """What the worker's flow runs read (as in production: only the environment)."""
    from sandbox.eakte import EakteConfig
    from sandbox.portal import PortalConfig
    from sandbox.steuer import SteuerConfig

    portal, steuer, eakte = PortalConfig(), SteuerConfig(), EakteConfig()
    return {
        "AMTSBOTE_HOME": str(ROOT),
        "AMTSBOTE_DATA_DIR": str(layout.data_dir),
        "AMTSBOTE_CONSOLE_LOGS": "false",
        # Musterstadt's mail system: letters reach the citizens' mailboxes (webmail)
        "AMTSBOTE_MAIL_HOST": HOST,
        "AMTSBOTE_MAIL_PORT": str(SMTP_PORT),
        "AMTSBOTE_MAIL_SENDER": "steueramt@musterstadt.example",
        "AMTSBOTE_PORTAL_BASE_URL": f"http://{HOST}:{PORTAL_PORT}",
        "AMTSBOTE_PORTAL_DESTINATION_ID": portal.destination_id,
        "AMTSBOTE_PORTAL_CLIENT_ID": portal.receiver_client_id,
        "AMTSBOTE_PORTAL_CLIENT_SECRET": portal.receiver_client_secret,
        "AMTSBOTE_PORTAL_PRIVATE_KEYS_FILE": str(layout.receiver_keys),
        "AMTSBOTE_EAKTE_BASE_URL": f"http://{HOST}:{EAKTE_PORT}",
        "AMTSBOTE_EAKTE_TOKEN": eakte.token,
        "AMTSBOTE_STEUER_BASE_URL": f"http://{HOST}:{STEUER_PORT}",
        ACCOUNTS_SETTING: json.dumps(
            {a: steuer.accounts[a] for a in BOT_ACCOUNTS if a in steuer.accounts}
        ),
        SEAT_LIMIT_SETTING: SEAT_LIMIT,
    }


def create_pool_and_seats() -> None:
    """The process work pool and the back office's seats limit (= ``prefect work-pool create``,
    ``prefect gcl create``)."""
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


def deploy(layout: DemoLayout, env: dict[str, str]) -> None:
    """``prefect deploy --all`` from ``deployments/prefect.yaml``; its output goes to a log.

    Raises:
        DemoError: The command failed or took longer than ``DEPLOY_TIMEOUT``.
    """
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


def run_once() -> FlowRun:
    """Start the deployment once on the worker and wait until the run has ended."""
    from prefect.deployments import run_deployment

    run = run_deployment(
        DEPLOYMENT,
        parameters=RUN_PARAMETERS,
        timeout=RUN_TIMEOUT,
        poll_interval=2,
        tags=["demo"],
    )
    return cast("FlowRun", run)  # called outside an event loop, it returns the run itself
