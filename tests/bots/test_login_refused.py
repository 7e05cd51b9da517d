"""A refused login stops the bot at once and is remembered: the back office never locks us out.

Real Chromium against a real Fachverfahren Steuern whose lockout knob is at 3 (three failed
logins in a row lock the account, as real back offices do). Each "run" is what a flow run
does: a fresh browser session, a fresh bot, the same data directory.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from amtsbote import AmtsboteError, ApplicationError, BusinessRuleError, LoginRefused
from bots import Bot, BotAccount, BrowserSession, BrowserSettings, RefusedLogins, RetryPolicy
from bots.steuer import SteuerBot, SteuerSettings
from tests.fixtures.steuer import SteuerServer

MakeSteuer = Callable[..., AbstractContextManager[SteuerServer]]
WRONG = "Falsch-Passwort-4711!"
# Retries as in production (4 attempts, fresh context and browser), without the waiting.
RETRY = RetryPolicy(backoff_base=0.0, jitter=0.0)


def one_run(
    playwright: Playwright,
    server: SteuerServer,
    accounts_dir: Path,
    password: str,
    *,
    account: str = "bot1",
    sleep: Callable[[float], None] = lambda _: None,
) -> SteuerBot:
    """Start a bot as a run would: its own browser, its own bot, the shared data dir."""
    session = BrowserSession(BrowserSettings(), handle_signals=False, playwright=playwright)
    session.start()
    bot = SteuerBot(
        session,
        SteuerSettings(base_url=server.base_url),
        BotAccount(username=account, password=password),
        evidence_dir=accounts_dir.parent / "evidence",
        retry=RETRY,
        sleep=sleep,
        refusals=RefusedLogins(accounts_dir),
    )
    try:
        bot.start()
    except BaseException:
        session.close()
        raise
    bot.close()
    session.close()
    return bot


def test_wrong_password_over_three_runs_never_locks_the_account(
    make_steuer: MakeSteuer, playwright_instance: Playwright, tmp_path: Path
) -> None:
    accounts_dir = tmp_path / "accounts"
    with make_steuer(lockout_after=3) as server:
        for run in (1, 2, 3):
            with pytest.raises(LoginRefused) as refused:
                one_run(playwright_instance, server, accounts_dir, WRONG)
            err = refused.value
            assert not isinstance(err, ApplicationError | BusinessRuleError)
            assert (err.account, err.code, err.system) == ("bot1", "login-refused", "steuer")
            assert "'bot1'" in str(err) and WRONG not in str(err) and WRONG not in repr(err)
            if run > 1:
                assert "gesperrt, bis das Passwort geändert wird" in str(err)
            state = server.account_state("bot1")
            # the back office saw exactly one attempt, in the first run, and no more
            assert (state["failed_total"], state["locked"]) == (1, False), run
        marker = accounts_dir / "steuer-bot1.refused"
        text = marker.read_text(encoding="utf-8")
        assert WRONG not in text and "bot1" in text and "login-refused" in text

        # the admin puts the right password into the settings: the marker no longer matches
        bot = one_run(playwright_instance, server, accounts_dir, server.accounts["bot1"])
        assert bot.logins == 1
        assert not marker.exists()
        state = server.account_state("bot1")
        assert (state["failed_logins"], state["failed_total"], state["locked"]) == (0, 1, False)


def test_locked_account_is_refused_once_and_waits_for_the_admin(
    make_steuer: MakeSteuer, playwright_instance: Playwright, tmp_path: Path
) -> None:
    accounts_dir = tmp_path / "accounts"
    with make_steuer(lockout_after=1) as server:
        right = server.accounts["bot2"]
        with pytest.raises(LoginRefused):
            one_run(playwright_instance, server, accounts_dir, WRONG, account="bot2")
        assert server.account_state("bot2")["locked"]
        # somebody else fixed the password setting, but the account is still locked
        with pytest.raises(LoginRefused) as refused:
            one_run(playwright_instance, server, accounts_dir, right, account="bot2")
        assert refused.value.code == "account-locked"
        assert "Konto gesperrt" in str(refused.value) and right not in str(refused.value)
        assert server.account_state("bot2")["failed_total"] == 2
        # the admin unlocks it in the back office; the marker still holds this password
        server.unlock("bot2")
        with pytest.raises(LoginRefused) as refused:
            one_run(playwright_instance, server, accounts_dir, right, account="bot2")
        assert refused.value.code == "account-locked"
        assert "steuer-bot2.refused" in str(refused.value)
        assert server.account_state("bot2")["failed_total"] == 2  # not contacted
        # … so the admin deletes the marker, as the message says
        assert RefusedLogins(accounts_dir).clear("steuer", "bot2")
        assert one_run(playwright_instance, server, accounts_dir, right, account="bot2").logins
        assert server.account_state("bot2")["failed_logins"] == 0


def test_maintenance_at_login_is_still_retried(
    make_steuer: MakeSteuer, playwright_instance: Playwright, tmp_path: Path
) -> None:
    with make_steuer() as server:
        server.set_faults(maintenance=True)
        waits: list[float] = []

        def sleep(seconds: float) -> None:  # the backoff: the maintenance ends meanwhile
            waits.append(seconds)
            server.set_faults(maintenance=False)

        bot = one_run(
            playwright_instance, server, tmp_path / "accounts", server.accounts["bot3"],
            account="bot3", sleep=sleep,
        )  # fmt: skip
        assert len(waits) == 1 and bot.logins == 1
        assert not (tmp_path / "accounts").exists()  # nothing refused, nothing remembered


def test_unreadable_marker_blocks_instead_of_trying_blindly(tmp_path: Path) -> None:
    from pydantic import SecretStr

    refusals = RefusedLogins(tmp_path)
    refusals.path("steuer", "bot1").write_text("kaputt", encoding="utf-8")
    with pytest.raises(LoginRefused) as refused:
        refusals.check("steuer", "bot1", SecretStr("irgendwas"))
    assert refused.value.account == "bot1"
    assert isinstance(refused.value, AmtsboteError)
    # a changed password clears a readable marker; the same one keeps it
    refusals.record("steuer", "bot2", SecretStr("alt"), LoginRefused("nein", account="bot2"))
    with pytest.raises(LoginRefused):
        refusals.check("steuer", "bot2", SecretStr("alt"))
    refusals.check("steuer", "bot2", SecretStr("neu"))
    assert not refusals.path("steuer", "bot2").exists()


class RefusingBot(Bot):
    """A bot whose back office refuses every login (counts the attempts)."""

    system = "demo"
    attempts = 0

    def login(self) -> None:
        type(self).attempts += 1
        raise LoginRefused("Anmeldung abgelehnt.", account=self.account.username)


def test_every_login_path_checks_the_marker_and_no_item_takes_the_blame(
    bot_session: BrowserSession, tmp_path: Path
) -> None:
    def bot() -> RefusingBot:
        return RefusingBot(
            bot_session,
            "http://127.0.0.1:9",
            BotAccount(username="svc", password="geheim-123"),
            evidence_dir=tmp_path / "evidence",
            retry=RETRY,
            sleep=lambda _: None,
            refusals=RefusedLogins(tmp_path / "accounts"),
        )

    # no start(): the item opens the context and logs in by itself
    with pytest.raises(LoginRefused):
        bot().run_item("item-1", lambda: "nie")
    with pytest.raises(LoginRefused) as refused:
        bot().run_item("item-2", lambda: "nie")
    assert RefusingBot.attempts == 1
    assert "bis das Passwort geändert wird" in str(refused.value)
    assert not (tmp_path / "evidence").exists()  # the account failed, not the items
