"""One bot per worker thread, as the flow runs them: each thread has its own Playwright."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bots import BotAccount, BrowserSession, BrowserSettings
from bots.steuer import Registration, SteuerBot, SteuerSettings
from tests.fixtures.bots import make_application


def test_two_bots_in_two_threads(make_steuer: Any, tmp_path: Path) -> None:
    apps = [make_application() for _ in range(4)]
    results: dict[str, Registration] = {}
    errors: list[BaseException] = []

    def worker(account: str, batch: list[Any], server: Any) -> None:
        try:
            with (
                BrowserSession(BrowserSettings()) as session,
                SteuerBot(
                    session,
                    SteuerSettings(base_url=server.base_url),
                    BotAccount(username=account, password=server.accounts[account]),
                    evidence_dir=tmp_path,
                ) as bot,
            ):
                for app in batch:
                    results[app.reference] = bot.register(app)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    with make_steuer() as server:
        threads = [
            threading.Thread(target=worker, args=("bot1", apps[:2], server)),
            threading.Thread(target=worker, args=("bot2", apps[2:], server)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        export = server.export()
    assert not errors, errors
    assert all(r.created for r in results.values()) and len(results) == 4
    assert sorted(c["fremdreferenz"] for c in export["cases"]) == sorted(a.reference for a in apps)
    assert {c["created_by"] for c in export["cases"]} == {"bot1", "bot2"}
    assert export["sessions"]["current"] == 0  # both bots logged out on close
