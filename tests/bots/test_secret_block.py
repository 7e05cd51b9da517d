"""A bot account's password can come from a Prefect Secret block (loaded only when needed)."""

from __future__ import annotations

import pytest

from bots import BotAccount, BrowserSession


@pytest.mark.slow
def test_password_from_prefect_secret_block(
    monkeypatch: pytest.MonkeyPatch, bot_session: BrowserSession
) -> None:
    # bot_session: a sync Playwright (and its event loop) runs in this thread, as in a bot.
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        Secret(value="bot1-Musterstadt!").save("steuer-bot1", overwrite=True, _sync=True)
        monkeypatch.setenv("AMTSBOTE_STEUER_USERNAME", "bot1")
        monkeypatch.setenv("AMTSBOTE_STEUER_PASSWORD_BLOCK", "steuer-bot1")
        account = BotAccount()
        assert account.password is None  # nothing loaded before it is needed
        assert account.secret().get_secret_value() == "bot1-Musterstadt!"
        direct = BotAccount.from_secret_block("bot1", "steuer-bot1")
        assert direct.secret().get_secret_value() == "bot1-Musterstadt!"
        assert "Musterstadt" not in repr(direct)
        assert bot_session.is_alive()
