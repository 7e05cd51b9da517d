"""The bot core against small pages served here: session lifecycle, modals, tabs, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Playwright

from amtsbote import ApplicationError
from bots import (
    Bot,
    BotAccount,
    BrowserNotFound,
    BrowserSession,
    BrowserSettings,
    PageObject,
    RetryPolicy,
)
from sandbox._common import serve_in_thread

_MODAL = """<!doctype html><html lang=de><body>
<h1>Demo</h1><p>Zähler: <output id=o>0</output></p>
<button onclick="document.getElementById('o').textContent++">Zählen</button>
<div id=ov style="position:fixed;inset:0;background:rgba(0,0,0,.5)">
<div role=dialog aria-labelledby=t><h2 id=t>Hinweis</h2><p>Wartungsarbeiten.</p>
<button onclick="document.getElementById('ov').remove()">OK</button></div></div>
</body></html>"""

_TABS = """<!doctype html><html lang=de><body><h1>Tabs</h1>
<div role=tablist><button role=tab id=ta aria-controls=pa onclick="show('a')">Hund</button>
<button role=tab id=tb aria-controls=pb onclick="show('b')">Zahlung</button></div>
<div role=tabpanel id=pa aria-labelledby=ta><label for=x1>Name des Hundes</label><input id=x1></div>
<div role=tabpanel id=pb aria-labelledby=tb hidden><label for=x2>IBAN</label><input id=x2></div>
<script>function show(n){for (const k of ['a','b']) document.getElementById('p'+k).hidden = k!==n}
</script></body></html>"""


def _app() -> FastAPI:
    app = FastAPI()
    app.get("/modal")(lambda: HTMLResponse(_MODAL))
    app.get("/tabs")(lambda: HTMLResponse(_TABS))
    app.get("/down")(lambda: HTMLResponse("<h1>Fehler 503 – Dienst nicht verfügbar</h1>", 503))
    return app


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with serve_in_thread(_app()) as served:
        yield served.base_url


class DemoBot(Bot):
    """A bot whose system needs no login."""

    def login(self) -> None:
        pass


class TabsPage(PageObject):
    screen = "Tabs"

    def __init__(self, page: object) -> None:
        super().__init__(page)  # type: ignore[arg-type]
        self.dog = self.page.get_by_label("Name des Hundes", exact=True)
        self.iban = self.page.get_by_label("IBAN", exact=True)


def _bot(session: BrowserSession, url: str, tmp_path: Path, **kw: object) -> DemoBot:
    return DemoBot(
        session,
        url,
        BotAccount(username="demo", password="x"),
        evidence_dir=tmp_path,
        run_id="r1",
        retry=RetryPolicy(attempts=2, backoff_base=0.01, jitter=0),
        **kw,  # type: ignore[arg-type]
    )


def test_modal_notice_is_clicked_away_whenever_it_blocks(
    bot_session: BrowserSession, demo_url: str, tmp_path: Path
) -> None:
    with _bot(bot_session, demo_url, tmp_path) as bot:
        bot.goto("/modal")
        button = bot.page.get_by_role("button", name="Zählen")
        bot.step("zählen", lambda: button.click(timeout=3_000))
        bot.step("zählen", lambda: button.click(timeout=3_000))
        assert bot.page.locator("output").inner_text() == "2"
        assert bot.page.get_by_role("dialog", name="Hinweis").count() == 0


def test_reveal_clicks_the_tab_whose_panel_holds_the_field(
    bot_session: BrowserSession, demo_url: str, tmp_path: Path
) -> None:
    with _bot(bot_session, demo_url, tmp_path) as bot:
        bot.goto("/tabs")
        tabs = TabsPage(bot.page)
        assert not tabs.iban.is_visible()
        tabs.fill(tabs.iban, "DE02120300000000202051")
        assert tabs.iban.is_visible() and not tabs.dog.is_visible()
        tabs.fill(tabs.dog, "Bello")
        assert tabs.dog.input_value() == "Bello"
        assert tabs.iban.input_value() == "DE02120300000000202051"


def test_http_5xx_page_is_an_application_error_with_evidence(
    bot_session: BrowserSession, demo_url: str, tmp_path: Path
) -> None:
    with _bot(bot_session, demo_url, tmp_path) as bot, pytest.raises(ApplicationError) as info:
        bot.run_item("sub-503", lambda: bot.goto("/down"))
    assert info.value.code == "http-503"
    folder = info.value.evidence_dir  # type: ignore[attr-defined]
    assert folder == tmp_path / "r1" / "sub-503"
    assert sorted(p.name for p in folder.iterdir()) == [
        "sub-503-page.html",
        "sub-503-screenshot.png",
        "sub-503-trace.zip",
    ]


def test_network_error_is_translated(bot_session: BrowserSession, tmp_path: Path) -> None:
    with serve_in_thread(_app()) as served:
        url = served.base_url
    bot = _bot(bot_session, url, tmp_path, trace=False)  # nothing listens there any more
    with pytest.raises(ApplicationError) as info:
        bot.run_item("sub-net", lambda: bot.goto("/modal"))
    bot.close()
    assert info.value.code == "network-err_connection_refused"


def test_missing_browser_names_the_debian_package() -> None:
    session = BrowserSession(BrowserSettings(executable_path=Path("/nonexistent/chromium")))
    with pytest.raises(BrowserNotFound) as info:
        session.start()
    assert "chromium" in info.value.message and "apt-get install" in info.value.message
    session.close()


def test_crashed_browser_is_detected_and_restarted(
    playwright_instance: Playwright, demo_url: str, tmp_path: Path
) -> None:
    session = BrowserSession(handle_signals=False, playwright=playwright_instance)
    session.start()
    try:
        bot = _bot(session, demo_url, tmp_path)
        assert bot.run_item("a", lambda: bot.goto("/tabs") is not None)
        session.browser.close()  # the browser dies between two items
        assert not session.is_alive()
        assert bot.run_item("b", lambda: bot.page.goto(demo_url + "/tabs").status) == 200
        assert session.launches == 2 and session.is_alive()
        bot.close()
    finally:
        session.close()
    assert not session.is_alive()


def test_sigterm_closes_browser_and_playwright(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, signal, time
        from bots import BrowserSession
        session = BrowserSession()
        try:
            with session:
                session.new_context().new_page().goto("about:blank")
                print("ready", session.is_alive(), flush=True)
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(30)
        finally:
            print("closed", session.is_alive(), session._playwright is None, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("ready", "closed"))]
    assert lines == ["ready True", "closed False True"], done.stderr
    assert done.returncode == 128 + 15
