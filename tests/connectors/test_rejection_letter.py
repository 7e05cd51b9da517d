"""The Ablehnungsbescheid: the shipped generic template rendered and read back with python-docx."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document as DocxDocument

from amtsbote import ApplicationError
from connectors.documents import (
    ABLEHNUNGSBESCHEID_TEMPLATE,
    render_rejection_letter,
    template_placeholders,
)

REASONS: list[tuple[str | None, str]] = [
    ("IBAN", "Die IBAN ist ungültig (Prüfsumme falsch)."),
    (None, "Der Hund „Bello“ ist bereits zur Hundesteuer angemeldet."),
    ("Chipnummer", "Die Chipnummer muss 15 Ziffern haben."),
]


def _letter(**overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "reference": "FIT-2026-0815",
        "service_name": "Anmeldung eines Hundes zur Hundesteuer",
        "office": "Steueramt",
        "recipient_name": "Jürgen Weiß",
        "address_lines": ["Hauptstraße 12a", "44623 Musterstadt"],
        "reasons": REASONS,
        "letter_date": date(2026, 11, 22),
        "application_date": date(2026, 11, 3),
    }
    values.update(overrides)
    return render_rejection_letter(**values)


def _open(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


def _text(data: bytes) -> str:
    """Every visible text of the letter: header, body paragraphs, tables, footer."""
    doc = _open(data)
    section = doc.sections[0]
    parts = [p.text for p in section.header.paragraphs]
    parts += [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    parts += [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def _xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(
            archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".xml")
        )


def _reason_rows(data: bytes) -> list[list[str]]:
    table = _open(data).tables[1]
    return [[cell.text for cell in row.cells] for row in table.rows]


@pytest.fixture(scope="module")
def letter() -> bytes:
    return _letter()


def test_every_value_appears(letter: bytes) -> None:
    text = _text(letter)
    body = "\n".join(p.text for p in _open(letter).paragraphs)
    assert "Stadt Musterstadt – Der Oberbürgermeister – Steueramt" in text  # letterhead
    assert "Stadt Musterstadt · Steueramt · Rathausplatz 1" in body  # return address
    assert "Jürgen Weiß\nHauptstraße 12a\n44623 Musterstadt" in body
    assert "Ablehnung Ihres Antrags auf Anmeldung eines Hundes zur Hundesteuer" in body
    assert "Ihr Antrag vom 03.11.2026 (Vorgang FIT-2026-0815)" in body
    assert "Guten Tag Jürgen Weiß," in body
    assert "Im Auftrag\nStadt Musterstadt – Steueramt" in body
    info = [[cell.text for cell in row.cells] for row in _open(letter).tables[0].rows]
    assert ["Vorgang:", "FIT-2026-0815"] in info
    assert ["Datum:", "22.11.2026"] in info
    assert ["Auskunft:", "Steueramt"] in info


def test_reasons_in_order_with_labels(letter: bytes) -> None:
    assert _reason_rows(letter) == [
        ["1.", "IBAN: Die IBAN ist ungültig (Prüfsumme falsch)."],
        ["2.", "Der Hund „Bello“ ist bereits zur Hundesteuer angemeldet."],
        ["3.", "Chipnummer: Die Chipnummer muss 15 Ziffern haben."],
    ]
    label = next(
        run for run in _open(letter).tables[1].rows[0].cells[1].paragraphs[0].runs if run.text
    )
    assert (label.text, label.bold) == ("IBAN: ", True)


def test_single_reason_without_label() -> None:
    rows = _reason_rows(_letter(reasons=[(None, "Die Frist ist abgelaufen.")]))
    assert rows == [["1.", "Die Frist ist abgelaufen."]]
    # A blank label is no label: no stray ": " in front of the reason.
    rows = _reason_rows(_letter(reasons=[("  ", "Die Frist ist abgelaufen.")]))
    assert rows == [["1.", "Die Frist ist abgelaufen."]]


def test_all_placeholders_filled(letter: bytes) -> None:
    assert template_placeholders(ABLEHNUNGSBESCHEID_TEMPLATE) == {
        "amt",
        "vorgang",
        "datum",
        "antrag_vom",
        "leistung",
        "empfaenger_name",
        "empfaenger_anschrift",
        "gruende.nr",
        "gruende.feld",
        "gruende.text",
    }
    assert template_placeholders(letter) == set()
    xml = _xml(letter)
    assert "{{" not in xml and "}}" not in xml


def test_markup_is_shown_as_text() -> None:
    out = _letter(
        recipient_name="<b>Ada</b> & Co",
        office="Amt für <i>Ordnung</i>",
        reasons=[("<b>IBAN</b>", "Bitte <script>alert(1)</script> prüfen.")],
    )
    text = _text(out)
    assert "Guten Tag <b>Ada</b> & Co," in text
    assert "Stadt Musterstadt – Der Oberbürgermeister – Amt für <i>Ordnung</i>" in text
    assert _reason_rows(out) == [["1.", "<b>IBAN</b>: Bitte <script>alert(1)</script> prüfen."]]
    xml = _xml(out)
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; Co" in xml
    assert "<b>" not in xml and "<script>" not in xml


def test_umlauts_eszett_and_rtl_kept() -> None:
    out = _letter(
        recipient_name="محمد الأحمد",
        address_lines=["Größenweg 3", "44623 Musterstadt-Süd"],
        service_name="Erteilung einer Sondernutzungserlaubnis für Straßenfeste",
        office="Straßenverkehrsamt",
        reasons=[("Straße", "Die Straße „Äußere Ölmühle“ liegt nicht in Musterstadt.")],
    )
    text = _text(out)
    assert "Guten Tag محمد الأحمد," in text
    assert "Größenweg 3\n44623 Musterstadt-Süd" in text
    assert "Antrags auf Erteilung einer Sondernutzungserlaubnis für Straßenfeste" in text
    assert "Der Oberbürgermeister, Straßenverkehrsamt, Rathausplatz 1" in text  # Rechtsbehelf
    assert "Straße: Die Straße „Äußere Ölmühle“ liegt nicht in Musterstadt." in text


def test_rechtsbehelfsbelehrung(letter: bytes) -> None:
    body = [p.text for p in _open(letter).paragraphs]
    heading = body.index("Rechtsbehelfsbelehrung")
    assert "innerhalb eines Monats nach seiner Bekanntgabe Widerspruch" in body[heading + 1]
    assert "Der Oberbürgermeister, Steueramt, Rathausplatz 1" in body[heading + 1]
    assert "ohne Unterschrift gültig" in body[-1]


def test_without_application_date() -> None:
    body = "\n".join(p.text for p in _open(_letter(application_date=None)).paragraphs)
    assert "Ihr Antrag (Vorgang FIT-2026-0815)" in body
    assert "Ihr Antrag vom" not in body


def test_letter_without_reason_is_a_programming_error() -> None:
    for reasons in ([], [("IBAN", "  ")]):
        with pytest.raises(ApplicationError) as info:
            _letter(reasons=reasons)
        assert info.value.code == "rejection-without-reason"


def test_missing_values_are_named() -> None:
    for name, value in (
        ("reference", ""),
        ("office", " "),
        ("recipient_name", ""),
        ("address_lines", ["", " "]),
    ):
        with pytest.raises(ApplicationError) as info:
            _letter(**{name: value})
        assert (info.value.code, info.value.field) == ("rejection-value-missing", name)


def test_shipped_template_matches_its_generator(tmp_path: Path) -> None:
    from connectors.documents.templates.make_ablehnungsbescheid import build

    fresh = build(tmp_path / "neu.docx").read_bytes()
    shipped = ABLEHNUNGSBESCHEID_TEMPLATE.read_bytes()
    with zipfile.ZipFile(io.BytesIO(fresh)) as a, zipfile.ZipFile(io.BytesIO(shipped)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
