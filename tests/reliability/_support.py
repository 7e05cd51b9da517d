"""Shared parts of the reliability tests: a Musterstadt with knobs, runs until drained, checks.

The checks read only what an auditor can see from outside: the sandbox apps' admin exports
(portal states and events, back-office cases, e-Akte documents), the mails the town's SMTP server
received (letters to citizens, by Message-ID), the portal's signed event log (rejection
problems), the audit trail and the flow's own report rows. Nothing in product code
knows it is being tested.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx

from flows.engine import reply_id_for
from tests.flows.conftest import Musterstadt

#: Fast settings for the bots under faults: a slow page costs seconds, not the default 10-15 s.
FAST_BOT_ENV = {
    "AMTSBOTE_BROWSER_TIMEOUT_MS": "4000",
    "AMTSBOTE_BROWSER_NAVIGATION_TIMEOUT_MS": "4000",
    "AMTSBOTE_BROWSER_TRACE": "false",
    "AMTSBOTE_HUNDESTEUER_RETRY_DELAYS_S": "[0.2, 0.5]",
    # the same attempts and recoveries (fresh context, fresh browser), shorter waits
    "AMTSBOTE_STEUER_RETRY": '{"backoff_base": 0.1, "backoff_max": 0.5}',
}


@contextlib.contextmanager
def extra_env(env: dict[str, str], values: dict[str, str]) -> Iterator[None]:
    """Set `values` in ``os.environ`` and in the town's `env` (for subprocesses) for a while."""
    old = {k: os.environ.get(k) for k in values}
    old_env = {k: env.get(k) for k in values}
    os.environ.update(values)
    env.update(values)
    try:
        yield
    finally:
        for source, saved in ((os.environ, old), (env, old_env)):
            for k, v in saved.items():
                if v is None:
                    source.pop(k, None)
                else:
                    source[k] = v


def closed_port_url() -> str:
    """A loopback URL nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def set_all_faults(town: Musterstadt, **knobs: Any) -> None:
    """The same common knobs on portal, back office and e-Akte."""
    town.portal.set_faults(**knobs)
    town.steuer.set_faults(**knobs)
    town.eakte.set_faults(**knobs)


def reset_all_faults(town: Musterstadt) -> None:
    town.portal.reset_faults()
    town.steuer.reset_faults()
    town.eakte.reset_faults()


def injected(town: Musterstadt) -> dict[str, dict[str, int]]:
    """The faults each app injected so far (``GET /admin/faults``)."""
    out: dict[str, dict[str, int]] = {}
    for name, base, token in (
        ("portal", town.portal.base_url, town.portal.admin_token),
        ("steuer", town.steuer.base_url, town.steuer.admin_token),
        ("eakte", town.eakte.base_url, town.eakte.admin_token),
    ):
        r = httpx.get(
            f"{base}/admin/faults", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        r.raise_for_status()
        out[name] = dict(r.json()["injected"])
    return out


def total_injected(counts: dict[str, dict[str, int]]) -> int:
    return sum(sum(c.values()) for c in counts.values())


def jws_claims(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, without verifying (the portal stored it verified)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def reject_problems(town: Musterstadt, case_id: str) -> list[dict[str, Any]]:
    """The problems of the case's reject event (what the citizen reads)."""
    with town.portal.receiver_api() as api:
        for token in api.event_log(case_id):
            events = jws_claims(token).get("events", {})
            for uri, payload in events.items():
                if uri.endswith("/reject-submission"):
                    return list(payload.get("problems", []))
    return []


def audit_events(town: Musterstadt) -> list[dict[str, Any]]:
    path = town.audit_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class Snapshot:
    """Everything the outside systems say, in one read."""

    submissions: dict[str, dict[str, Any]]
    cases: list[dict[str, Any]]
    taxpayers: list[dict[str, Any]]
    akten: dict[str, dict[str, Any]]
    mails: dict[str, list[EmailMessage]] = field(default_factory=dict)  # by reply id
    posted: set[str] = field(default_factory=set)  # reply ids in the print-and-post outbox

    def letters(self, sid: str, kind: str | None = None) -> list[EmailMessage]:
        """The mails that carried the item's letters (``bescheid``, ``ablehnung`` or both)."""
        kinds = (kind,) if kind else ("bescheid", "ablehnung")
        return [m for k in kinds for m in self.mails.get(reply_id_for(sid, k), [])]

    def sent(self, sid: str, kind: str | None = None) -> int:
        """How often the item's letters went out: mails plus print jobs."""
        kinds = (kind,) if kind else ("bescheid", "ablehnung")
        return len(self.letters(sid, kind)) + sum(
            reply_id_for(sid, k) in self.posted for k in kinds
        )

    @property
    def cases_per_ref(self) -> Counter[str]:
        return Counter(c["fremdreferenz"] for c in self.cases)

    def key(self) -> tuple[Any, ...]:
        """What must not change when a rerun has nothing to do."""
        return (
            {
                sid: (s["state"], s["eventCounts"], self.sent(sid))
                for sid, s in self.submissions.items()
            },
            len(self.cases),
            len(self.taxpayers),
            {az: len(a["documents"]) for az, a in self.akten.items()},
        )


def snapshot(town: Musterstadt) -> Snapshot:
    steuer = town.steuer.export()
    return Snapshot(
        submissions={s["submissionId"]: s for s in town.portal.export()["submissions"]},
        cases=list(steuer["cases"]),
        taxpayers=list(steuer.get("taxpayers", [])),
        akten={a["aktenzeichen"]: a for a in town.eakte.export()["akten"]},
        mails=town.smtp.by_reply_id(),
        posted={p.name for p in (town.data_dir / "post-ausgang").glob("*-*-*-*-*") if p.is_dir()},
    )


@dataclass
class Verdict:
    """The exactly-once check of a batch: lists of what is wrong (empty = all good)."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def assert_ok(self) -> None:
        assert not self.lost, f"lost: {self.lost}"
        assert not self.duplicated, f"duplicated: {self.duplicated}"
        assert not self.wrong, f"wrong outcome: {self.wrong}"


def check_exactly_once(town: Musterstadt, expected: dict[str, str]) -> Verdict:
    """Compare the systems with the expected outcome (work-item state) per submission id.

    Every intact submission is accepted once at the portal (the technical receipt) and
    answered at most once: one mail to the reply channel's address with the letter attached,
    or one print job in the outbox when the submission named no channel. ``done``: in the
    back office exactly once, one notice sent, antrag + bescheid archived under the case's
    Aktenzeichen. ``rejected``: either rejected at the portal with a problem (technically
    broken, never a work item), or refused after receipt: one Ablehnungsbescheid sent, the
    letter archived, never in the back office. ``klaerfall``: received, not in the back
    office, no letter yet.
    """
    snap = snapshot(town)
    per_ref = snap.cases_per_ref
    v = Verdict()
    for sid, outcome in expected.items():
        sub = snap.submissions.get(sid)
        if sub is None:
            v.lost.append(f"{sid}: not in the portal")
            continue
        n_cases = per_ref.get(sid, 0)
        letters = snap.letters(sid)
        replies = snap.sent(sid)
        if any(not list(m.iter_attachments()) for m in letters):
            v.lost.append(f"{sid}: a letter mail without the letter attached")
        if n_cases > 1:
            v.duplicated.append(f"{sid}: {n_cases} cases")
        accepts = sub["eventCounts"].get("accept-submission", 0)
        rejects = sub["eventCounts"].get("reject-submission", 0)
        if accepts > 1 or rejects > 1 or replies > 1:
            v.duplicated.append(f"{sid}: events {sub['eventCounts']} letters {replies}")
        docs = _archived(snap, sid)
        if outcome == "done":
            if sub["state"] != "accepted" or n_cases != 1 or snap.sent(sid, "bescheid") != 1:
                v.lost.append(f"{sid}: {sub['state']}, {n_cases} cases, {replies} letters")
            elif not {f"{sid}-antrag", f"{sid}-bescheid"} <= docs:
                v.lost.append(f"{sid}: not archived ({sorted(docs)})")
        elif outcome == "rejected":
            if n_cases:
                v.wrong.append(f"{sid}: rejected but in the back office")
            elif sub["state"] == "accepted":
                if snap.sent(sid, "ablehnung") != 1 or f"{sid}-ablehnung" not in docs:
                    v.lost.append(f"{sid}: refused without letter ({replies} letters)")
            elif sub["state"] != "rejected" or replies:
                v.wrong.append(f"{sid}: {sub['state']} instead of rejected")
        elif outcome == "klaerfall":
            if sub["state"] != "accepted" or n_cases or replies:
                v.wrong.append(f"{sid}: Klärfall is {sub['state']} with {n_cases} cases")
        else:  # pragma: no cover - a typo in a test table
            raise AssertionError(outcome)
    return v


def _archived(snap: Snapshot, sid: str) -> set[str]:
    """Keys of the item's documents in any Akte."""
    return {
        d["key"]
        for akte in snap.akten.values()
        for d in akte.get("documents", [])
        if d["key"].startswith(f"{sid}-")
    }


@dataclass
class Drained:
    """The reports of the runs it took until the portal had nothing new left."""

    reports: list[dict[str, Any]]
    seconds: float

    @property
    def outcomes(self) -> dict[str, str]:
        """The last outcome per submission id over all runs."""
        out: dict[str, str] = {}
        for report in self.reports:
            for row in report["items"]:
                out[row["Vorgang"]] = row["Ergebnis"]
        return out

    @property
    def codes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for report in self.reports:
            for row in report["items"]:
                out[row["Vorgang"]] = row["Fehlercode"]
        return out

    @property
    def failed_runs(self) -> list[str]:
        return [r["error"] for r in self.reports if "error" in r]

    @property
    def failed_rows(self) -> int:
        return sum(report.get("failed", 0) for report in self.reports)


def run_until_drained(
    run: Callable[[], dict[str, Any]], max_runs: int, done: Callable[[], bool] | None = None
) -> Drained:
    """Call `run` until a run finds nothing to do (or `done()` holds), at most `max_runs` times."""
    start = time.monotonic()
    reports: list[dict[str, Any]] = []
    for _ in range(max_runs):
        try:
            report = run()
        except Exception as exc:  # noqa: BLE001 - a failed run is a finding, the loop goes on
            report = {"total": -1, "error": repr(exc), "items": []}
        reports.append(report)
        # items held at the source (encrypted to a key we lack) wait for an admin, not a run
        if report["total"] - report.get("held", 0) == 0 or (done is not None and done()):
            break
    return Drained(reports, time.monotonic() - start)


class Later(threading.Thread):
    """A background action: waits for `when()` (polled), then runs `action()` once."""

    def __init__(
        self, when: Callable[[], bool], action: Callable[[], None], poll_s: float = 0.5
    ) -> None:
        super().__init__(daemon=True, name="reliability-later")
        self.when = when
        self.action = action
        self.poll_s = poll_s
        self.fired = False
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                if self.when():
                    self.action()
                    self.fired = True
                    return
                self._halt.wait(self.poll_s)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)
