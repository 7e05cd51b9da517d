"""`amtsbote draft-page`: drafts of every Steuern screen (v1, v2) import and pass the canary.

Real Chromium against the sandbox back office: each screen is drafted from the live page
(logged in through the system's login page), the drafted module is imported from a file, its
class is instantiated on the live screen and checked like the canary checks; the draft must
resolve every locator the hand-written page objects of ``bots.steuer.pages`` rely on.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bots import BrowserSession, PageObject, check_screen, ensure_loaded
from bots._draft import draft_page
from bots.steuer import draft_login
from bots.steuer.pages import (
    CaseFormPage,
    LoginPage,
    StartPage,
    TaxpayerFormPage,
    TaxpayerPage,
    TaxpayerSearchPage,
)
from tests.fixtures.bots import make_application

_ROOT = Path(__file__).resolve().parents[2]


def _load(source: str, path: Path) -> type[PageObject]:
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [
        c for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, PageObject) and c is not PageObject
    ]  # fmt: skip
    assert len(classes) == 1, classes
    return classes[0]


def _case_url(bot: Any) -> str:
    search = TaxpayerSearchPage(bot.page)
    bot.goto(TaxpayerSearchPage.path)
    search.submit_form(search.search_button)
    href = bot.page.get_by_role("link", name="Auswählen", exact=True).first.get_attribute("href")
    bot.goto(href or "")
    return TaxpayerPage(bot.page).new_case_url()


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_drafts_of_every_screen_pass_the_canary_and_cover_the_pages(
    layout: str, steuer_faults: Any, make_bot: Any, bot_session: BrowserSession, tmp_path: Path
) -> None:
    steuer_faults.set_faults(layout=layout)
    bot = make_bot(steuer_faults)
    bot.register(make_application())  # a taxpayer whose case form can be opened
    screens: list[tuple[type[PageObject], str]] = [
        (LoginPage, LoginPage.path),
        (StartPage, StartPage.path),
        (TaxpayerSearchPage, TaxpayerSearchPage.path),
        (TaxpayerFormPage, TaxpayerFormPage.path),
        (CaseFormPage, _case_url(bot)),
    ]
    account = ("bot1", steuer_faults.accounts["bot1"])
    for hand_written, path in screens:
        url = bot.url(path)
        logged_in = hand_written is not LoginPage
        source = draft_page(
            bot_session, url, account=account if logged_in else None, login=draft_login
        )
        assert "get_by_test_id" not in source and ".nth(" not in source and "#ctl" not in source
        drafted = _load(source, tmp_path / f"draft_{layout}_{hand_written.__name__}.py")
        # Named by its heading (the hand-written pages list their heading among the locators).
        assert drafted.screen in set(hand_written(bot.page).required_locators())
        if logged_in:
            page = bot.page
            bot.goto(path)
        else:
            context = bot_session.new_context()
            page = context.new_page()
            page.goto(url, wait_until="domcontentloaded")
        draft = drafted(page)
        ensure_loaded(draft)
        check = check_screen(draft)
        assert check.ok, (hand_written.__name__, check.missing)
        expected = set(hand_written(page).required_locators())
        assert expected <= set(draft.required_locators()), (
            hand_written.__name__,
            expected - set(draft.required_locators()),
        )
        if not logged_in:
            context.close()


def test_draft_guesses_personal_fields(
    steuer: Any, make_bot: Any, bot_session: BrowserSession, tmp_path: Path
) -> None:
    bot = make_bot(steuer)
    source = draft_page(
        bot_session,
        bot.url(TaxpayerFormPage.path),
        account=("bot1", steuer.accounts["bot1"]),
        login=draft_login,
    )
    drafted = _load(source, tmp_path / "draft_taxpayer_form.py")
    assert drafted.login_heading == LoginPage(bot.page).login_heading
    bot.goto(TaxpayerFormPage.path)
    draft = drafted(bot.page)
    required = draft.required_locators()
    personal = {label for label, loc in required.items() if loc in draft.personal_fields()}
    assert personal == {
        "Nachname", "Vorname", "Geburtsdatum", "Straße und Hausnummer", "Postleitzahl", "Ort",
        "E-Mail",
    }  # fmt: skip
    assert "# Input method: fill" in source
    ruff = Path(sys.executable).parent / "ruff"
    if ruff.exists():  # the draft is code a project can check in as it is
        lint = [str(ruff), "check", "--select", "E,F,W,I,B,UP", "--line-length", "100"]
        checked = subprocess.run(
            [*lint, str(tmp_path / "draft_taxpayer_form.py")], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout


def test_cli_writes_a_draft_logged_in_with_the_password_from_the_environment(
    steuer: Any, tmp_path: Path
) -> None:
    out = tmp_path / "draft_search.py"
    env = {
        **os.environ,
        "PYTHONPATH": str(_ROOT),
        "AMTSBOTE_DRAFT_PASSWORD": steuer.accounts["bot1"],
    }
    result = subprocess.run(
        [sys.executable, "-m", "flows", "draft-page", f"{steuer.base_url}/steuerpflichtige",
         "--login-as", "bot1", "--system", "steuer", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=120, cwd=_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert steuer.accounts["bot1"] not in result.stdout + result.stderr
    source = out.read_text(encoding="utf-8")
    assert "class SteuerpflichtigeSuchenPage(PageObject):" in source
    assert 'self.nachname = page.get_by_label("Nachname", exact=True)' in source.replace("'", '"')
    env.pop("AMTSBOTE_DRAFT_PASSWORD")
    refused = subprocess.run(
        [sys.executable, "-m", "flows", "draft-page", f"{steuer.base_url}/start",
         "--login-as", "bot1"],
        env=env, capture_output=True, text=True, timeout=120, cwd=_ROOT,
    )  # fmt: skip
    assert refused.returncode == 2 and "AMTSBOTE_DRAFT_PASSWORD" in refused.stderr


_OUTER = """<!doctype html><html lang="de"><head><title>Meldewesen</title></head><body>
<h1>Meldewesen</h1><iframe name="inhalt" src="/inhalt"></iframe></body></html>"""
_INNER = """<!doctype html><html lang="de"><head><title>Suche</title></head><body>
<h1>Personensuche</h1>
<label for="a17">Familienname</label><input id="a17" onkeyup="void 0">
<label for="b3">Geburtsdatum</label><input id="b3">
<table><tr><td>Ohne Label</td><td><input></td></tr></table>
<button>Suchen</button></body></html>"""


def test_draft_of_a_screen_in_a_frame(bot_session: BrowserSession, tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from sandbox._common import serve_in_thread

    app = FastAPI()
    app.get("/")(lambda: HTMLResponse(_OUTER))
    app.get("/inhalt")(lambda: HTMLResponse(_INNER))
    with serve_in_thread(app) as served:
        url = f"http://127.0.0.1:{served.port}/"
        source = draft_page(bot_session, url, frame="inhalt")
        drafted = _load(source, tmp_path / "draft_framed.py")
        assert drafted.screen == "Personensuche"
        assert "self.root.get_by_label" in source and "key handlers" in source
        # The field without an associated label is drafted by the text of its label cell.
        assert 'self.labelled("Ohne Label", within=self.root)' in source
        assert "without a label" not in source
        context = bot_session.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            page.frame_locator('[name="inhalt"]').get_by_role("heading").wait_for()
            draft = drafted(page)
            ensure_loaded(draft)
            check = check_screen(draft)
            assert check.ok, check.missing
            assert set(draft.required_locators()) == {
                "Personensuche", "Familienname", "Geburtsdatum", "Ohne Label", "Suchen",
            }  # fmt: skip
            with pytest.raises(ValueError, match="Kein Frame"):
                draft_page(bot_session, url, frame="fehlt")
        finally:
            context.close()


def test_draft_of_the_legacy_screen_resolves_every_field_of_the_hand_written_page(
    bot_session: BrowserSession, tmp_path: Path
) -> None:
    """Label cells, a label above, a checkbox text on the right, image buttons, a postback link:
    the draft finds each control of the legacy form (frame "inhalt", ISO-8859-1) by its text,
    and those are the controls the hand-written legacy page object uses."""
    from tests.fixtures.legacy import serve_legacy

    with serve_legacy() as served:
        url = served.base_url + "/"
        source = draft_page(bot_session, url, frame="inhalt")
        drafted = _load(source, tmp_path / "draft_legacy.py")
        assert drafted.screen == "Antrag erfassen"
        assert "without a label" not in source  # every field is named by the text beside it
        context = bot_session.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            draft = drafted(page)
            ensure_loaded(draft)
            check = check_screen(draft)
            assert check.ok, check.missing
            found = {label.lower() for label in draft.required_locators()}
            wanted = {
                "familienname", "straße", "gebührenschlüssel", "bemerkung",
                "ermäßigung beantragt", "gebührenschlüssel suchen", "speichern", "prüfen",
            }  # fmt: skip
            assert wanted <= found, sorted(found)
            # Each drafted field is the control the hand-written page object fills.
            fields = {
                label.lower(): loc
                for label, loc in draft.required_locators().items()
                if label.lower() in {"familienname", "straße", "bemerkung"}
            }
            names = {label: loc.get_attribute("name") for label, loc in fields.items()}
            assert names == {
                "familienname": "ctl00$txt1", "straße": "ctl00$txt2", "bemerkung": "ctl00$txt4",
            }  # fmt: skip
        finally:
            context.close()
