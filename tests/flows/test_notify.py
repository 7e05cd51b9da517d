"""A Klärfall mails the clerks a link to the waiting run — ids only, over real SMTP."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from structlog.testing import capture_logs

from flows.engine import Services
from tests.fixtures.smtp import SmtpServer


def test_klaerfall_mail_has_link_and_no_personal_data(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMTSBOTE_MAIL_HOST", smtp_server.host)
    monkeypatch.setenv("AMTSBOTE_MAIL_PORT", str(smtp_server.port))
    fake = SimpleNamespace(
        settings=SimpleNamespace(clerk_email="steueramt@musterstadt.example"),
        process=SimpleNamespace(title="Hundesteuer"),
    )
    Services.notify_review(
        fake,  # type: ignore[arg-type]
        "sub-123",
        "taxpayer-address-differs",
        "run-456",
    )
    (msg,) = smtp_server.messages
    body = msg.get_content()
    assert msg["To"] == "steueramt@musterstadt.example"
    assert "sub-123" in msg["Subject"]
    assert "/runs/flow-run/run-456" in body and "taxpayer-address-differs" in body


def test_no_address_no_mail(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMTSBOTE_MAIL_PORT", str(smtp_server.port))
    Services.notify_review(
        SimpleNamespace(
            settings=SimpleNamespace(clerk_email=None), process=SimpleNamespace(title="Hundesteuer")
        ),
        "s",
        "c",
        "r",
    )  # type: ignore[arg-type]
    assert smtp_server.messages == []


def test_unreachable_mail_server_does_not_fail_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMTSBOTE_MAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("AMTSBOTE_MAIL_PORT", "9")  # discard port: nothing listens
    fake = SimpleNamespace(
        settings=SimpleNamespace(clerk_email="a@musterstadt.example"),
        process=SimpleNamespace(title="Hundesteuer"),
    )
    with capture_logs() as logs:
        Services.notify_review(fake, "sub-1", "code", "run-1")  # type: ignore[arg-type]
    (failed,) = [e for e in logs if e["event"] == "clerk notification failed"]
    assert failed["item_key"] == "sub-1" and failed["log_level"] == "error"
