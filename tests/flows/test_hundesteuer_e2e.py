"""End to end: portal → flow (real Prefect server, real Chromium) → back office, e-Akte, portal.

Checks what an auditor would: every intact application is received (accepted at the portal)
and becomes a work item; every valid one is in the back office exactly once, archived and
answered with its notice; a technically broken one is rejected at the portal with its reason;
one that breaks a business rule (a wrong IBAN, a missing insurance certificate) is accepted at
the portal, becomes a work item and gets an Ablehnungsbescheid, as does one the back office
refuses; the Klärfall waits in the Prefect UI — its form
showing no personal data — and is finished by the clerk's decision; a rerun changes nothing;
the audit chain verifies.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.flow_runs import resume_flow_run

from amtsbote import verify_trail
from amtsbote.store import WorkItemStore
from flows.engine import BatchParams, reply_id_for
from flows.hundesteuer import hundesteuer
from tests.fixtures.prefect import PrefectServer
from tests.flows._town import BUSINESS_REFUSALS, EXPECTED, seed_batch
from tests.flows.conftest import Musterstadt
from tests.reliability._support import check_exactly_once


def _by_sid(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["submissionId"]: s for s in export["submissions"]}


def _human_run(sid: str) -> Any:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"item:{sid}"]))
        )
    return runs[0] if runs else None


def _wait_state(run_id: UUID, names: set[str], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            if run.state and run.state.name in names:
                return run
            assert time.monotonic() < deadline, f"run stuck in {run.state and run.state.name}"
            time.sleep(1)


def _assert_framework_events_in_run_logs(run_id: UUID | None, seeded: list[Any]) -> None:
    """The bots' and connectors' structlog events reach the Prefect run logs, redacted."""
    from prefect.client.schemas.filters import LogFilter
    from prefect.logging.handlers import APILogWorker

    assert run_id is not None
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id={"any_": [run_id]}), limit=200)
    text = "\n".join(log.message for log in logs)
    assert "steuer.case_created" in text and "reply.mailed" in text
    for s in seeded:
        owner = s.application.data["owner"]
        iban = s.application.data["sepaMandate"]["iban"]
        for value in (owner["familyName"], owner["email"], iban):
            assert len(value) < 5 or value not in text  # (very short names match words)


def _assert_form_has_no_personal_data(run: Any, seeded: list[Any]) -> None:
    """The pause form (description, schema) and the run's parameters name no citizen data."""
    from prefect.input.run_input import keyset_from_paused_state

    with get_client(sync_client=True) as client:
        keyset = keyset_from_paused_state(run.state)
        schema = client.read_flow_run_input(run.id, keyset["schema"])
        description = client.read_flow_run_input(run.id, keyset["description"])
    form = f"{schema}\n{description}"
    assert "Anschrift weicht ab" in form  # says what differs …
    assert "taxpayer-address-differs" not in form and "portal_address" not in form  # … in German
    text = f"{form}\n{run.parameters}"  # parameters: ids and codes only
    for s in seeded:
        owner = s.application.data["owner"]
        for value in (owner["street"], owner["familyName"], owner["postalCode"], owner["city"]):
            assert len(value) < 4 or value not in text, value


def test_batch_end_to_end_exactly_once(
    prefect_server: PrefectServer, musterstadt: Musterstadt, runner: subprocess.Popen[bytes]
) -> None:
    town = musterstadt
    seeded = seed_batch(town, 10, seed=5)
    expected = {s.ref["submissionId"]: EXPECTED[s.label] for s in seeded}

    state = hundesteuer(BatchParams(max_items=50, approval="auto", sessions=1), return_state=True)
    report = state.result(_sync=True)  # the test thread may hold sync Playwright's loop

    outcomes = {row["Vorgang"]: row["Ergebnis"] for row in report["items"]}
    assert outcomes == expected
    check_exactly_once(town, expected).assert_ok()
    store = WorkItemStore.from_settings()
    business = {s.ref["submissionId"] for s in seeded if s.label in BUSINESS_REFUSALS}
    assert business, "the batch holds business refusals"
    for sid, outcome in expected.items():
        item = store.get("hundesteuer", sid)
        technical = _by_sid(town.portal.export())[sid]["state"] == "rejected"
        assert (item is None) == technical, sid  # broken ones never become work items
        if item is not None:
            assert item.state.value == outcome
        if sid in business:  # a letter, never a technical rejection
            assert not technical and item is not None and item.state.value == "rejected", sid
            assert item.error_code, sid
        if outcome == "klaerfall":
            run = _human_run(sid)
            assert run is not None and "klaerfall" in run.tags
    assert report["queue"]["klaerfall"] >= 1
    assert verify_trail(town.audit_path()).ok
    _assert_framework_events_in_run_logs(state.state_details.flow_run_id, seeded)

    # A rerun finds nothing new (the Klärfall is held by its waiting run) and changes nothing.
    before = (town.portal.export()["counts"], len(town.steuer.export()["cases"]))
    again = hundesteuer(BatchParams(max_items=50))
    assert again["total"] == 0
    assert (town.portal.export()["counts"], len(town.steuer.export()["cases"])) == before

    # The clerk decides the Klärfall: a new taxpayer; the waiting run finishes the item.
    (klaerfall_sid,) = [sid for sid, o in expected.items() if o == "klaerfall"]
    run = _human_run(klaerfall_sid)
    paused = _wait_state(run.id, {"Paused", "Suspended"})
    _assert_form_has_no_personal_data(paused, seeded)
    resume_flow_run(
        run.id, run_input={"entscheidung": "neu-anlegen", "begruendung": ""}, _sync=True
    )
    done = _wait_state(run.id, {"Completed", "Failed", "Crashed"})
    assert done.state.name == "Completed"
    sub = _by_sid(town.portal.export())[klaerfall_sid]
    assert sub["state"] == "accepted"
    assert len(town.smtp.by_reply_id()[reply_id_for(klaerfall_sid)]) == 1  # the notice, once
    assert store.get("hundesteuer", klaerfall_sid).state.value == "done"
    assert Counter(c["fremdreferenz"] for c in town.steuer.export()["cases"])[klaerfall_sid] == 1
    result = verify_trail(town.audit_path())
    assert result.ok, str(result)
