"""Bad input, each case with its expected outcome: a readable rejection, a refusal, or acceptance
with the data unchanged — never a crashed run or a lost item.

Submissions are filed through the portal's sender API (with its knobs for raw and tampered
parts) and all run through the real flow in one batch; the table below says what must happen to
each. Documents (PDF forms, e-invoices) go through the connectors' public functions: each bad
file ends as a `BusinessRuleError` with a stable code and a German sentence.
"""

from __future__ import annotations

import copy
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import docx
import httpx
import pytest
from joserfc.jwk import RSAKey
from playwright.sync_api import Browser
from pydantic import BaseModel

from amtsbote import BusinessRuleError
from bots.steuer.pages import LoginPage
from connectors.archive import EakteClient, EakteSettings
from connectors.documents import FieldMapping, read_form
from connectors.einvoice import parse_invoice, read_invoice
from connectors.records import PROBLEM_BASE, TITLES
from flows.engine import BatchParams
from flows.hundesteuer import hundesteuer
from sandbox.portal._crypto import encrypt_part
from sandbox.seed import generate_applications, insurance_pdf
from tests.connectors import _samples
from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt, musterstadt_env
from tests.reliability._support import (
    Drained,
    extra_env,
    reject_problems,
    run_until_drained,
    snapshot,
)

pytestmark = [pytest.mark.timeout(900)]  # the module's one flow batch runs in the first test

#: the authority's own limit for attachments (the portal itself takes up to 10 MiB)
MAX_ATTACHMENT = 256 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


@dataclass
class Filing:
    """What to send: the data (or raw bytes) and attachments, plus sender knobs."""

    data: dict[str, Any] | None
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    knobs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One bad (or odd) submission and what must become of it.

    ``outcome`` (the portal's state): ``accepted`` (entered unchanged), ``rejected`` (a
    technical problem: reject-submission at receipt with ``code`` and the documented FIT-Connect
    problem type ``kind``; never a work item), ``letter`` (technically sound, so accepted at
    the portal, then refused by letter for the business rule ``code``: an Ablehnungsbescheid,
    never a reject-submission), ``held`` (encrypted to a key the receiver lacks: neither
    rejected nor stored, it waits at the portal for an admin; ``code`` says what is missing),
    or ``refused`` (the portal itself turned the sender away with a 4xx problem; nothing
    reaches the flow).
    """

    build: Callable[[dict[str, Any], Any], Filing]
    outcome: str
    code: str | None = None
    kind: str | None = None  # the FIT-Connect problem type of a technical rejection
    unchanged: tuple[str, ...] = ()  # "owner.givenName" …: must arrive exactly in the back office


def _set(path: str, value: Any) -> Callable[[dict[str, Any], Any], Filing]:
    def build(data: dict[str, Any], ctx: Any) -> Filing:
        node = data
        *parents, leaf = path.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
        return Filing(data)

    return build


def _drop(path: str) -> Callable[[dict[str, Any], Any], Filing]:
    def build(data: dict[str, Any], ctx: Any) -> Filing:
        node = data
        *parents, leaf = path.split(".")
        for p in parents:
            node = node[p]
        del node[leaf]
        return Filing(data)

    return build


def _raw(part: str, make: Callable[[Any, dict[str, Any]], str]) -> Callable[..., Filing]:
    def build(data: dict[str, Any], ctx: Any) -> Filing:
        return Filing(data, knobs={"raw_parts": {part: make(ctx, data)}})

    return build


def _listed(data: dict[str, Any], attachments: list[tuple[str, str, bytes]]) -> Filing:
    data["dog"]["breed"] = "ROTT"
    return Filing(data, attachments)


def _pdf(data: dict[str, Any]) -> bytes:
    owner = data["owner"]
    return insurance_pdf(f"{owner['givenName']} {owner['familyName']}", data["dog"]["name"], "1")


def _big_pdf(size: int) -> bytes:
    """A valid PDF of at least `size` bytes (an embedded, incompressible scan)."""
    return _samples.pdf_with_attachment("scan.bin", random.Random(size).randbytes(size))


def _wrong_hash(meta: dict[str, Any]) -> None:
    meta["contentStructure"]["data"]["hash"]["content"] = "0" * 128


def _wrong_attachment_hash(meta: dict[str, Any]) -> None:
    meta["contentStructure"]["attachments"][0]["hash"]["content"] = "ab" * 64


def _other_schema(meta: dict[str, Any]) -> None:
    meta["contentStructure"]["data"]["submissionSchema"]["schemaUri"] = (
        "https://schema.musterstadt.example/sperrmuell-anmeldung/1.0.0.json"
    )


def _flip_ciphertext(token: str) -> str:
    parts = token.split(".")
    c = parts[3]
    parts[3] = ("A" if c[0] != "A" else "B") + c[1:]
    return ".".join(parts)


def _jwe_of(ctx: Any, plaintext: bytes) -> str:
    return encrypt_part(plaintext, ctx.key, "application/json")


def _wrong_key_jwe(ctx: Any, data: dict[str, Any]) -> str:
    return encrypt_part(b"{}", {**ctx.stranger_key, "kid": ctx.key["kid"]}, "application/json")


SCRIPT = '<script>window.__pwned = 1; alert("x")</script>'
IMG = '<img src=x onerror="window.__pwned = 1">'
SVG = '"><svg onload="window.__pwned = 1">'

CASES: dict[str, Case] = {
    # -- transport and crypto ---------------------------------------------------------------
    "broken-jwe-ciphertext": Case(
        _raw("data", lambda ctx, d: _flip_ciphertext(_jwe_of(ctx, b'{"a": 1}'))),
        "rejected",
        kind="encryption-issue",
    ),
    # our kid, another key: our key file may hold a wrong key under that kid, so held
    "jwe-for-another-key": Case(_raw("data", _wrong_key_jwe), "held", code="jwe-key-unwrap"),
    "jwe-for-an-unknown-kid": Case(
        _raw(
            "data",
            lambda ctx, d: encrypt_part(
                b"{}", {**ctx.stranger_key, "kid": "retired-2025"}, "application/json"
            ),
        ),
        "held",
        code="jwe-unknown-kid",
    ),
    "jwe-not-base64": Case(
        _raw("data", lambda ctx, d: ".".join(_jwe_of(ctx, b"{}").split(".")[:3] + ["%%", "x"])),
        "refused",
    ),
    "jwe-with-3-segments": Case(_raw("data", lambda ctx, d: "a.b.c"), "refused"),
    "metadata-broken": Case(
        _raw("metadata", lambda ctx, d: _flip_ciphertext(_jwe_of(ctx, b"{}"))),
        "rejected",
        kind="encryption-issue",
    ),
    "data-hash-mismatch": Case(
        lambda d, ctx: Filing(d, knobs={"tamper_metadata": _wrong_hash}),
        "rejected",
        kind="hash-mismatch",
    ),
    "attachment-hash-mismatch": Case(
        lambda d, ctx: Filing(
            _listed(d, [("v.pdf", "application/pdf", _pdf(d))]).data,
            [("v.pdf", "application/pdf", _pdf(d))],
            {"tamper_metadata": _wrong_attachment_hash},
        ),
        "rejected",
    ),
    "attachment-announced-not-uploaded": Case(
        lambda d, ctx: Filing(
            d, [("v.pdf", "application/pdf", _pdf(d))], {"skip_attachments": [0]}
        ),
        "refused",
    ),
    # -- schema -----------------------------------------------------------------------------
    "other-schema-uri": Case(
        lambda d, ctx: Filing(d, knobs={"tamper_metadata": _other_schema}),
        "rejected",
        kind="unsupported-schema",
    ),
    "data-not-json": Case(
        lambda d, ctx: Filing(None, knobs={"data_bytes": "{owner: Jürgen".encode()}), "rejected"
    ),
    "data-json-array": Case(
        lambda d, ctx: Filing(None, knobs={"data_bytes": b"[1, 2]"}), "rejected"
    ),
    "data-empty-object": Case(lambda d, ctx: Filing({}), "rejected"),
    "owner-missing": Case(_drop("owner"), "rejected", kind="schema-violation"),
    "given-name-missing": Case(_drop("owner.givenName"), "rejected"),
    "birth-date-missing": Case(_drop("owner.birthDate"), "rejected"),
    "chip-number-missing": Case(_drop("dog.chipNumber"), "rejected"),
    "sepa-mandate-missing": Case(_drop("sepaMandate"), "rejected"),
    "postal-code-as-number": Case(_set("owner.postalCode", 44623), "rejected"),
    "birth-date-as-number": Case(_set("owner.birthDate", 19800401), "rejected"),
    "dog-name-as-list": Case(_set("dog.name", ["Bello"]), "rejected"),
    "owner-as-string": Case(_set("owner", "Jürgen Weiß"), "rejected"),
    "iban-as-number": Case(_set("sepaMandate.iban", 12030000), "rejected"),
    "birth-date-german-format": Case(_set("owner.birthDate", "01.04.1980"), "rejected"),
    "birth-date-impossible": Case(_set("owner.birthDate", "1980-02-30"), "rejected"),
    "postal-code-4-digits": Case(
        _set("owner.postalCode", "4462"), "rejected", "postcode-invalid", "schema-violation"
    ),
    "chip-number-too-short": Case(_set("dog.chipNumber", "27609810"), "rejected"),
    # -- business rules: technically sound, so accepted, then refused by letter ------------
    "unknown-breed-code": Case(_set("dog.breed", "WOLF"), "letter", "breed-unknown"),
    "email-without-at": Case(_set("owner.email", "juergen.example.org"), "rejected"),
    "iban-checksum-wrong": Case(
        _set("sepaMandate.iban", "DE03120300000000202051"), "letter", "iban-checksum"
    ),
    "empty-family-name": Case(_set("owner.familyName", ""), "rejected"),
    "dog-born-in-future": Case(_set("dog.birthDate", "2999-01-01"), "letter", "date-in-future"),
    "owner-under-age": Case(_set("owner.birthDate", "2015-01-01"), "letter", "owner-too-young"),
    # -- attachments ------------------------------------------------------------------------
    "listed-breed-without-insurance": Case(
        lambda d, ctx: _listed(d, []), "letter", "insurance-missing"
    ),
    "large-pdf-attachment": Case(
        lambda d, ctx: _listed(d, [("v.pdf", "application/pdf", _big_pdf(150_000))]), "accepted"
    ),
    "oversized-attachment": Case(
        lambda d, ctx: _listed(d, [("v.pdf", "application/pdf", _big_pdf(MAX_ATTACHMENT + 1))]),
        "rejected",
        "attachment-too-large",
    ),
    "png-posing-as-pdf": Case(
        lambda d, ctx: _listed(d, [("v.pdf", "application/pdf", PNG)]),
        "rejected",
        "attachment-not-pdf",
    ),
    "html-posing-as-pdf": Case(
        lambda d, ctx: _listed(d, [("v.pdf", "application/pdf", f"<html>{SCRIPT}".encode())]),
        "rejected",
        "attachment-not-pdf",
    ),
    "pdf-header-then-garbage": Case(
        lambda d, ctx: _listed(d, [("v.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(300))]),
        "rejected",
        "attachment-not-pdf",
    ),
    # -- names and text: accepted, unchanged, shown as text ----------------------------------
    "umlauts-and-sharp-s": Case(
        lambda d, ctx: _names(d, "Jürgen-Björn", "Weiß-Müller"),
        "accepted",
        unchanged=("owner.givenName", "owner.familyName"),
    ),
    "accents": Case(
        lambda d, ctx: _names(d, "Renée Françoise", "Çelik-Núñez"),
        "accepted",
        unchanged=("owner.givenName", "owner.familyName"),
    ),
    "rtl-arabic": Case(
        lambda d, ctx: _names(d, "محمد", "العلي"),
        "accepted",
        unchanged=("owner.givenName", "owner.familyName"),
    ),
    "rtl-hebrew": Case(
        lambda d, ctx: _names(d, "דוד", "כהן"),
        "accepted",
        unchanged=("owner.givenName", "owner.familyName"),
    ),
    "emoji-in-dog-name": Case(_set("dog.name", "Bello 🐶"), "accepted", unchanged=("dog.name",)),
    "script-in-given-name": Case(
        lambda d, ctx: _names(d, SCRIPT, d["owner"]["familyName"]),
        "accepted",
        unchanged=("owner.givenName",),
    ),
    "img-onerror-in-family-name": Case(
        lambda d, ctx: _names(d, d["owner"]["givenName"], IMG),
        "accepted",
        unchanged=("owner.familyName",),
    ),
    "svg-onload-in-dog-name": Case(_set("dog.name", SVG), "accepted", unchanged=("dog.name",)),
    # -- the same application twice: received, then refused by the back office by letter ----
    "duplicate-application": Case(lambda d, ctx: Filing(copy.deepcopy(ctx.first)), "letter"),
}


def _names(data: dict[str, Any], given: str, family: str) -> Filing:
    data["owner"]["givenName"] = given
    data["owner"]["familyName"] = family
    return Filing(data)


@dataclass
class Ctx:
    key: dict[str, Any]
    stranger_key: dict[str, Any]
    first: dict[str, Any]


@dataclass
class Batch:
    town: Musterstadt
    filed: dict[str, tuple[str, str] | None]  # case -> (submission id, case id) or None (refused)
    refusals: dict[str, httpx.Response]
    data: dict[str, dict[str, Any] | None]
    drained: Drained


@pytest.fixture(scope="module")
def batch(
    prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Batch]:
    tmp = tmp_path_factory.mktemp("bad-input")
    with (
        musterstadt_env(tmp, ["bot1"]) as town,
        extra_env(town.env, {"AMTSBOTE_PORTAL_MAX_ATTACHMENT_BYTES": str(MAX_ATTACHMENT)}),
        town.portal.sender_client() as sender,
    ):
        valid = generate_applications(
            len(CASES) + 1, bad_share=0.0, rng=random.Random(66), listed_share=0.0
        )
        first = valid[0].data
        sender.submit_application(first, valid[0].attachments)  # the original of the duplicate
        stranger = RSAKey.generate_key(2048).as_dict(private=False)
        ctx = Ctx(sender.encryption_key(), stranger, first)
        filed: dict[str, tuple[str, str] | None] = {}
        refusals: dict[str, httpx.Response] = {}
        data: dict[str, dict[str, Any] | None] = {}
        for (name, case), app in zip(sorted(CASES.items()), valid[1:], strict=True):
            filing = case.build(copy.deepcopy(app.data), ctx)
            data[name] = filing.data
            try:
                ref = sender.submit_application(filing.data, filing.attachments, **filing.knobs)
            except httpx.HTTPStatusError as exc:
                filed[name] = None
                refusals[name] = exc.response
                continue
            filed[name] = (ref["submissionId"], ref["caseId"])
        drained = run_until_drained(
            lambda: hundesteuer(BatchParams(max_items=500, sessions=1)), max_runs=3
        )
        yield Batch(town, filed, refusals, data, drained)


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for p in path.split("."):
        node = node[p]
    return node


def test_the_batch_ran_without_a_crash(batch: Batch) -> None:
    assert batch.drained.failed_runs == []
    assert len(CASES) >= 40
    # every filed item got a final outcome; nothing left behind as failed
    outcomes = batch.drained.outcomes
    for name, ref in batch.filed.items():
        if ref is not None:
            assert outcomes.get(ref[0]) in {"done", "rejected", "held"}, (
                name,
                outcomes.get(ref[0]),
            )


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_submission(batch: Batch, name: str) -> None:
    case = CASES[name]
    ref = batch.filed[name]
    if case.outcome == "refused":
        assert ref is None, f"{name}: the portal took it"
        resp = batch.refusals[name]
        assert 400 <= resp.status_code < 500
        assert resp.json().get("title"), "a refusal says why"
        return
    assert ref is not None, f"{name}: refused by the portal ({batch.refusals[name].text[:200]})"
    sid, case_id = ref
    snap = snapshot(batch.town)
    sub = snap.submissions[sid]
    cases = [c for c in snap.cases if c["fremdreferenz"] == sid]
    if case.outcome == "held":  # a key we lack: it waits at the portal, for the watch and admin
        assert sub["state"] == "submitted" and not cases, name
        assert batch.drained.outcomes[sid] == "held" and batch.drained.codes[sid] == case.code
        assert sub["eventCounts"].get("reject-submission", 0) == 0
        assert sub["eventCounts"].get("accept-submission", 0) == 0
        return
    if case.outcome == "letter":  # a business refusal after receipt: an Ablehnungsbescheid
        assert sub["state"] == "accepted" and not cases, name
        assert len(snap.letters(sid, "ablehnung")) == 1, name  # one mail, the letter in it
        assert batch.drained.outcomes[sid] == "rejected"
        assert sub["eventCounts"].get("reject-submission", 0) == 0
        assert reject_problems(batch.town, case_id) == []
        if case.code:
            assert batch.drained.codes[sid] == case.code
        return
    assert sub["state"] == case.outcome, (name, batch.drained.codes.get(sid))
    if case.outcome == "rejected":
        assert not cases
        problems = reject_problems(batch.town, case_id)
        assert problems and all(p["detail"] and p["title"] for p in problems)
        # only documented problem types, each naming the part it concerns
        for p in problems:
            assert p["type"].startswith(PROBLEM_BASE), p
            assert p["type"].removeprefix(PROBLEM_BASE) in TITLES, p
            assert p["instance"] in {"metadata", "data"} or p["instance"].startswith(
                "attachment:"
            ), p
        if case.kind:
            assert case.kind in {p["type"].removeprefix(PROBLEM_BASE) for p in problems}
        if case.code:
            assert batch.drained.codes[sid] == case.code
        return
    assert len(cases) == 1 and len(snap.letters(sid, "bescheid")) == 1
    sent = batch.data[name]
    assert sent is not None
    (taxpayer,) = [t for t in snap.taxpayers if t["id"] == cases[0]["taxpayer_id"]]
    arrived = {
        "owner.givenName": taxpayer["given_name"],
        "owner.familyName": taxpayer["family_name"],
        "dog.name": cases[0]["dog_name"],
    }
    for path in case.unchanged:
        assert arrived[path] == _get(sent, path), path


def test_markup_is_text_in_back_office_and_notice(batch: Batch, browser: Browser) -> None:
    """The back office shows the markup as text and runs none of it; the notice holds it
    literally."""
    town = batch.town
    snap = snapshot(town)
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{town.steuer.base_url}/login")
    LoginPage(page).login("sachbearbeiter", town.steuer.accounts["sachbearbeiter"])
    archive = EakteClient(EakteSettings())
    try:
        for name, payload, path in (
            ("script-in-given-name", SCRIPT, "owner.givenName"),
            ("img-onerror-in-family-name", IMG, "owner.familyName"),
            ("svg-onload-in-dog-name", SVG, "dog.name"),
        ):
            ref = batch.filed[name]
            assert ref is not None
            (case,) = [c for c in snap.cases if c["fremdreferenz"] == ref[0]]
            # the case list, then the taxpayer (the back office shows the dog's name nowhere
            # but in the entry form: there the export and the notice are the proof)
            page.goto(f"{town.steuer.base_url}/faelle?suchbegriff={ref[0]}")
            page.goto(f"{town.steuer.base_url}/steuerpflichtige/{case['taxpayer_id']}")
            shown = page.locator("body").inner_text() + "\n".join(
                page.locator("input").evaluate_all("els => els.map(e => e.value)")
            )
            if path.startswith("owner"):
                assert payload in shown, name
            assert page.evaluate("window.__pwned") is None, name
            notice = archive.get_document(case["aktenzeichen"], f"{ref[0]}-bescheid")
            assert notice is not None
            document = docx.Document(io.BytesIO(notice.content))
            text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
                c.text for t in document.tables for r in t.rows for c in r.cells
            )
            assert payload in text, name
        assert dialogs == []
    finally:
        archive.close()
        context.close()


# -- documents -------------------------------------------------------------------------------


class _Record(BaseModel):
    name: str


_MAPPING = FieldMapping({"Name": "name"})

#: one of each kind of bad document (the connectors' own corpus has many more variants)
DOCUMENTS: dict[str, tuple[Callable[[], Any], str]] = {
    "corrupt-pdf": (lambda: read_invoice(b"%PDF-1.7\n%garbage\n"), "pdf-invalid"),
    "png-as-pdf-form": (lambda: read_form(PNG, _MAPPING, _Record), "pdf-invalid"),
    "encrypted-pdf": (
        lambda: read_invoice(_samples.encrypted_pdf(_samples.facturx_pdf(_samples.cii_xml()))),
        "pdf-encrypted",
    ),
    "formless-pdf": (
        lambda: read_form(_samples.blank_pdf(), _MAPPING, _Record),
        "pdf-form-missing",
    ),
    "xml-bomb": (lambda: parse_invoice(_samples.BILLION_LAUGHS), "xml-unsafe"),
    "external-entity": (
        lambda: parse_invoice(_samples.external_entity_xml("file:///etc/hostname")),
        "xml-unsafe",
    ),
    "wrong-namespace": (
        lambda: parse_invoice(_samples.ubl_xml(namespace="urn:example:not-an-invoice")),
        "einvoice-unknown-format",
    ),
    "sums-do-not-add-up": (
        lambda: parse_invoice(
            _samples.ubl_xml(_samples.InvoiceData(gross_override=Decimal("99999.99")))
        ),
        "einvoice-sums-mismatch",
    ),
    "invoice-pdf-without-xml": (
        lambda: read_invoice(_samples.blank_pdf()),
        "einvoice-not-embedded",
    ),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_bad_document(name: str) -> None:
    call, code = DOCUMENTS[name]
    with pytest.raises(BusinessRuleError) as info:
        call()
    assert info.value.code == code
    assert info.value.message.rstrip().endswith(".")
