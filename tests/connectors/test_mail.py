"""Mailer against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from amtsbote import ApplicationError
from connectors.mail import Mailer, MailSettings, reason_text, review_notice
from tests.fixtures.smtp import SmtpServer, login_checker, run_smtp


def mailer_for(server: SmtpServer, **overrides: object) -> Mailer:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "sender": "amtsbote@musterstadt.example",
    }
    values.update(overrides)
    return Mailer(MailSettings(**values))  # type: ignore[arg-type]


def test_notify_round_trip(smtp_server: SmtpServer) -> None:
    mailer = mailer_for(smtp_server)
    subject, body = review_notice(
        reference="fda19f5f-cfe3-4f15-bcc4-92ccd088d0ec",
        reason_code="archive-conflict",
        review_url="http://127.0.0.1:4200/runs/flow-run/1234",
    )
    message_id = mailer.notify("sachbearbeitung@musterstadt.example", subject, body)

    (msg,) = smtp_server.messages
    assert msg["Message-ID"] == message_id
    assert msg["From"] == "amtsbote@musterstadt.example"
    assert msg["To"] == "sachbearbeitung@musterstadt.example"
    assert msg["Subject"] == "Klärfall Hundesteuer: fda19f5f-cfe3-4f15-bcc4-92ccd088d0ec"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    text = msg.get_content()
    assert "archive-conflict" in text and "http://127.0.0.1:4200/runs/flow-run/1234" in text
    assert "abweichende Unterlagen (archive-conflict)" in text  # the clerk reads why, not a code
    assert "Prüfung" in text  # umlauts survive the trip
    assert smtp_server.envelopes == [
        ("amtsbote@musterstadt.example", ["sachbearbeitung@musterstadt.example"])
    ]


def test_several_recipients_and_default(smtp_server: SmtpServer) -> None:
    mailer = mailer_for(smtp_server, default_to=["admin@musterstadt.example"])
    mailer.notify(["a@musterstadt.example", "b@musterstadt.example"], "Lauf fehlgeschlagen", "x")
    mailer.notify([], "Lauf fehlgeschlagen", "y")
    assert [rcpts for _, rcpts in smtp_server.envelopes] == [
        ["a@musterstadt.example", "b@musterstadt.example"],
        ["admin@musterstadt.example"],
    ]


def test_header_injection_is_refused(smtp_server: SmtpServer) -> None:
    mailer = mailer_for(smtp_server)
    with pytest.raises(ValueError):
        mailer.notify("a@musterstadt.example", "Klärfall\r\nBcc: evil@example.org", "x")
    with pytest.raises(ValueError):
        mailer.notify([], "no recipient", "x")
    assert smtp_server.messages == []


def test_unreachable_server_is_retryable() -> None:
    mailer = Mailer(MailSettings(host="127.0.0.1", port=9, timeout_s=2))
    with pytest.raises(ApplicationError) as info:
        mailer.notify("a@musterstadt.example", "s", "b")
    assert info.value.code == "mail-unreachable"


@pytest.fixture
def smtp_with_login() -> Iterator[SmtpServer]:
    with warnings.catch_warnings():
        # aiosmtpd warns that AUTH without TLS is unsafe; on loopback in a test it is intended
        warnings.simplefilter("ignore", UserWarning)
        with run_smtp(
            authenticator=login_checker("bot", "s3cret"),
            auth_require_tls=False,
            auth_required=True,
        ) as server:
            yield server


def test_login(smtp_with_login: SmtpServer) -> None:
    good = mailer_for(smtp_with_login, username="bot", password=SecretStr("s3cret"))
    good.notify("a@musterstadt.example", "s", "b")
    assert len(smtp_with_login.messages) == 1

    bad = mailer_for(smtp_with_login, username="bot", password=SecretStr("wrong"))
    with pytest.raises(ApplicationError) as info:
        bad.notify("a@musterstadt.example", "s", "b")
    assert info.value.code == "mail-auth"

    anonymous = mailer_for(smtp_with_login)
    with pytest.raises(ApplicationError) as refused:
        anonymous.notify("a@musterstadt.example", "s", "b")
    assert refused.value.code in {"mail-error", "mail-recipient-refused"}
    assert len(smtp_with_login.messages) == 1


def test_review_notice_names_the_process_and_keeps_unknown_codes() -> None:
    subject, body = review_notice(
        reference="SP-2026-0001",
        reason_code="pickup-date-taken",
        review_url="http://127.0.0.1:4200/runs/flow-run/1",
        process="Sperrmüll",
    )
    assert subject == "Klärfall Sperrmüll: SP-2026-0001"
    assert "Grund:   pickup-date-taken\n" in body
    assert reason_text("approval-declined").endswith("(approval-declined)")
