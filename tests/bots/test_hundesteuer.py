"""The Hundesteuer bot against the sandbox Fachverfahren Steuern (real Chromium, no mocks)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.sync_api import Route

from amtsbote import ApplicationError, BusinessRuleError, LoginRefused, ReviewRequired
from bots import CanaryFailed, RetryPolicy
from bots.steuer import SteuerBot
from bots.steuer.pages import CaseFormPage
from tests.fixtures.bots import make_application

MakeBot = Callable[..., SteuerBot]


def _cases(server: Any, reference: str) -> list[dict[str, Any]]:
    return [c for c in server.export()["cases"] if c["fremdreferenz"] == reference]


def test_new_taxpayer_and_case_are_entered_with_every_field(steuer: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer)
    app = make_application(breed="DACK")
    before = len(steuer.export()["taxpayers"])
    reg = bot.register(app)
    assert reg.created and reg.reference == app.reference
    assert re.fullmatch(r"HSt-\d{4}-\d{6}", reg.aktenzeichen)
    assert reg.tax_amount == Decimal("120.00") and reg.taxpayer_number
    export = steuer.export()
    assert len(export["taxpayers"]) == before + 1
    [case] = _cases(steuer, app.reference)
    flat = repr(case)
    for value in (app.dog.chip_number, app.sepa_mandate.iban, "DACK", app.dog.name):
        assert value in flat
    assert f"Portal-Antrag {app.case_id}" in flat
    assert case["aktenzeichen"] == reg.aktenzeichen


def test_existing_taxpayer_is_reused_and_second_dog_costs_more(
    steuer: Any, make_bot: MakeBot
) -> None:
    bot = make_bot(steuer)
    first = make_application()
    second = make_application().model_copy(update={"owner": first.owner})
    one = bot.register(first)
    taxpayers = len(steuer.export()["taxpayers"])
    two = bot.register(second)
    assert two.created and two.taxpayer_number == one.taxpayer_number
    assert two.tax_amount == Decimal("180.00")
    assert len(steuer.export()["taxpayers"]) == taxpayers


def test_taxpayer_with_other_address_goes_to_a_clerk(steuer: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer)
    first = make_application()
    bot.register(first)
    moved = first.owner.model_copy(update={"street": "Andere Straße", "house_number": "99"})
    second = make_application().model_copy(update={"owner": moved})
    with pytest.raises(ReviewRequired) as info:
        bot.register(second)
    assert info.value.code == "taxpayer-address-differs"
    assert "Andere Straße 99" in info.value.facts["portal_address"]
    assert _cases(steuer, second.reference) == []


def test_idempotent_by_reference(steuer: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer)
    app = make_application()
    first = bot.register(app)
    again = bot.register(app)
    assert not again.created
    assert (again.aktenzeichen, again.tax_amount) == (first.aktenzeichen, first.tax_amount)
    assert len(_cases(steuer, app.reference)) == 1


def test_layout_v2_with_tabs_works_unchanged(make_steuer: Any, make_bot: MakeBot) -> None:
    with make_steuer(layout="v2") as server:
        bot = make_bot(server)
        reg = bot.register(make_application(breed="ROTT", insurance=True))
        assert reg.created and reg.tax_amount == Decimal("600.00")
        report = bot.check()
        assert report.ok, report.summary()
        bot.close()


def test_modal_notices_on_every_page_are_dismissed(steuer_faults: Any, make_bot: MakeBot) -> None:
    steuer_faults.set_faults(modal_rate=1.0)
    bot = make_bot(steuer_faults)
    app = make_application()
    reg = bot.register(app)
    assert reg.created
    assert len(_cases(steuer_faults, app.reference)) == 1


def test_server_validation_error_is_a_business_rule_error_with_evidence(
    steuer: Any, make_bot: MakeBot
) -> None:
    bot = make_bot(steuer)
    bad = make_application()
    bad = bad.model_copy(
        update={
            "sepa_mandate": bad.sepa_mandate.model_copy(update={"iban": "DE00123456780000000000"})
        }
    )
    with pytest.raises(BusinessRuleError) as info:
        bot.register(bad)
    assert info.value.message == "Die IBAN ist ungültig."
    assert info.value.field == "IBAN"
    assert _cases(steuer, bad.reference) == []
    folder = info.value.evidence_dir  # type: ignore[attr-defined]
    key = bad.reference
    assert folder.name == key and folder.parent.name == "testlauf"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"{key}-page.html", f"{key}-screenshot.png"]  # no retry, so no trace
    html = (folder / f"{key}-page.html").read_text(encoding="utf-8")
    assert "Die IBAN ist ungültig." in html
    assert "DE00123456780000000000" not in html and "[geschwärzt]" in html
    for personal in (bad.owner.family_name, bad.sepa_mandate.account_holder, bad.dog.chip_number):
        assert personal not in html
    assert bad.owner.family_name not in " ".join(names)

    # The screenshot hides the IBAN field under a uniform mask; unmasked it shows text.
    form = CaseFormPage(bot.page)
    box = form.iban.bounding_box()
    assert box is not None
    inner = (int(box["x"]) + 3, int(box["y"]) + 3, int(box["x"] + box["width"]) - 3,
             int(box["y"] + box["height"]) - 3)  # fmt: skip
    masked = Image.open(folder / f"{key}-screenshot.png").convert("RGB").crop(inner)
    assert masked.getcolors() == [(masked.width * masked.height, (0, 0, 0))]
    plain = Image.open(io.BytesIO(bot.page.screenshot(full_page=True))).convert("RGB").crop(inner)
    assert len(plain.getcolors(maxcolors=100_000) or []) > 1


def _bad_iban(app: Any) -> Any:
    mandate = app.sepa_mandate.model_copy(update={"iban": "DE00123456780000000000"})
    return app.model_copy(update={"sepa_mandate": mandate})


def _trace_part(zip_path: Any, suffix: str) -> str:
    """Text of a trace's parts ending in `suffix`: ``.trace`` (actions, DOM snapshots) or
    ``.network`` (every request the browser made while it recorded)."""
    with zipfile.ZipFile(zip_path) as archive:
        return "".join(
            archive.read(n).decode("utf-8", "replace")
            for n in archive.namelist()
            if n.endswith(suffix)
        )


def _trace_network(zip_path: Any) -> str:
    return _trace_part(zip_path, ".network")


def test_each_failing_item_gets_a_trace_of_its_own_steps_only(
    steuer: Any, make_bot: MakeBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No failing item's trace carries the requests (and personal data) of another item."""
    bot = make_bot(steuer)
    monkeypatch.setattr(bot.session.settings, "trace_attempts", "all")
    first, ok, second = (make_application() for _ in range(3))
    traces = {}
    for app in (_bad_iban(first), ok, _bad_iban(second)):
        try:
            bot.register(app)
        except BusinessRuleError as exc:
            folder = exc.evidence_dir  # type: ignore[attr-defined]
            traces[app.reference] = _trace_network(folder / f"{app.reference}-trace.zip")
    assert set(traces) == {first.reference, second.reference}
    for own, others in (
        (first.reference, (ok.reference, second.reference)),
        (second.reference, (first.reference, ok.reference)),
    ):
        assert quote(own, safe="") in traces[own]  # its idempotency search is in it
        assert not [o for o in others if quote(o, safe="") in traces[own]]


def test_a_failure_that_survived_its_retries_leaves_a_full_trace(
    steuer_faults: Any, make_bot: MakeBot
) -> None:
    """By default retried attempts are traced (Playwright Test's on-first-retry); a rejection
    on the first attempt leaves its masked screenshot and redacted HTML, no trace."""
    bot = make_bot(steuer_faults, retry=RetryPolicy(attempts=2, backoff_base=0.05, jitter=0))
    rejected = _bad_iban(make_application())
    with pytest.raises(BusinessRuleError) as first_try:
        bot.register(rejected)
    steuer_faults.set_faults(maintenance=True)
    outage = make_application()
    with pytest.raises(ApplicationError) as retried:
        bot.register(outage)
    steuer_faults.set_faults(maintenance=False)

    key = rejected.reference
    names = sorted(p.name for p in first_try.value.evidence_dir.iterdir())  # type: ignore[attr-defined]
    assert names == [f"{key}-page.html", f"{key}-screenshot.png"]
    zip_path = retried.value.evidence_dir / f"{outage.reference}-trace.zip"  # type: ignore[attr-defined]
    full = _trace_part(zip_path, ".trace")
    assert '"type":"before"' in full and "frame-snapshot" in full
    assert quote(outage.reference, safe="") in _trace_network(zip_path)


def test_no_evidence_is_kept_for_successful_items(steuer: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer)
    bot.register(make_application())
    assert not (bot.evidence_dir / "testlauf").exists()


def test_one_503_then_success(steuer_faults: Any, make_bot: MakeBot) -> None:
    waits: list[float] = []

    def heal(seconds: float) -> None:  # the backoff's wait: the back office recovers meanwhile
        waits.append(seconds)
        steuer_faults.set_faults(error_rate=0.0)

    bot = make_bot(steuer_faults, sleep=heal)
    app = make_application()
    steuer_faults.set_faults(error_rate=1.0)
    reg = bot.register(app)
    assert reg.created and len(waits) == 1
    assert len(_cases(steuer_faults, app.reference)) == 1


def test_login_during_an_outage_is_retried_until_the_back_office_is_back(
    steuer_faults: Any, make_bot: MakeBot
) -> None:
    waits: list[float] = []

    def heal_later(seconds: float) -> None:  # two failed logins, then the back office is back
        waits.append(seconds)
        if len(waits) == 2:
            steuer_faults.set_faults(maintenance=False)

    steuer_faults.set_faults(maintenance=True)
    bot = make_bot(steuer_faults, sleep=heal_later)
    assert len(waits) == 2 and bot.logins == 1
    assert bot.register(make_application()).created


def test_login_that_never_succeeds_gives_up_after_the_policy(
    steuer_faults: Any, make_bot: MakeBot
) -> None:
    steuer_faults.set_faults(maintenance=True)
    with pytest.raises(ApplicationError) as info:
        make_bot(steuer_faults)
    assert info.value.code == "http-503"


def test_permanent_outage_fails_after_all_attempts(steuer_faults: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer_faults)
    app = make_application()
    steuer_faults.set_faults(maintenance=True)
    with pytest.raises(ApplicationError) as info:
        bot.register(app)
    assert info.value.code == "http-503"
    assert info.value.evidence_dir.exists()  # type: ignore[attr-defined]
    steuer_faults.set_faults(maintenance=False)
    assert bot.register(app).created  # the next run carries the item


def test_session_expiry_mid_form_relogs_and_enters_once(
    steuer_faults: Any, make_bot: MakeBot
) -> None:
    bot = make_bot(steuer_faults)
    app = make_application()
    expired = []

    def expire_on_submit(route: Route) -> None:
        if route.request.method == "POST" and not expired:
            # The session runs out between filling the form and clicking "Fall anlegen".
            expired.append(True)
            steuer_faults.set_faults(session_lifetime_s=0)
            response = route.fetch(max_redirects=0)
            steuer_faults.set_faults(session_lifetime_s=1800)
            route.fulfill(response=response)
        else:
            route.continue_()

    bot.page.route(re.compile(r"/faelle/neu\?"), expire_on_submit)
    logins = bot.logins
    reg = bot.register(app)
    assert expired and reg.created
    assert bot.logins == logins + 1
    assert len(_cases(steuer_faults, app.reference)) == 1


def test_crash_after_submit_then_rerun_finds_the_case(steuer: Any, make_bot: MakeBot) -> None:
    from bots import RetryPolicy

    app = make_application()
    crashing = make_bot(steuer, retry=RetryPolicy(attempts=1))

    def submit_then_die(route: Route) -> None:
        if route.request.method == "POST":
            route.fetch(max_redirects=0)  # the back office carries out the submit …
            crashing.context.close()  # … and the bot dies before it sees the confirmation
        else:
            route.continue_()

    crashing.page.route(re.compile(r"/faelle/neu\?"), submit_then_die)
    with pytest.raises(ApplicationError) as info:
        crashing.register(app)
    assert info.value.code in {"browser-crashed", "browser-error", "timeout"}
    [created] = _cases(steuer, app.reference)

    rerun = make_bot(steuer, account="bot2")
    reg = rerun.register(app)
    assert not reg.created and reg.aktenzeichen == created["aktenzeichen"]
    assert reg.tax_amount == Decimal("120.00")
    assert len(_cases(steuer, app.reference)) == 1


def test_retry_after_lost_confirmation_does_not_double_submit(
    steuer: Any, make_bot: MakeBot
) -> None:
    bot = make_bot(steuer)
    app = make_application()
    lost = []

    def lose_confirmation(route: Route) -> None:
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch(max_redirects=0).status)
            route.abort("connectionreset")
        else:
            route.continue_()

    bot.page.route(re.compile(r"/faelle/neu\?"), lose_confirmation)
    reg = bot.register(app)
    assert lost == [303]
    assert not reg.created  # found by the idempotency search on the retry
    assert len(_cases(steuer, app.reference)) == 1


def test_canary_names_a_removed_field(steuer: Any, make_bot: MakeBot) -> None:
    bot = make_bot(steuer)
    bot.register(make_application())  # the canary needs one taxpayer to open the case form
    report = bot.check()
    assert report.ok and {"Suchergebnis", "Fälle"} <= {s.screen for s in report.screens}
    assert not [s for s in report.screens if s.skipped and s.screen != "Fall angelegt"]

    def without_iban_label(route: Route) -> None:
        response = route.fetch()
        body = re.sub(r"<label[^>]*>IBAN</label>", "", response.text())
        route.fulfill(response=response, body=body)

    bot.page.route(re.compile(r"/faelle/neu\?"), without_iban_label)
    report = bot.check()
    assert not report.ok
    assert report.missing() == {"Hundesteuerfall anlegen": ["IBAN"]}
    with pytest.raises(CanaryFailed) as info:
        report.raise_for_problems()
    assert "Hundesteuerfall anlegen: FEHLT IBAN" in info.value.message


def test_check_creates_no_data(make_steuer: Any, make_bot: MakeBot) -> None:
    with make_steuer() as server:
        bot = make_bot(server)
        report = bot.check()
        assert report.ok
        skipped = {s.screen for s in report.screens if s.skipped}
        assert skipped == {
            "Suchergebnis",
            "Steuerpflichtiger",
            "Hundesteuerfall anlegen",
            "Fälle",
            "Fall angelegt",
        }
        export = server.export()
        assert export["cases"] == [] and export["taxpayers"] == []
        bot.close()


def test_wrong_password_is_rejected_without_retries(steuer: Any, make_bot: MakeBot) -> None:
    server = type("S", (), {"base_url": steuer.base_url, "accounts": {"bot1": "falsch"}})()
    with pytest.raises(LoginRefused) as refused:
        make_bot(server)
    assert (refused.value.code, refused.value.account) == ("login-refused", "bot1")
