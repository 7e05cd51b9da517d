"""Payloads at rest: encrypted, bound to their item, rotatable; keys from settings or a file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from amtsbote import AmtsboteSettings, ApplicationError
from amtsbote.store import StoreSettings, WorkItemStore, new_key
from amtsbote.store._engine import normalize_url
from amtsbote.store._schema import items, payloads

PLAIN = b'{"name": "Erika Mustermann", "iban": "DE02120300000000202051"}'


def _raw_tokens(url: str, tenant: str) -> list[bytes]:
    """The tokens as stored, read past the store."""
    query = select(payloads.c.token).join(items).where(items.c.tenant == tenant)
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return [bytes(t) for t in conn.execute(query).scalars()]
    finally:
        engine.dispose()


def test_payload_is_encrypted_at_rest(store: WorkItemStore, db_url: str, tmp_path: Path) -> None:
    item, _ = store.add("p", "k", PLAIN)
    tokens = _raw_tokens(db_url, store.tenant)
    assert len(tokens) == 1
    for token in tokens:
        assert b"Mustermann" not in token and b"DE0212" not in token
    if db_url.startswith("sqlite"):  # not in the database file nor its write-ahead log
        for part in tmp_path.glob("store.sqlite*"):
            assert b"Mustermann" not in part.read_bytes(), part.name
    assert store.payload(item) == PLAIN


def test_rotation_old_key_opens_until_rotated_then_only_the_new_one_is_needed(
    db_url: str, tenant: str
) -> None:
    old, new = new_key(), new_key()
    with WorkItemStore(db_url, [old], tenant=tenant) as before:
        before.upgrade()
        for n in range(3):
            before.add("p", f"k{n}", PLAIN + str(n).encode())
        tokens_before = _raw_tokens(db_url, tenant)
    with WorkItemStore(db_url, [new, old], tenant=tenant) as both:
        assert both.payload(both.get("p", "k0")) == PLAIN + b"0"  # type: ignore[arg-type]
        assert both.rotate_keys() == 3
        both.add("p", "k3", PLAIN)  # new payloads use the newest key
    assert set(_raw_tokens(db_url, tenant)).isdisjoint(tokens_before)
    with WorkItemStore(db_url, [new], tenant=tenant) as only_new:
        for n in range(3):
            item = only_new.get("p", f"k{n}")
            assert item is not None and only_new.payload(item) == PLAIN + str(n).encode()
    with WorkItemStore(db_url, [old], tenant=tenant) as only_old:
        with pytest.raises(ApplicationError) as err:
            only_old.payload(only_old.get("p", "k0"))  # type: ignore[arg-type]
        assert err.value.code == "payload-key"
        with pytest.raises(ApplicationError):
            only_old.rotate_keys()


def test_wrong_key_is_a_clear_error_without_the_plaintext(db_url: str, tenant: str) -> None:
    with WorkItemStore(db_url, [new_key()], tenant=tenant) as store:
        store.upgrade()
        store.add("p", "k", PLAIN)
    with WorkItemStore(db_url, [new_key()], tenant=tenant) as wrong:
        item = wrong.get("p", "k")
        assert item is not None  # ids and states stay readable without the key
        with pytest.raises(ApplicationError) as err:
            wrong.payload(item)
    assert err.value.code == "payload-key"
    assert "Mustermann" not in str(err.value) and "Mustermann" not in repr(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_payload_copied_onto_another_item_does_not_open(
    store: WorkItemStore, db_url: str
) -> None:
    a, _ = store.add("p", "a", b"payload of a")
    b, _ = store.add("p", "b", b"payload of b")
    engine = create_engine(normalize_url(db_url))
    try:
        with engine.begin() as conn:
            token = conn.execute(select(payloads.c.token).where(payloads.c.item_id == a.id))
            conn.execute(
                update(payloads).where(payloads.c.item_id == b.id).values(token=token.scalar())
            )
    finally:
        engine.dispose()
    with pytest.raises(ApplicationError) as err:
        store.payload(b)
    assert err.value.code == "payload-key"


def test_missing_or_malformed_keys_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    for keys in ([], ["not-a-fernet-key"]):
        with pytest.raises(ApplicationError) as err:
            WorkItemStore(url, keys)
        assert err.value.code == "store-key"
        assert "not-a-fernet-key" not in str(err.value)
    with pytest.raises(ValueError, match="file"):
        WorkItemStore("sqlite://", [new_key()])
    with pytest.raises(ValueError, match="unsupported"):
        WorkItemStore("mysql://db/x", [new_key()])


def test_keys_from_the_environment_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    k1, k2 = new_key(), new_key()
    monkeypatch.setenv("AMTSBOTE_STORE_KEYS", f"{k2}, {k1}")
    assert StoreSettings().resolved_keys() == [k2, k1]
    monkeypatch.setenv("AMTSBOTE_STORE_KEYS", f'["{k1}"]')
    monkeypatch.setenv("AMTSBOTE_STORE_RETENTION_DAYS", "7.5")
    settings = StoreSettings()
    assert settings.resolved_keys() == [k1] and settings.retention_days == 7.5
    assert k1 not in repr(settings)


def test_default_store_generates_its_key_file_once(tmp_path: Path) -> None:
    core = AmtsboteSettings(data_dir=tmp_path / "data")
    settings = StoreSettings()
    keys = settings.resolved_keys(core)
    key_file = tmp_path / "data" / "store.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings.resolved_keys(core) == keys and len(keys) == 1
    with WorkItemStore.from_settings(settings, core) as store:
        store.upgrade()
        item, _ = store.add("p", "k", b"x")
        assert store.payload(item) == b"x"
    assert (tmp_path / "data" / "workitems.sqlite").exists()
    assert not list((tmp_path / "data").glob(".store-key-*"))


def test_a_store_by_url_needs_its_key_given(tmp_path: Path) -> None:
    core = AmtsboteSettings(data_dir=tmp_path)
    StoreSettings().resolved_keys(core)  # a default key file lies around: not used by URL
    pg = StoreSettings(url="postgresql://postgres@127.0.0.1:5432/amtsbote")
    with pytest.raises(ApplicationError) as err:
        WorkItemStore.from_settings(pg, core)
    assert err.value.code == "store-key" and "AMTSBOTE_STORE_KEYS" in str(err.value)
    key_file = tmp_path / "mounted.key"
    key_file.write_text(f"# rotated 2026-05\n{new_key()}\n\n")
    named = StoreSettings(url=pg.url, key_file=key_file)
    assert len(named.resolved_keys(core)) == 1
    with pytest.raises(ApplicationError) as err:
        StoreSettings(url=pg.url, key_file=tmp_path / "absent.key").resolved_keys(core)
    assert err.value.code == "store-key"
