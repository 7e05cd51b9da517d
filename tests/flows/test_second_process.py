"""A second process, declared here from the public API only, runs end to end on the engine.

Sperrmüll-Anmeldung (bulk-waste pick-up): its own record (registered for its own schema),
the same Fachverfahren Steuern through `SteuerBot` (named for the system, so any process of
that back office reuses its login, logout and canary), a plain-text confirmation as notice
and the framework's Ablehnungsbescheid for a refusal. Nothing of Hundesteuer is imported:
the engine alone stores, acknowledges, claims, enters, files and answers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import field_validator

from amtsbote import BusinessRuleError, verify_trail
from amtsbote.store import ItemState, WorkItemStore
from bots import BotAccount, BrowserSession
from bots.steuer import SteuerBot, SteuerSettings
from connectors.documents import render_rejection_letter
from connectors.portal import PortalClient, PortalSettings
from connectors.records import CamelRecord, Envelope, check_postal_code, check_text, register_record
from connectors.records import _registry as registry
from connectors.sources import Document, PortalSource, Received
from flows.engine import BatchParams, BotSpec, Process, build_flows, reply_id_for
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt
from tests.reliability._support import check_exactly_once

# --- the process: what a municipality writes -------------------------------------------------
SCHEMA = "https://schema.musterstadt.example/sperrmuell-anmeldung/1.0.0.json"


class BulkWaste(CamelRecord):
    """Sperrmüll-Anmeldung."""

    item_key: str
    name: str
    street: str
    postal_code: str
    items: int

    @field_validator("name", "street", mode="before")
    @classmethod
    def _text(cls, v: Any) -> str:
        return check_text(v)

    @field_validator("postal_code", mode="before")
    @classmethod
    def _plz(cls, v: Any) -> str:
        return check_postal_code(v)


@dataclass(frozen=True)
class Pickup:
    aktenzeichen: str
    created: bool


def enter(bot: SteuerBot, item: Received[BulkWaste], option: Any) -> Pickup:
    if item.record.items > 10:
        raise BusinessRuleError("Mehr als 10 Teile holen wir nicht ab.", code="too-many-items")
    bot.goto("/steuerpflichtige")  # a real screen of the back office, logged in
    return Pickup(f"SPM-{item.item_key[:8]}", created=True)


def notice(item: Received[BulkWaste], pickup: Pickup, today: date) -> Document:
    text = f"Abholung {pickup.aktenzeichen}: {item.record.items} Teile, {today:%d.%m.%Y}."
    return Document("bescheid", "abholung.txt", "text/plain", text.encode(), "Abholtermin")


def rejection(item: Received[BulkWaste], error: BusinessRuleError, today: date) -> Document:
    r = item.record
    letter = render_rejection_letter(
        reference=item.item_key,
        service_name="Abholung von Sperrmüll",
        office="Abfallwirtschaft",
        recipient_name=r.name,
        address_lines=[r.street, r.postal_code],
        reasons=[(None, error.message)],
        letter_date=today,
    )
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return Document("ablehnung", "ablehnung.docx", docx, letter, "Ablehnung")


def make_bot(session: BrowserSession, account: BotAccount, evidence: Path, run_id: str) -> Any:
    return SteuerBot(session, SteuerSettings(), account, evidence_dir=evidence, run_id=run_id)


PROCESS = Process(
    name="sperrmuell",
    title="Sperrmüll",
    source=lambda: PortalSource(PortalClient(PortalSettings())),
    bot=BotSpec("Fachverfahren Steuern", make_bot, seats="fachverfahren-steuern-seats"),
    enter=enter,
    notice=notice,
    rejection=rejection,
    approval="auto",
)
FLOWS = build_flows(PROCESS, __name__)
sperrmuell = FLOWS.batch
sperrmuell_intake = FLOWS.intake
sperrmuell_klaerfall = FLOWS.klaerfall
sperrmuell_freigabe = FLOWS.freigabe
# --- end of the process ----------------------------------------------------------------------


def _envelope(envelope: Envelope) -> Mapping[str, Any]:
    return {"itemKey": envelope.item_key}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register_record(SCHEMA, BulkWaste, from_envelope=_envelope)
    yield


def _file(
    town: Musterstadt, data: dict[str, Any], reply_channel: dict[str, Any] | None = None
) -> str:
    def schema(meta: dict[str, Any]) -> None:
        meta["contentStructure"]["data"]["submissionSchema"]["schemaUri"] = SCHEMA

    with town.portal.sender_client() as sender:
        ref = sender.submit_application(data, tamper_metadata=schema, reply_channel=reply_channel)
        return str(ref["submissionId"])


def test_a_second_process_runs_end_to_end(
    prefect_server: PrefectServer,
    musterstadt: Musterstadt,
    registered: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    town = musterstadt
    # its own bot account setting, like any process (here: the town's accounts)
    monkeypatch.setenv("AMTSBOTE_SPERRMUELL_ACCOUNTS", town.env["AMTSBOTE_HUNDESTEUER_ACCOUNTS"])
    monkeypatch.setenv("AMTSBOTE_REPLY_LETTER_FORMAT", "pdf")  # the product's default
    good = {"name": "Erika Mustermann", "street": "Ringstraße 4", "postalCode": "44623"}
    by_mail = {"eMail": {"address": "anmeldung@example.org"}}
    ok = [_file(town, {**good, "items": n}, by_mail) for n in (2, 5)]
    too_many = _file(town, {**good, "items": 12})  # no reply channel: the answer comes by post
    broken = _file(town, {**copy.deepcopy(good), "postalCode": "00999", "items": 1})

    report = sperrmuell(BatchParams(max_items=20, sessions=1))

    outcomes = {row["Vorgang"]: row["Ergebnis"] for row in report["items"]}
    expected = {**dict.fromkeys(ok, "done"), too_many: "rejected", broken: "rejected"}
    assert {k: outcomes.get(k) for k in expected} == expected
    store = WorkItemStore.from_settings()
    assert store.get("sperrmuell", broken) is None  # rejected at the portal: never a work item
    assert store.get("sperrmuell", too_many).state == ItemState.REJECTED
    assert store.get("sperrmuell", too_many).error_code == "too-many-items"
    for key in ok:
        item = store.get("sperrmuell", key)
        assert item.state == ItemState.DONE and item.refs["aktenzeichen"] == f"SPM-{key[:8]}"
    subs = {s["submissionId"]: s for s in town.portal.export()["submissions"]}
    assert subs[broken]["state"] == "rejected"
    assert all(subs[k]["state"] == "accepted" for k in ok)
    assert subs[too_many]["state"] == "accepted"
    # the letters went over the reply channel: one mail each, the letter attached ...
    mails = town.smtp.by_reply_id()
    for key in ok:
        (mail,) = mails[reply_id_for(key)]
        assert mail["To"] == "anmeldung@example.org"
        assert [a.get_filename() for a in mail.iter_attachments()], key
        assert store.get("sperrmuell", key).refs["zustellung-bescheid"] == "mailed"
    # ... or, with none named, into the print-and-post outbox, and the item says so
    rejection = reply_id_for(too_many, "ablehnung")
    assert rejection not in mails
    assert store.get("sperrmuell", too_many).refs["zustellung-ablehnung"] == "posted-for-print"
    job = town.data_dir / "post-ausgang" / rejection
    assert json.loads((job / "auftrag.json").read_text())["reason"] == "channel-none"
    (printed,) = job.glob("01-*")
    # the DOCX letter was converted once: the print job and the e-Akte hold the same PDF
    assert printed.suffix == ".pdf" and printed.read_bytes().startswith(b"%PDF")
    ref = store.get("sperrmuell", too_many).refs["aktenzeichen"]
    assert _document(town, ref, f"{too_many}-ablehnung") == printed.read_bytes()
    akten = {a["aktenzeichen"]: a for a in town.eakte.export()["akten"]}
    for key in ok:
        docs = {d["key"] for d in akten[f"SPM-{key[:8]}"]["documents"]}
        assert {f"{key}-antrag", f"{key}-bescheid"} <= docs
        stored = json.loads(_document(town, f"SPM-{key[:8]}", f"{key}-antrag"))
        assert stored["itemKey"] == key
    assert town.steuer.export()["cases"] == [] or all(
        c["fremdreferenz"] not in expected for c in town.steuer.export()["cases"]
    )
    # the engine's own bookkeeping: audit per process, a rerun finds nothing
    events = [json.loads(x) for x in town.audit_path().read_text().splitlines()]
    assert {e["process"] for e in events if e["item_key"] in expected} == {"sperrmuell"}
    assert verify_trail(town.audit_path()).ok
    assert sperrmuell(BatchParams(max_items=20))["total"] == 0
    check_exactly_once(town, {too_many: "rejected", broken: "rejected"}).assert_ok()


def _document(town: Musterstadt, akte: str, key: str) -> bytes:
    import httpx

    r = httpx.get(
        f"{town.eakte.base_url}/akten/{akte}/dokumente/{key}",
        headers={"Authorization": f"Bearer {town.eakte.token}"},
        timeout=10,
    )
    r.raise_for_status()
    return r.content
