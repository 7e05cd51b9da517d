"""Unit tests of the intake's pure logic: batch keys and batch planning."""

from __future__ import annotations

import pytest

from flows.engine import IntakeParams, batch_key, plan_batches


def test_batch_key_is_stable_and_order_free() -> None:
    assert batch_key(["b", "a", "c"]) == batch_key(["a", "b", "c"])
    assert batch_key(["a", "b"]) != batch_key(["a", "b", "c"])
    assert len(batch_key(["a"])) == 24


def test_plan_batches_keeps_order_and_size() -> None:
    ids = [f"s{i:02d}" for i in range(23)]
    batches = plan_batches(ids, 10)
    assert [len(b) for b in batches] == [10, 10, 3]
    assert [sid for b in batches for sid in b] == ids
    assert plan_batches([], 10) == []


def test_plan_batches_rejects_empty_batches() -> None:
    with pytest.raises(ValueError):
        plan_batches(["a"], 0)


def test_intake_params_bounds() -> None:
    assert IntakeParams().deployment == ""  # the process's own batch deployment
    with pytest.raises(ValueError):
        IntakeParams(batch_size=0)
