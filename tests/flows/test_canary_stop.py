"""A changed back office stops the run before any data is touched, naming the missing field."""

from __future__ import annotations

import json

import pytest

from amtsbote.store import ItemState, WorkItemStore
from flows.engine import BatchParams, CanaryFailed
from flows.hundesteuer import hundesteuer
from tests.fixtures.prefect import PrefectServer
from tests.flows._town import seed_batch
from tests.flows.conftest import Musterstadt


def test_renamed_field_stops_the_run_untouched(
    prefect_server: PrefectServer, musterstadt: Musterstadt
) -> None:
    town = musterstadt
    seeded = seed_batch(town, 3, seed=9)  # fresh town per module: the only items here
    town.steuer.set_faults(renamed_labels={"Nachname": "Familienname"})
    try:
        with pytest.raises(CanaryFailed) as info:
            hundesteuer(BatchParams(max_items=10))
    finally:
        town.steuer.set_faults(renamed_labels={})
    assert "Nachname" in info.value.message
    assert "Steuerpflichtige suchen" in info.value.message
    # Receipt goes on (the intake stored and acknowledged the intact ones); nothing was entered.
    states = {s["submissionId"]: s["state"] for s in town.portal.export()["submissions"]}
    assert {states[s.ref["submissionId"]] for s in seeded} <= {"accepted", "rejected"}
    assert town.steuer.export()["cases"] == []
    store = WorkItemStore.from_settings()
    waiting = {i.item_key for i in store.items("hundesteuer", states=[ItemState.NEW])}
    assert {
        s.ref["submissionId"] for s in seeded if states[s.ref["submissionId"]] == "accepted"
    } <= waiting
    events = (
        [json.loads(line) for line in town.audit_path().read_text().splitlines()]
        if town.audit_path().exists()
        else []
    )
    assert not [e for e in events if e["step"] in ("entered", "done", "rejected", "delivered")]
