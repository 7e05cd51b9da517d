"""Unit tests of the bots' pure logic: retry policy, error translation, amounts, keys, settings."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pydantic import SecretStr

from amtsbote import ApplicationError, is_retryable
from bots import (
    DEFAULT_CHROMIUM,
    BotAccount,
    BrowserSettings,
    Recovery,
    RetryPolicy,
    Row,
    SessionExpired,
    header_key,
    safe_key,
    translate_playwright_error,
)
from bots.steuer import parse_amount


def test_retry_policy_escalates_context_then_browser() -> None:
    policy = RetryPolicy()
    assert [policy.recovery(n) for n in (1, 2, 3, 4)] == [
        Recovery.NONE,
        Recovery.NEW_CONTEXT,
        Recovery.NEW_BROWSER,
        Recovery.NEW_BROWSER,
    ]
    assert [policy.should_retry(n) for n in (1, 2, 3, 4)] == [True, True, True, False]


def test_retry_policy_backoff_grows_is_capped_and_jittered() -> None:
    policy = RetryPolicy(backoff_base=1, backoff_factor=3, backoff_max=5, jitter=0)
    assert [policy.delay(n) for n in (0, 1, 2, 3)] == [0.0, 1.0, 3.0, 5.0]
    jittered = RetryPolicy(backoff_base=1, jitter=0.5)
    delays = {jittered.delay(1, random.Random(seed)) for seed in range(20)}
    assert len(delays) > 1
    assert all(0.5 <= d <= 1.5 for d in delays)


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"jitter": 2}, {"backoff_factor": 0.5}, {"backoff_base": -1}]
)
def test_retry_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (PlaywrightTimeoutError("Timeout 100ms exceeded."), "timeout"),
        (
            PlaywrightError("net::ERR_CONNECTION_REFUSED at http://x/"),
            "network-err_connection_refused",
        ),
        (PlaywrightError("Target crashed"), "browser-crashed"),
        (PlaywrightError("Target page, context or browser has been closed"), "browser-crashed"),
        (PlaywrightError("something else"), "browser-error"),
    ],
)
def test_playwright_errors_become_retryable_application_errors(
    exc: PlaywrightError, code: str
) -> None:
    translated = translate_playwright_error(exc, step="s")
    assert isinstance(translated, ApplicationError)
    assert translated.code == code
    assert is_retryable(translated)


def test_session_expired_is_retryable() -> None:
    assert is_retryable(SessionExpired("x"))
    assert SessionExpired("x").code == "session-expired"


@pytest.mark.parametrize(
    ("text", "amount"),
    [("120,00", "120.00"), ("1.234,56", "1234.56"), ("600,00 €", "600.00"), ("0,00", "0.00")],
)
def test_parse_amount_reads_german_decimal_comma(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


def test_parse_amount_rejects_garbage() -> None:
    with pytest.raises(ApplicationError) as info:
        parse_amount("n/a")
    assert info.value.code == "unreadable-amount"


def test_safe_key_keeps_ids_and_strips_path_tricks() -> None:
    assert safe_key("sub-1234_ab.c") == "sub-1234_ab.c"
    assert "/" not in safe_key("../../etc/passwd")
    assert safe_key("") == "item"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMTSBOTE_BROWSER_EXECUTABLE_PATH", "/opt/chromium")
    monkeypatch.setenv("AMTSBOTE_BROWSER_HEADLESS", "false")
    monkeypatch.setenv("AMTSBOTE_STEUER_USERNAME", "bot7")
    monkeypatch.setenv("AMTSBOTE_STEUER_PASSWORD", "geheim")
    browser = BrowserSettings()
    account = BotAccount()
    assert str(browser.executable_path) == "/opt/chromium"
    assert browser.headless is False
    assert "--disable-gpu" in browser.args
    assert account.username == "bot7"
    assert account.secret().get_secret_value() == "geheim"
    assert "geheim" not in repr(account)


def test_account_without_password_says_so() -> None:
    with pytest.raises(ValueError, match="no password"):
        BotAccount(username="bot9", password=None).secret()
    assert BotAccount(username="b", password=SecretStr("p")).secret().get_secret_value() == "p"


def test_headless_runs_the_headless_shell_when_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shell = tmp_path / "chromium-headless-shell"
    monkeypatch.setattr("bots._settings.DEFAULT_HEADLESS_SHELL", str(shell))
    assert BrowserSettings().binary() == Path(DEFAULT_CHROMIUM)  # not installed
    shell.write_text("#!/bin/sh\n")
    shell.chmod(0o755)
    assert BrowserSettings().binary() == shell
    assert BrowserSettings(headless=False).binary() == Path(DEFAULT_CHROMIUM)  # needs a window
    assert BrowserSettings(executable_path=Path("/opt/c")).binary() == Path("/opt/c")


def test_retry_policy_per_back_office_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from bots.steuer import SteuerSettings

    assert SteuerSettings().retry == RetryPolicy()
    monkeypatch.setenv("AMTSBOTE_STEUER_RETRY", '{"attempts": 6, "backoff_base": 1.5}')
    policy = SteuerSettings().retry
    assert (policy.attempts, policy.backoff_base, policy.fresh_browser_after) == (6, 1.5, 3)
    monkeypatch.setenv("AMTSBOTE_STEUER_RETRY", '{"attempts": 0}')
    with pytest.raises(ValidationError, match="attempts must be at least 1"):
        SteuerSettings()


def test_row_matches_headers_as_a_person_reads_them() -> None:
    row = Row.of(["AKTENZEICHEN:", " Jahressteuer (EUR) ", "Status*"], [" HU-1 ", "96,00", "aktiv"])
    assert row == {"AKTENZEICHEN:": "HU-1", "Jahressteuer (EUR)": "96,00", "Status*": "aktiv"}
    assert row["Aktenzeichen"] == "HU-1" and row["jahressteuer  (eur)"] == "96,00"
    assert row.get("Status") == "aktiv" and row.get("Fremdreferenz") is None
    assert header_key("Fall\u00a0anlegen:") == "fall anlegen"
    with pytest.raises(KeyError):
        row["Aktenzeichen alt"]
