"""The citizen side of the portal, driven with real Chromium."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sandbox.portal import decrypt_part
from tests.fixtures.portal import PortalHandle, ReceiverAPI


@pytest.fixture
def receiver(portal: PortalHandle) -> Iterator[ReceiverAPI]:
    with portal.receiver_api() as api:
        yield api


def _fill_form(page: Page, *, given: str, breed: str) -> None:
    page.get_by_label("Vorname").fill(given)
    page.get_by_label("Nachname").fill("Weiß")
    page.get_by_label("Geburtsdatum").fill("1980-04-01")
    page.get_by_label("Straße").fill("Hauptstraße")
    page.get_by_label("Hausnummer").fill("12a")
    page.get_by_label("Postleitzahl").fill("44623")
    page.get_by_label("Ort").fill("Musterstadt")
    page.get_by_label("E-Mail-Adresse").fill("j.weiss@example.org")
    page.get_by_label("Name des Hundes").fill("Bello")
    page.get_by_label("Rasse").select_option(label=breed)
    page.get_by_label("Wurfdatum des Hundes").fill("2024-05-03")
    page.get_by_label("Chipnummer (15 Ziffern)").fill("276098106543210")
    page.get_by_label("Hundehaltung seit").fill("2026-10-01")
    page.get_by_label("Kontoinhaber/in").fill("Jürgen Weiß")
    page.get_by_label("IBAN").fill("DE02 1203 0000 0000 2020 51")


def test_form_submission_reaches_the_receiver_and_status_page(
    portal: PortalHandle, receiver: ReceiverAPI, page: Page, tmp_path: Path
) -> None:
    page.goto(portal.base_url + "/")
    page.get_by_role("link", name="Hundesteuer – Anmeldung eines Hundes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Hundesteuer – Anmeldung eines Hundes"
    )
    _fill_form(page, given="Jürgen", breed="Rottweiler")
    pdf = tmp_path / "versicherung.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% Nachweis\n%%EOF\n")
    page.get_by_label("Versicherungsnachweis (PDF)").set_input_files(pdf)
    page.get_by_role("button", name="Antrag absenden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Antrag wurde eingereicht")
    case_id = page.locator("#vorgangsnummer").inner_text()
    assert uuid.UUID(case_id)

    (entry,) = [s for s in portal.export()["submissions"] if s["caseId"] == case_id]
    sid = entry["submissionId"]
    assert entry["state"] == "submitted" and sid in receiver.listed_ids()
    sub = receiver.submission(sid)
    key = portal.receiver_keys["encryption"]
    data = json.loads(decrypt_part(sub["encryptedData"], key))
    assert data["owner"]["givenName"] == "Jürgen" and data["owner"]["familyName"] == "Weiß"
    assert data["dog"] == {
        "name": "Bello",
        "breed": "ROTT",
        "birthDate": "2024-05-03",
        "chipNumber": "276098106543210",
        "ownedSince": "2026-10-01",
    }
    assert data["sepaMandate"]["iban"] == "DE02120300000000202051"
    meta = json.loads(decrypt_part(sub["encryptedMetadata"], key))["contentStructure"]
    assert meta["attachments"][0]["filename"] == "versicherung.pdf"
    attachment = receiver.attachment(sid, sub["attachments"][0])
    assert decrypt_part(attachment, key) == pdf.read_bytes()

    page.get_by_role("link", name="Bearbeitungsstand anzeigen").click()
    expect(page.locator("#status")).to_have_text("Eingereicht – wird bearbeitet")

    # The e-mail address (and no PGP key) is the reply channel in the metadata.
    full_meta = json.loads(decrypt_part(sub["encryptedMetadata"], key))
    assert full_meta["replyChannel"] == {"eMail": {"address": "j.weiss@example.org"}}

    # The authority accepts; the status page shows the technical state, no letters: those go
    # over the reply channel, never through the portal.
    assert receiver.accept(sid).status_code == 202
    page.reload()
    expect(page.locator("#status")).to_have_text("Angenommen")
    expect(page.locator("#rueckkanal")).to_contain_text("E-Mail oder Post")
    expect(page.get_by_role("link", name="herunterladen")).to_have_count(0)
    expect(page.locator("#postfach")).to_have_count(0)  # this portal knows no webmail


def test_a_pgp_key_from_the_form_goes_into_the_reply_channel(
    portal: PortalHandle, receiver: ReceiverAPI, page: Page
) -> None:
    key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGZ\n-----END PGP PUBLIC KEY BLOCK-----"
    page.goto(portal.base_url + "/hundesteuer")
    _fill_form(page, given="Jürgen", breed="Labrador Retriever")
    page.get_by_label("Öffentlicher PGP-Schlüssel (optional)").fill(key)
    page.get_by_role("button", name="Antrag absenden").click()
    case_id = page.locator("#vorgangsnummer").inner_text()
    (entry,) = [s for s in portal.export()["submissions"] if s["caseId"] == case_id]
    sub = receiver.submission(entry["submissionId"])
    meta = json.loads(decrypt_part(sub["encryptedMetadata"], portal.receiver_keys["encryption"]))
    assert meta["replyChannel"] == {
        "eMail": {"address": "j.weiss@example.org", "pgpPublicKey": key}
    }


def test_a_pasted_text_that_is_no_pgp_key_is_refused(portal: PortalHandle, page: Page) -> None:
    before = len(portal.export()["submissions"])
    page.goto(portal.base_url + "/hundesteuer")
    _fill_form(page, given="Jürgen", breed="Labrador Retriever")
    page.get_by_label("Öffentlicher PGP-Schlüssel (optional)").fill("mein Passwort")
    page.get_by_role("button", name="Antrag absenden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PGP-Schlüssel unlesbar")
    assert len(portal.export()["submissions"]) == before


def test_rejection_problems_are_shown_escaped(
    portal: PortalHandle, receiver: ReceiverAPI, page: Page
) -> None:
    script = '<script>alert("x")</script>'
    page.goto(portal.base_url + "/hundesteuer")
    _fill_form(page, given=script, breed="Labrador Retriever")
    page.get_by_role("button", name="Antrag absenden").click()
    case_id = page.locator("#vorgangsnummer").inner_text()
    (entry,) = [s for s in portal.export()["submissions"] if s["caseId"] == case_id]
    sub = receiver.submission(entry["submissionId"])
    data = json.loads(decrypt_part(sub["encryptedData"], portal.receiver_keys["encryption"]))
    assert data["owner"]["givenName"] == script  # the portal passes it on unchanged
    problems = [{"type": "x", "title": "Vorname ungültig", "detail": f"Eingabe {script}"}]
    assert receiver.reject(entry["submissionId"], problems).status_code == 202

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{portal.base_url}/status/{case_id}")
    expect(page.locator("#status")).to_have_text("Abgelehnt")
    expect(page.locator("#ablehnungsgruende")).to_contain_text(f"Eingabe {script}")
    assert dialogs == []


def test_listed_breed_requires_the_insurance_upload(portal: PortalHandle, page: Page) -> None:
    before = len(portal.export()["submissions"])
    page.goto(portal.base_url + "/hundesteuer")
    _fill_form(page, given="Sören", breed="Pitbull-Terrier")
    upload = page.get_by_label("Versicherungsnachweis (PDF)")
    expect(upload).to_have_attribute("required", "")
    page.get_by_role("button", name="Antrag absenden").click()
    assert upload.evaluate("el => el.validity.valueMissing") is True
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Hundesteuer – Anmeldung eines Hundes"
    )
    assert len(portal.export()["submissions"]) == before


def test_unknown_case_shows_a_german_404(portal: PortalHandle, page: Page) -> None:
    response = page.goto(f"{portal.base_url}/status/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Vorgang nicht gefunden")
