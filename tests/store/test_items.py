"""Adding, reading, state changes, leases, release, counts and retention on a real database."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from amtsbote import ApplicationError
from amtsbote.store import ItemNotFound, ItemState, LeaseLost, WorkItemStore


def test_add_is_idempotent_by_key_and_keeps_the_first_payload(store: WorkItemStore) -> None:
    first, created = store.add("p", "sub-1", b"first", priority=3, refs={"case_id": "c1"})
    again, created_again = store.add("p", "sub-1", b"second", priority=9, refs={"x": "y"})
    assert (created, created_again) == (True, False)
    assert again == first
    assert (again.state, again.attempts, again.priority, again.refs) == (
        ItemState.NEW,
        0,
        3,
        {"case_id": "c1"},
    )
    assert again.has_payload and again.created_at.tzinfo is UTC
    assert store.payload(again) == b"first"
    assert store.get("p", "sub-1") == first
    assert store.get("p", "missing") is None
    assert store.get("other-process", "sub-1") is None


def test_concurrent_adds_of_one_key_create_exactly_one_item(store: WorkItemStore) -> None:
    start = threading.Barrier(8)
    results: list[tuple[int, bool, bytes]] = []

    def add(n: int) -> None:
        start.wait()
        item, created = store.add("p", "same", f"payload-{n}".encode())
        results.append((item.id, created, f"payload-{n}".encode()))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert len({item_id for item_id, _, _ in results}) == 1
    winners = [payload for _, created, payload in results if created]
    assert len(winners) == 1
    assert store.payload(store.get("p", "same")) == winners[0]  # type: ignore[arg-type]
    assert [h.note for h in store.history("p", "same")] == ["added"]
    assert store.counts("p")["new"] == 1


def test_bad_input_is_refused_before_anything_is_stored(store: WorkItemStore) -> None:
    with pytest.raises(ValueError, match="item_key"):
        store.add("p", "", b"x")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.add("p", "k", b"x", deadline=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="bytes"):
        store.add("p", "k", "not bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refs"):
        store.add("p", "k", b"x", refs={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="sequence"):
        store.claim("p", "w", item_keys="k")
    assert store.counts() == dict.fromkeys([s.value for s in ItemState], 0)


def test_transition_merges_refs_sets_codes_and_writes_history(store: WorkItemStore) -> None:
    store.add("p", "k", b"x", refs={"case_id": "c1"})
    (item,) = store.claim("p", "w1")
    assert (item.state, item.claimed_by, item.attempts) == (ItemState.IN_PROGRESS, "w1", 1)
    assert item.lease_until is not None and item.lease_until > datetime.now(UTC)
    failed = store.transition(item, ItemState.FAILED, worker="w1", error_code="timeout")
    assert (failed.error_code, failed.claimed_by, failed.lease_until) == ("timeout", None, None)
    (item,) = store.claim("p", "w1")
    assert item.attempts == 2
    done = store.transition(
        item, ItemState.DONE, worker="w1", refs={"aktenzeichen": "AZ-1"}, human_run="run-7"
    )
    assert done.refs == {"case_id": "c1", "aktenzeichen": "AZ-1"}
    assert done.error_code is None  # None clears the code
    assert done.human_run == "run-7" and done.ended_at is not None
    same = store.transition(("p", "k"), ItemState.DONE, note="Bescheid versandt")
    assert same.ended_at == done.ended_at and same.human_run == "run-7"
    steps = [
        (h.from_state, h.to_state, h.worker, h.error_code, h.note) for h in store.history("p", "k")
    ]
    assert steps == [
        (None, ItemState.NEW, None, None, "added"),
        (ItemState.NEW, ItemState.IN_PROGRESS, "w1", None, "claimed"),
        (ItemState.IN_PROGRESS, ItemState.FAILED, "w1", "timeout", None),
        (ItemState.FAILED, ItemState.IN_PROGRESS, "w1", None, "claimed"),
        (ItemState.IN_PROGRESS, ItemState.DONE, "w1", None, None),
        (ItemState.DONE, ItemState.DONE, None, None, "Bescheid versandt"),
    ]
    reopened = store.transition(("p", "k"), ItemState.KLAERFALL)
    assert reopened.ended_at is None
    with pytest.raises(ItemNotFound):
        store.transition(("p", "nope"), ItemState.DONE)
    assert store.history("p", "nope") == []


def test_a_worker_whose_lease_was_taken_over_cannot_change_the_item(
    store: WorkItemStore,
) -> None:
    store.add("p", "k", b"x")
    (mine,) = store.claim("p", "w1", lease_s=0.2)
    assert store.claim("p", "w2") == []  # never two workers on one item
    time.sleep(0.3)
    (theirs,) = store.claim("p", "w2")
    assert (theirs.claimed_by, theirs.attempts) == ("w2", 2)
    with pytest.raises(LeaseLost):
        store.transition(mine, ItemState.FAILED, worker="w1", error_code="timeout")
    with pytest.raises(LeaseLost):
        store.transition(("p", "k"), ItemState.DONE, worker="w1")
    with pytest.raises(LeaseLost):
        store.transition(("p", "k"), ItemState.DONE)  # nobody but the holder
    assert store.renew("w1") == 0
    store.transition(theirs, ItemState.DONE, worker="w2", refs={"aktenzeichen": "AZ"})
    with pytest.raises(LeaseLost):  # the stale claim may not overwrite the finished item
        store.transition(mine, ItemState.FAILED, worker="w1", error_code="timeout")
    final = store.get("p", "k")
    assert final is not None and final.state is ItemState.DONE and final.error_code is None


def test_an_expired_lease_not_taken_over_is_still_the_workers(store: WorkItemStore) -> None:
    store.add("p", "k", b"x")
    (item,) = store.claim("p", "w1", lease_s=0.05)
    time.sleep(0.1)
    assert store.transition(item, ItemState.DONE, worker="w1").state is ItemState.DONE


def test_renew_extends_only_the_workers_own_leases(store: WorkItemStore) -> None:
    for key in ("a", "b", "c"):
        store.add("p", key, b"x")
    held = store.claim("p", "w1", limit=2, lease_s=1)
    store.claim("p", "w2", limit=1, lease_s=1)
    assert store.renew("w1", lease_s=600) == 2
    assert store.renew("w1", lease_s=600, item_keys=[held[0].item_key]) == 1
    assert store.renew("w1", process="other") == 0
    assert store.renew("nobody") == 0
    for item in held:
        current = store.get("p", item.item_key)
        assert current is not None and current.lease_until is not None
        assert current.lease_until > datetime.now(UTC) + timedelta(seconds=500)
    w2 = store.items("p", states=[ItemState.IN_PROGRESS])
    assert {i.claimed_by for i in w2} == {"w1", "w2"}
    other = next(i for i in w2 if i.claimed_by == "w2")
    assert other.lease_until is not None
    assert other.lease_until < datetime.now(UTC) + timedelta(seconds=2)


def test_release_gives_items_back_where_they_were(store: WorkItemStore) -> None:
    store.add("p", "new", b"x")
    store.add("p", "failed", b"x")
    store.add("p", "review", b"x")
    (item,) = store.claim("p", "w0", item_keys=["failed"])
    store.transition(item, ItemState.FAILED, worker="w0", error_code="timeout")
    store.transition(("p", "review"), ItemState.KLAERFALL)
    claimed = store.claim(
        "p", "w1", limit=5, states=[ItemState.NEW, ItemState.FAILED, ItemState.KLAERFALL]
    )
    assert len(claimed) == 3
    assert store.release("w2") == 0
    assert store.release("w1", item_keys=["review"]) == 1
    assert store.release("w1") == 2
    after = {i.item_key: (i.state, i.attempts, i.claimed_by) for i in store.items("p")}
    assert after == {
        "new": (ItemState.NEW, 0, None),
        "failed": (ItemState.FAILED, 1, None),
        "review": (ItemState.KLAERFALL, 0, None),
    }
    assert store.history("p", "review")[-1].note == "released unstarted"


def test_counts_and_items_per_state(store: WorkItemStore) -> None:
    for n in range(5):
        store.add("p", f"k{n}", b"x")
    store.add("q", "other", b"x")
    for item in store.claim("p", "w", limit=2):
        store.transition(item, ItemState.REJECTED, worker="w", error_code="rule")
    counts = store.counts("p")
    assert list(counts) == [s.value for s in ItemState]
    assert (counts["new"], counts["rejected"], counts["done"]) == (3, 2, 0)
    assert store.counts()["new"] == 4
    assert [i.item_key for i in store.items("p", states=[ItemState.NEW])] == ["k2", "k3", "k4"]
    assert [i.item_key for i in store.items("p", limit=2, offset=1)] == ["k1", "k2"]


def test_purge_deletes_payloads_after_retention_and_keeps_the_rest(
    store: WorkItemStore,
) -> None:
    for key in ("done", "rejected", "open"):
        store.add("p", key, b"personal data")
    for item in store.claim("p", "w", limit=2, item_keys=["done", "rejected"]):
        end = ItemState.DONE if item.item_key == "done" else ItemState.REJECTED
        store.transition(item, end, worker="w", refs={"aktenzeichen": "AZ"}, error_code=None)
    now = datetime.now(UTC)
    assert store.purge_payloads(now=now + timedelta(days=29)) == 0
    assert store.purge_payloads(now=now + timedelta(days=31)) == 2
    assert store.purge_payloads(now=now + timedelta(days=31)) == 0
    done = store.get("p", "done")
    assert done is not None and not done.has_payload
    assert (done.state, done.refs, done.attempts) == (ItemState.DONE, {"aktenzeichen": "AZ"}, 1)
    assert len(store.history("p", "done")) == 3
    with pytest.raises(ApplicationError) as err:
        store.payload(done)
    assert err.value.code == "payload-purged"
    still_open = store.get("p", "open")
    assert still_open is not None and store.payload(still_open) == b"personal data"


def test_tenants_do_not_see_each_others_items(store: WorkItemStore, db_url: str, key: str) -> None:
    store.add("p", "k", b"ours")
    with WorkItemStore(db_url, [key], tenant=f"{store.tenant}-b") as other:
        assert other.get("p", "k") is None
        assert other.claim("p", "w") == []
        created = other.add("p", "k", b"theirs")[1]
        assert created and other.payload(other.get("p", "k")) == b"theirs"  # type: ignore[arg-type]
    assert store.payload(store.get("p", "k")) == b"ours"  # type: ignore[arg-type]
