"""The watch: submissions encrypted to a key the installation lacks wait at the portal, are
reported with their age (artifact, one admin mail a day once older than 2 days) and end by an
admin's ``amtsbote portal reject`` or by the service's own 14-day rejection.

A real Musterstadt (sandbox portal, SMTP) and a real Prefect server: the intake flow runs for
real. The mail's age test gives the watch a later "now" (the receiver's clock cannot be moved,
only the portal's); everything else is the flow as deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from amtsbote import AuditTrail, verify_trail
from flows.cli import main as cli
from flows.engine import IntakeParams, Services
from flows.engine._intake import HeldItem
from flows.engine._watch import notify_admins
from flows.hundesteuer import PROCESS, hundesteuer_intake
from sandbox.portal import encrypt_part
from sandbox.seed import generate_applications
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt, musterstadt_env

ADMIN = "it-betrieb@musterstadt.example"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Musterstadt]:
    tmp = tmp_path_factory.mktemp("watch")
    with musterstadt_env(tmp, ["bot1"]) as t:
        yield t


def _stranger(kid: str) -> dict[str, Any]:
    key = RSAKey.generate_key(2048, private=True).as_dict(private=False)
    return {**key, "kid": kid, "alg": "RSA-OAEP-256"}


def _file_held(town: Musterstadt) -> tuple[dict[str, str], list[str]]:
    """Two submissions the receiver cannot open: an unknown kid, a wrong key under our kid.

    Returns their ids with the code each must be held for, and the applicants' family names.
    """
    import random

    apps = generate_applications(2, bad_share=0.0, rng=random.Random(808))
    out: dict[str, str] = {}
    with town.portal.sender_client() as sender:
        ours = sender.encryption_key()["kid"]
        for app, (kid, code) in zip(
            apps, [("retired-2025", "jwe-unknown-kid"), (ours, "jwe-key-unwrap")], strict=True
        ):
            token = encrypt_part(json.dumps(app.data).encode(), _stranger(kid), "application/json")
            ref = sender.submit_application(app.data, app.attachments, raw_parts={"data": token})
            out[ref["submissionId"]] = code
    return out, [a.data["owner"]["familyName"] for a in apps]


def _watch_table() -> tuple[list[dict[str, str]], str]:
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["hundesteuer-watch"]))
        )
    data = artifact.data
    table = json.loads(data) if isinstance(data, str) else data
    assert isinstance(table, list)
    return table, str(artifact.description)


def _advance(town: Musterstadt, days: float) -> None:
    httpx.post(
        town.portal.base_url + "/admin/clock",
        json={"advance_days": days},
        headers={"authorization": f"Bearer {town.portal.admin_token}"},
        timeout=10,
    ).raise_for_status()


def test_held_submissions_are_watched_mailed_and_rejected_by_an_admin(
    prefect_server: PrefectServer,
    town: Musterstadt,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    held, names = _file_held(town)
    result = hundesteuer_intake(IntakeParams(max_items=50))
    # neither stored nor rejected: both wait at the portal
    assert (result["stored"], result["rejected"], result["held_at_source"]) == (0, 0, 2)
    for sid in held:
        sub = town.portal.submission(sid)
        assert sub["state"] == "submitted", sub
        assert "reject-submission" not in sub["eventTypes"]

    rows, description = _watch_table()
    assert {r["Vorgang"]: r["Fehlercode"] for r in rows} == held
    assert all(float(r["Alter (Tage)"]) < 0.1 for r in rows)  # just submitted
    today = datetime.now(UTC).date()
    assert {r["Ablehnung durch den Dienst am"] for r in rows} <= {
        (today + timedelta(days=14)).isoformat(),
        (today + timedelta(days=15)).isoformat(),
    }
    assert "2 Anträge warten" in description and "Älter als 2 Tage: 0" in description
    assert town.smtp.messages == [] or all(ADMIN not in m["To"] for m in town.smtp.messages)

    # Three days on, the watch mails the admins once that day, ids and codes only.
    monkeypatch.setenv("AMTSBOTE_HUNDESTEUER_ADMIN_EMAIL", ADMIN)
    later = datetime.now(UTC) + timedelta(days=3)
    services = Services.from_env(PROCESS)
    try:
        items = [
            HeldItem(sid, code, "data", datetime.now(UTC) - timedelta(minutes=5))
            for sid, code in held.items()
        ]
        assert notify_admins(services, items, now=later) is True
        assert notify_admins(services, items, now=later + timedelta(hours=1)) is False  # same day
        assert notify_admins(services, items, now=later + timedelta(days=1)) is True  # next day
        assert (
            notify_admins(services, items[:0], now=later + timedelta(days=2)) is False
        )  # none left
    finally:
        services.close()
    mails = [m for m in town.smtp.messages if m["To"] == ADMIN]
    assert len(mails) == 2
    body = mails[0].get_content()
    for sid, code in held.items():
        assert sid in body and code in body
    assert "amtsbote portal reject" in body and "3.0 Tage alt" in body
    assert not any(name in body or name in str(mails[0]["Subject"]) for name in names)

    # The admin lists them and rejects one; the other waits on.
    assert cli(["portal", "held"]) == 0
    listed = capsys.readouterr().out
    assert all(sid in listed for sid in held) and "jwe-key-unwrap" in listed
    unknown = next(sid for sid, code in held.items() if code == "jwe-unknown-kid")
    assert cli(["portal", "reject", unknown]) == 0
    sub = town.portal.submission(unknown)
    assert sub["state"] == "rejected" and "reject-submission" in sub["eventTypes"]
    again = hundesteuer_intake(IntakeParams(max_items=50))
    assert again["held_at_source"] == 1 and again["rejected"] == 0
    trail = AuditTrail(Path(town.audit_path()))
    assert verify_trail(trail.path).ok
    steps = [e for e in trail.events() if e["item_key"] == unknown]
    assert [e["step"] for e in steps] == ["rejected-at-source"]
    assert steps[0]["details"]["by"] == "admin" and steps[0]["details"]["receipt_sha256"]

    # One that opens is not rejected by hand.
    import random

    (good,) = generate_applications(1, bad_share=0.0, rng=random.Random(809))
    with town.portal.sender_client() as sender:
        sid = sender.submit_application(good.data, good.attachments)["submissionId"]
    assert cli(["portal", "reject", sid]) == 1
    assert "lässt sich öffnen" in capsys.readouterr().out
    assert town.portal.submission(sid)["state"] == "submitted"

    # Nobody installs the key: the service rejects the other after 14 days by itself, and the
    # watch's table is empty again.
    _advance(town, 15)
    last = hundesteuer_intake(IntakeParams(max_items=50))
    assert last["held_at_source"] == 0
    rows, description = _watch_table()
    assert [r["Vorgang"] for r in rows] == [""] and "0 Anträge warten" in description
