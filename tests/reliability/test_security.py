"""Security gaps not covered elsewhere: every receiver endpoint demands the receiver's token, and
no credential of the bots, the portal or the e-Akte sits in framework code or deployment files.

Token basics (wrong secret, missing and expired tokens), SETs with wrong signatures and forged or
replayed callbacks are tested in tests/sandbox/test_portal_api.py and
tests/connectors/test_portal_callbacks.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from sandbox.eakte import EakteConfig
from sandbox.portal import PortalConfig
from sandbox.steuer import SteuerConfig
from tests.fixtures.portal import PortalHandle

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = ("amtsbote", "bots", "connectors", "flows", "deployments")


def _receiver_calls(portal: PortalHandle, sid: str, case_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/v1/submissions?destinationId={portal.destination_id}"),
        ("GET", f"/v1/submissions/{sid}"),
        ("GET", f"/v1/submissions/{sid}/attachments/00000000-0000-4000-8000-000000000000"),
        ("POST", f"/v1/cases/{case_id}/events"),
    ]


@pytest.mark.parametrize("token", ["none", "forged", "sender"])
def test_receiver_endpoints_refuse_other_tokens(portal: PortalHandle, token: str) -> None:
    with portal.sender_client() as sender:
        ref = sender.submit_application({"owner": {}})
    headers = {
        "none": {},
        "forged": {"authorization": "Bearer " + "x" * 43},
        "sender": {"authorization": f"Bearer {portal.token(receiver=False)}"},
    }[token]
    for method, path in _receiver_calls(portal, ref["submissionId"], ref["caseId"]):
        resp = httpx.request(
            method,
            portal.base_url + path,
            headers={**headers, "content-type": "application/jose"},
            content=b"a.b.c" if method == "POST" else None,
        )
        expected = {403} if token == "sender" else {401}
        assert resp.status_code in expected, (method, path, resp.status_code)
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert portal.submission(ref["submissionId"])["state"] == "submitted"


def test_no_credential_in_framework_code_or_deployments() -> None:
    secrets = {
        *SteuerConfig().accounts.values(),
        PortalConfig().receiver_client_secret,
        PortalConfig().sender_client_secret,
        PortalConfig().callback_secret,
        PortalConfig().admin_token,
        EakteConfig().token,
        EakteConfig().admin_token,
    }
    files = subprocess.run(
        ["git", "ls-files", "--", *FRAMEWORK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert any(f.startswith("deployments/") for f in files)
    hits = []
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        hits += [f"{name}: a sandbox credential" for s in secrets if s in text]
    assert hits == []
