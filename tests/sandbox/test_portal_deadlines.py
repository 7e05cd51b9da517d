"""The portal's deadlines, seen by jumping its clock: mails after 3 and 9 days, the service's
own rejection after 14, deletion of incomplete (1 day) and picked-up (7 days) submissions, the
event log kept throughout.

Each test runs its own portal (the clock is per portal, the session portal stays on real time)
and a real SMTP server that plays the destination's technical contact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox._common import serve_in_thread
from sandbox.portal import EVENT_REJECT, PortalConfig, SenderClient, create_app, verify_set
from sandbox.portal._deadlines import EVENT_DELETE
from tests.fixtures.portal import PortalHandle
from tests.fixtures.smtp import SmtpServer, run_smtp
from tests.sandbox.test_portal_api import DATA

pytestmark = [pytest.mark.timeout(120)]


@dataclass
class Town:
    portal: PortalHandle
    smtp: SmtpServer
    sender: SenderClient

    def advance(self, days: float) -> dict[str, Any]:
        resp = httpx.post(
            self.portal.base_url + "/admin/clock",
            json={"advance_days": days},
            headers={"authorization": f"Bearer {self.portal.admin_token}"},
            timeout=10,
        )
        resp.raise_for_status()
        return dict(resp.json())

    def state(self, sid: str) -> str:
        return str(self.portal.submission(sid)["state"])

    def event_types(self, sid: str) -> list[str]:
        return list(self.portal.submission(sid)["eventTypes"])

    def mails_for(self, sid: str) -> list[int]:
        """The deadline levels (days) of the mails naming `sid`."""
        return [
            int(m["X-Portal-Deadline-Days"])
            for m in self.smtp.messages
            if sid in m.get_content()  # type: ignore[operator]
        ]


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    with run_smtp() as smtp:
        config = PortalConfig(
            data_dir=tmp_path / "portal",
            key_size=2048,
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            technical_contact="it@steueramt.example",
        )
        with (
            serve_in_thread(create_app(config)) as served,
            SenderClient(
                served.base_url, config.sender_client_id, config.sender_client_secret
            ) as sender,
        ):
            yield Town(PortalHandle(served.base_url, config), smtp, sender)


def test_technical_contact_is_mailed_after_3_and_9_days_once_each(town: Town) -> None:
    sid = town.sender.submit_application(DATA)["submissionId"]
    assert town.advance(2.9)["sweep"]["notified"] == {}
    assert town.mails_for(sid) == []

    report = town.advance(0.2)  # day 3.1
    assert report["sweep"]["notified"] == {"3": [sid]}
    (mail,) = town.smtp.messages
    assert mail["To"] == "it@steueramt.example"
    assert "seit 3 Tagen" in str(mail["Subject"])
    body = mail.get_content()
    assert sid in body and "Jürgen" not in body  # ids only, never the citizen's data

    town.advance(1)  # more requests, more sweeps: the 3-day mail is not sent again
    town.portal.export()
    assert town.mails_for(sid) == [3]

    town.advance(5)  # day 9.1
    assert town.mails_for(sid) == [3, 9]
    assert town.state(sid) == "submitted"  # still waiting: only mailed so far


def test_a_picked_up_submission_gets_no_mail(town: Town) -> None:
    sid = town.sender.submit_application(DATA)["submissionId"]
    with town.portal.receiver_api() as api:
        assert api.accept(sid).status_code in (200, 201, 202)
    town.advance(5)
    assert town.mails_for(sid) == []


def test_service_rejects_after_14_days_not_picked_up(town: Town) -> None:
    ref = town.sender.submit_application(DATA)
    sid, case_id = ref["submissionId"], ref["caseId"]
    town.advance(13.9)
    assert town.state(sid) == "submitted"
    report = town.advance(0.2)
    assert report["sweep"]["autoRejected"] == [sid]
    assert town.state(sid) == "rejected"
    with town.portal.receiver_api() as api:
        assert sid not in api.listed_ids()  # no longer offered to the receiver
        # the service's own rejection: signed with the portal's key, not the receiver's
        tokens = api.event_log(case_id)
        keys = api.http.get("/.well-known/jwks.json").json()["keys"]
        (reject,) = [t for t in tokens if EVENT_REJECT in verify_set(t, keys[0])[1]["events"]]
        header, claims = verify_set(reject, keys[0])
        assert claims["iss"] == town.portal.config.issuer
        (problem,) = claims["events"][EVENT_REJECT]["problems"]
        assert problem["title"] and problem["detail"]
        # picking it up now is too late: the decision is the service's
        assert api.accept(sid).status_code == 409
    assert town.mails_for(sid) == [3, 9]  # the mails before went out on the way


def test_incomplete_submission_is_deleted_after_one_day(town: Town) -> None:
    ref = town.sender.submit_application(DATA, submit=False)
    sid, case_id = ref["submissionId"], ref["caseId"]
    town.advance(0.9)
    assert town.state(sid) == "incomplete"
    assert town.advance(0.2)["sweep"]["deleted"] == [sid]
    assert town.state(sid) == "deleted"
    assert town.event_types(sid) == ["create-submission", "delete-submission"]
    # the sender cannot complete it any more
    with pytest.raises(httpx.HTTPStatusError):
        town.sender.request("PUT", f"/v1/submissions/{sid}", json={"encryptedMetadata": "x"})
    assert town.sender.event_log(case_id)  # the event log is kept


def test_picked_up_submission_is_deleted_7_days_after_pickup_log_kept(town: Town) -> None:
    ref = town.sender.submit_application(DATA, [("n.pdf", "application/pdf", b"%PDF-1.7\n")])
    sid, case_id = ref["submissionId"], ref["caseId"]
    town.advance(2)  # picked up on day 2
    with town.portal.receiver_api() as api:
        sub = api.submission(sid)
        (aid,) = sub["attachments"]
        assert api.accept(sid).status_code in (200, 201, 202)
        town.advance(6.9)  # day 8.9: 6.9 days after pickup
        assert town.state(sid) == "accepted"
        assert api.submission(sid)["encryptedData"]
        town.advance(0.2)  # 7.1 days after pickup
        assert town.state(sid) == "deleted"
        assert api.http.get(f"/v1/submissions/{sid}").status_code == 404
        assert api.http.get(f"/v1/submissions/{sid}/attachments/{aid}").status_code == 404
        types = [
            next(iter(verify_set(t, _any_key(api, t))[1]["events"])).rsplit("/", 1)[-1]
            for t in api.event_log(case_id)
        ]
    assert types == [
        "create-submission",
        "submit-submission",
        "accept-submission",
        "delete-submission",
    ]
    assert EVENT_DELETE.endswith("/delete-submission")


def test_clock_only_runs_forward_and_needs_the_admin_token(town: Town) -> None:
    url = town.portal.base_url + "/admin/clock"
    assert httpx.post(url, json={"advance_days": 1}, timeout=10).status_code == 401
    resp = httpx.post(
        url,
        json={"advance_days": -1},
        headers={"authorization": f"Bearer {town.portal.admin_token}"},
        timeout=10,
    )
    assert resp.status_code == 400
    assert town.advance(1.5)["offsetDays"] == pytest.approx(1.5)


def test_a_failed_mail_is_sent_by_a_later_sweep(town: Town) -> None:
    config = town.portal.config
    with run_smtp() as gone:
        closed_port = gone.port
    config.smtp_port = closed_port  # nothing listens there any more: the mail fails
    sid = town.sender.submit_application(DATA)["submissionId"]
    assert town.advance(3.1)["sweep"]["mailFailed"] == [3]
    assert town.smtp.messages == []
    config.smtp_port = town.smtp.port  # the mail server is back
    town.portal.export()  # any request sweeps
    assert town.mails_for(sid) == [3]


def _any_key(api: Any, token: str) -> dict[str, Any]:
    """The key a SET of the event log is signed with: the portal's or the receiver's."""
    portal_key = api.http.get("/.well-known/jwks.json").json()["keys"][0]
    try:
        verify_set(token, portal_key)
    except ValueError:
        return dict(api.portal.receiver_keys["signing"])
    return dict(portal_key)
