"""A changed back office stops the run before any data is touched, naming the missing field."""

from __future__ import annotations

import json

import pytest

from flows.hundesteuer import CanaryFailed, HundesteuerParams, hundesteuer
from tests.fixtures.prefect import PrefectServer
from tests.flows._town import seed_batch
from tests.flows.conftest import Musterstadt


def test_renamed_field_stops_the_run_untouched(
    prefect_server: PrefectServer, musterstadt: Musterstadt
) -> None:
    town = musterstadt
    seeded = seed_batch(town, 3, seed=9)
    town.steuer.set_faults(renamed_labels={"Nachname": "Familienname"})
    try:
        with pytest.raises(CanaryFailed) as info:
            hundesteuer(HundesteuerParams(max_items=10))
    finally:
        town.steuer.set_faults(renamed_labels={})
    assert "Nachname" in info.value.message
    assert "Steuerpflichtige suchen" in info.value.message
    states = {s["submissionId"]: s["state"] for s in town.portal.export()["submissions"]}
    assert all(states[s.ref["submissionId"]] == "submitted" for s in seeded)
    assert town.steuer.export()["cases"] == []
    events = (
        [json.loads(line) for line in town.audit_path().read_text().splitlines()]
        if town.audit_path().exists()
        else []
    )
    assert not [e for e in events if e["step"] in ("registered", "accepted", "rejected")]
