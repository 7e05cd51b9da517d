"""The letter as the citizen receives it: portal form → one flow run → mailbox → PDF.

Two citizens file the Hundesteuer form in the sandbox portal with real Chromium: one gives an
e-mail address only, the other pastes an OpenPGP public key too. One real Prefect flow run
(letters as PDF, replies over SMTP into the sandbox mail system) registers both. Each citizen
then opens the status page, follows its link to the mailbox (``#postfach``), opens the letter
and downloads it as ``.eml``: the plain one carries the notice as a PDF whose text names the
Aktenzeichen the flow reported; the other is PGP/MIME (RFC 3156), nothing of the letter in
clear, and the citizen's secret key opens it to the same PDF.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from flows.engine import BatchParams
from flows.hundesteuer import hundesteuer
from sandbox._common import serve_in_thread
from sandbox.mail import MailConfig, RunningMail, serve_mail
from sandbox.portal import PortalConfig, create_app
from tests.fixtures.eakte import run_eakte
from tests.fixtures.pgp import Citizen
from tests.fixtures.portal import PortalHandle
from tests.fixtures.prefect import PrefectServer
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.steuer import run_steuer
from tests.flows.conftest import amtsbote_env

PLAIN_ADDRESS = "Anna.Schmidt@example.org"  # as typed; the mailbox is case-blind


@dataclass
class MailTown:
    """A Musterstadt whose letters go into the sandbox mail system, read in its webmail."""

    portal: PortalHandle
    mail: RunningMail


@pytest.fixture(scope="module")
def mail_town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailTown]:
    """Portal (linking to the webmail), back office, e-Akte and mail system; PDF letters."""
    tmp = tmp_path_factory.mktemp("citizen-letter")
    with serve_mail(MailConfig(data_dir=tmp / "mail")) as mail:
        config = PortalConfig(
            data_dir=tmp / "portal", key_size=2048, seed=13, webmail_url=mail.base_url
        )
        with (
            serve_in_thread(create_app(config)) as served,
            run_steuer(tmp / "steuer") as steuer,
            run_eakte(tmp / "eakte") as eakte,
            pytest.MonkeyPatch.context() as patch,
        ):
            portal = PortalHandle(served.base_url, config)
            intake = SmtpServer(mail.smtp_host, mail.smtp_port)  # only its address is read
            env = amtsbote_env(portal, steuer, eakte, tmp / "amtsbote", ["bot1"], intake)
            env["AMTSBOTE_REPLY_LETTER_FORMAT"] = "pdf"
            for key, value in env.items():
                patch.setenv(key, value)
            yield MailTown(portal, mail)


def _file_form(page: Page, town: MailTown, given: str, email: str, chip: str, key: str) -> str:
    """Fill and send the Hundesteuer form as the citizen does; returns the Vorgangsnummer."""
    since = date.today() - timedelta(days=40)
    page.goto(town.portal.base_url + "/hundesteuer")
    page.get_by_label("Vorname").fill(given)
    page.get_by_label("Nachname").fill("Weiß")
    page.get_by_label("Geburtsdatum").fill("1979-03-14")
    page.get_by_label("Straße").fill("Lindenallee")
    page.get_by_label("Hausnummer").fill("7")
    page.get_by_label("Postleitzahl").fill("44623")
    page.get_by_label("Ort").fill("Musterstadt")
    page.get_by_label("E-Mail-Adresse").fill(email)
    if key:
        page.get_by_label("Öffentlicher PGP-Schlüssel (optional)").fill(key)
    page.get_by_label("Name des Hundes").fill("Bello")
    page.get_by_label("Rasse").select_option(label="Labrador Retriever")
    page.get_by_label("Wurfdatum des Hundes").fill((since - timedelta(days=400)).isoformat())
    page.get_by_label("Chipnummer (15 Ziffern)").fill(chip)
    page.get_by_label("Hundehaltung seit").fill(since.isoformat())
    page.get_by_label("Kontoinhaber/in").fill(f"{given} Weiß")
    page.get_by_label("IBAN").fill("DE02 1203 0000 0000 2020 51")
    page.get_by_role("button", name="Antrag absenden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Antrag wurde eingereicht")
    return page.locator("#vorgangsnummer").inner_text()


def _fetch_letter(page: Page, town: MailTown, case_id: str, address: str, tmp: Path) -> bytes:
    """Status page → ``#postfach`` → the one letter → its ``.eml``, as the citizen clicks."""
    page.goto(f"{town.portal.base_url}/status/{case_id}")
    expect(page.locator("#status")).to_have_text("Angenommen")
    page.locator("#postfach").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(f"Postfach {address}", ignore_case=True)
    assert page.url.startswith(town.mail.base_url)
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)  # the letter of this citizen, and no one else's
    rows.get_by_role("link").click()
    with page.expect_download() as download:
        page.locator("#eml").click()
    target = tmp / f"{case_id}.eml"
    download.value.save_as(target)
    assert download.value.suggested_filename.endswith(".eml")
    return target.read_bytes()


def _pdf_text(msg: EmailMessage) -> str:
    """The text of the one PDF the letter mail carries."""
    (attachment,) = msg.iter_attachments()
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "hundesteuerbescheid.pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    return "\n".join(p.extract_text() for p in reader.pages)


def _parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_each_citizen_reads_the_notice_in_the_mailbox(
    prefect_server: PrefectServer,
    mail_town: MailTown,
    citizen: Citizen,
    page: Page,
    tmp_path: Path,
) -> None:
    town = mail_town
    plain_case = _file_form(page, town, "Anna", PLAIN_ADDRESS, "276098106540001", "")
    key = citizen.public_key
    pgp_case = _file_form(page, town, "Jürgen", citizen.email, "276098106540002", key)
    sid = {s["caseId"]: s["submissionId"] for s in town.portal.export()["submissions"]}

    params = BatchParams(max_items=10, approval="auto", sessions=1)
    state: Any = hundesteuer(params, return_state=True)
    report = state.result(_sync=True)  # the test thread holds sync Playwright's loop
    rows = {row["Vorgang"]: row for row in report["items"]}
    assert {k: r["Ergebnis"] for k, r in rows.items()} == {
        sid[plain_case]: "done",
        sid[pgp_case]: "done",
    }
    plain_az = rows[sid[plain_case]]["Aktenzeichen"]
    pgp_az = rows[sid[pgp_case]]["Aktenzeichen"]
    assert plain_az and pgp_az and plain_az != pgp_az

    # The citizen without a key: a plain mail, the notice as a PDF naming the Aktenzeichen.
    raw = _fetch_letter(page, town, plain_case, PLAIN_ADDRESS, tmp_path)
    msg = _parse(raw)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Subject"] == f"Hundesteuerbescheid {plain_az}"
    text = _pdf_text(msg)
    assert plain_az in text and "Anna Weiß" in text

    # The citizen with a key: PGP/MIME, nothing of the letter in clear; the key opens it.
    raw = _fetch_letter(page, town, pgp_case, citizen.email, tmp_path)
    expect(page.locator(".encrypted")).to_contain_text("verschlüsselt")
    msg = _parse(raw)
    assert msg.get_content_type() == "multipart/encrypted"
    assert msg.get_param("protocol") == "application/pgp-encrypted"
    assert pgp_az.encode() not in raw and b"%PDF" not in raw
    assert b"hundesteuerbescheid" not in raw.lower() and "Weiß".encode() not in raw
    control, body = msg.iter_parts()
    assert control.get_content_type() == "application/pgp-encrypted"
    assert "Version: 1" in control.get_content().decode("ascii")
    assert body.get_content_type() == "application/octet-stream"
    plain = citizen.gpg.decrypt(body.get_content().decode("ascii"))
    assert plain.ok, plain.status
    text = _pdf_text(_parse(plain.data))
    assert pgp_az in text and "Jürgen Weiß" in text
