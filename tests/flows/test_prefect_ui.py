"""The Prefect UI as a process owner and an auditor see it, in a real browser.

One hundesteuer run goes through the deployment (served by the runner, as in production by a
worker) on a small Musterstadt; then Chromium opens the UI the same Prefect server serves:
the deployment's run form must show the German fields of `BatchParams`, and the run's
summary artifact must list every filed application with its outcome.
"""

from __future__ import annotations

import random
import re
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.deployments import run_deployment

from sandbox.seed import generate_applications, seed_portal
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt

UI_TIMEOUT = 30_000  # ms; the UI is a single-page app that loads its data after the shell

#: what the flow must do with each kind the seeder makes (only these kinds are filed here)
EXPECTED = {"valid": "done", "invalid-iban": "rejected", "future-birth-date": "rejected"}

#: the form fields a process owner fills in (titles of BatchParams)
FORM_FIELDS = (
    "Höchstzahl Anträge",
    "Freigabe der Bescheide",
    "Probelauf",
    "Parallele Bot-Sitzungen",
)


@dataclass
class DeployedRun:
    deployment_id: str
    run_id: str
    run_name: str
    expected: dict[str, str]  # submission id -> outcome


def _seed(town: Musterstadt) -> dict[str, str]:
    rng = random.Random(17)
    apps = [a for a in generate_applications(4, bad_share=0.5, rng=rng) if a.label in EXPECTED]
    seeded = seed_portal(
        town.portal.base_url,
        len(apps),
        applications=apps,
        client_id=town.portal.sender.client_id,
        client_secret=town.portal.sender.client_secret,
        destination_id=town.portal.destination_id,
    )
    return {s.ref["submissionId"]: EXPECTED[s.label] for s in seeded}


@pytest.fixture(scope="module")
def deployed_run(
    prefect_server: PrefectServer, musterstadt: Musterstadt, runner: subprocess.Popen[bytes]
) -> DeployedRun:
    expected = _seed(musterstadt)
    assert "done" in expected.values() and "rejected" in expected.values()
    params: dict[str, Any] = {"max_items": 10, "approval": "auto", "dry_run": False, "sessions": 1}
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("hundesteuer/hundesteuer")
        # Defaults as prefect.yaml gives them in production; the run form starts from them.
        client.update_deployment(deployment.id, DeploymentUpdate(parameters={"params": params}))
    # _sync: Playwright's sync API keeps an event loop in this thread; this call must block.
    run = run_deployment("hundesteuer/hundesteuer", timeout=300, poll_interval=1, _sync=True)
    assert run.state is not None and run.state.is_completed(), run.state
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run.id)  # the engine named it (flow_run_name)
    return DeployedRun(str(deployment.id), str(run.id), run.name, expected)


def _open_deployment(page: Page, server: PrefectServer, deployed: DeployedRun) -> None:
    page.goto(f"{server.ui_url}/deployments")
    # Each row links the deployment's name first, then its flow's (both "hundesteuer").
    page.get_by_role("link", name="hundesteuer", exact=True).first.click()
    expect(page).to_have_url(
        re.compile(f"/deployments/deployment/{deployed.deployment_id}"), timeout=UI_TIMEOUT
    )


def test_process_owner_sees_the_german_run_form(
    page: Page, prefect_server: PrefectServer, deployed_run: DeployedRun
) -> None:
    _open_deployment(page, prefect_server, deployed_run)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("link", name="Custom run").click()
    expect(page).to_have_url(re.compile(r"/run(\?|$)"), timeout=UI_TIMEOUT)
    for title in FORM_FIELDS:
        expect(page.get_by_text(re.compile(rf"^{title}"))).to_be_visible(timeout=UI_TIMEOUT)
    expect(page.get_by_text("Höchstens so viele wie Lizenzen.")).to_be_visible()


def test_auditor_sees_the_summary_of_the_last_run(
    page: Page, prefect_server: PrefectServer, deployed_run: DeployedRun
) -> None:
    _open_deployment(page, prefect_server, deployed_run)
    page.get_by_role("tablist").get_by_text("Runs", exact=True).click()
    page.get_by_role("link", name=deployed_run.run_name, exact=True).first.click()
    expect(page).to_have_url(
        re.compile(f"/runs/flow-run/{deployed_run.run_id}"), timeout=UI_TIMEOUT
    )
    expect(page.get_by_text("Completed", exact=True).first).to_be_visible(timeout=UI_TIMEOUT)

    page.get_by_role("tablist").get_by_text("Artifacts", exact=True).click()
    page.get_by_text("hundesteuer-summary", exact=True).first.click()
    expect(page).to_have_url(re.compile("/artifacts/artifact/"), timeout=UI_TIMEOUT)
    counts = {o: list(deployed_run.expected.values()).count(o) for o in ("done", "rejected")}
    heading = page.get_by_role(
        "heading", name=f"Hundesteuer: {len(deployed_run.expected)} Vorgänge"
    )
    expect(heading).to_be_visible(timeout=UI_TIMEOUT)
    for outcome, n in counts.items():
        expect(page.get_by_role("listitem").filter(has_text=outcome)).to_have_text(
            f"{outcome}: {n}"
        )

    table = page.get_by_role("table")
    for header in ("Vorgang", "Ergebnis", "Aktenzeichen", "Fehlercode"):
        expect(table.get_by_role("columnheader", name=header)).to_be_visible(timeout=UI_TIMEOUT)
    for sid, outcome in deployed_run.expected.items():
        row = table.get_by_role("row").filter(has_text=sid)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(outcome)
        if outcome == "done":
            expect(row).to_contain_text(re.compile(r"HSt-\d{4}-\d{6}"))
