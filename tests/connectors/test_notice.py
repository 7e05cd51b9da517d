"""Notices from .docx templates: placeholders in runs, tables, headers/footers; the shipped
Musterstadt Hundesteuerbescheid read back with python-docx.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.shared import Pt

from amtsbote import ApplicationError, BusinessRuleError
from connectors.documents import (
    HUNDESTEUERBESCHEID_TEMPLATE,
    mask_iban,
    render_dog_tax_notice,
    render_notice,
    template_placeholders,
)

IBAN = "DE02120300000000202051"


def _all_xml_text(data: bytes) -> str:
    """Every XML part of a .docx (body, headers, footers …) as one string."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(
            archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".xml")
        )


def _open(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


@pytest.fixture(scope="module")
def template() -> bytes:
    """A template the way Word leaves it: placeholders split over differently formatted runs."""
    doc = docx.Document()
    p = doc.add_paragraph()
    p.add_run("Aktenzeichen: ")
    first = p.add_run("{{akten")
    first.bold = True
    first.font.name = "Courier New"
    first.font.size = Pt(12)
    p.add_run("zei").italic = True
    p.add_run("chen}} vom {{ datum }}, Empfänger {{name}}.")
    doc.add_paragraph("{{anschrift}}")
    doc.add_paragraph("Zweimal: {{name}} und {{name}}")
    table = doc.add_table(rows=3, cols=2)
    table.rows[0].cells[0].text = "Posten"
    table.rows[0].cells[1].text = "Betrag"
    table.rows[1].cells[0].text = "{{posten.text}}"
    table.rows[1].cells[1].text = "{{posten.betrag}} €"
    table.rows[2].cells[0].text = "Summe für {{name}}"
    table.rows[2].cells[1].text = "{{summe}} €"
    section = doc.sections[0]
    section.header.paragraphs[0].text = "Kopf {{aktenzeichen}}"
    section.footer.paragraphs[0].text = "Fuß {{datum}}"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


CONTEXT = {
    "aktenzeichen": "HST-2026-000042",
    "datum": date(2026, 11, 22),
    "name": "<script>alert('x')</script> & Co",
    "anschrift": "Hauptstraße 12a\n44623 Musterstadt",
    "summe": Decimal("1234.5"),
}
ROWS = {
    "posten": [
        {"text": "Jahressteuer", "betrag": Decimal("1200")},
        {"text": "Mahngebühr", "betrag": Decimal("34.50")},
    ]
}


def test_placeholders_found_across_runs(template: bytes) -> None:
    assert template_placeholders(template) == {
        "aktenzeichen",
        "datum",
        "name",
        "anschrift",
        "posten.text",
        "posten.betrag",
        "summe",
    }


def test_render_replaces_everywhere_and_keeps_formatting(template: bytes) -> None:
    out = render_notice(template, CONTEXT, table_rows=ROWS)
    doc = _open(out)
    first = doc.paragraphs[0]
    assert first.text == (
        "Aktenzeichen: HST-2026-000042 vom 22.11.2026, Empfänger <script>alert('x')</script> & Co."
    )
    value_run = next(run for run in first.runs if "HST-2026-000042" in run.text)
    assert value_run.bold is True
    assert value_run.font.name == "Courier New"
    assert value_run.font.size == Pt(12)
    assert "{{" not in _all_xml_text(out) and "}}" not in _all_xml_text(out)
    assert doc.sections[0].header.paragraphs[0].text == "Kopf HST-2026-000042"
    assert doc.sections[0].footer.paragraphs[0].text == "Fuß 22.11.2026"
    assert doc.paragraphs[2].text == f"Zweimal: {CONTEXT['name']} und {CONTEXT['name']}"


def test_values_are_plain_text(template: bytes) -> None:
    out = render_notice(template, CONTEXT, table_rows=ROWS)
    xml = _all_xml_text(out)
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; Co" in xml
    assert "<script>" not in xml
    # A newline in a value is a line break inside the same paragraph, not a new paragraph.
    address = _open(out).paragraphs[1]
    assert address.text == "Hauptstraße 12a\n44623 Musterstadt"
    assert "<w:br/>" in xml


def test_repeated_table_rows(template: bytes) -> None:
    table = _open(render_notice(template, CONTEXT, table_rows=ROWS)).tables[0]
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Posten", "Betrag"],
        ["Jahressteuer", "1.200,00 €"],
        ["Mahngebühr", "34,50 €"],
        [f"Summe für {CONTEXT['name']}", "1.234,50 €"],
    ]


def test_empty_row_list_removes_the_template_row(template: bytes) -> None:
    table = _open(render_notice(template, CONTEXT, table_rows={"posten": []})).tables[0]
    assert [row.cells[0].text for row in table.rows] == ["Posten", f"Summe für {CONTEXT['name']}"]


def test_unknown_placeholders_are_listed(template: bytes) -> None:
    context = {k: v for k, v in CONTEXT.items() if k not in {"datum", "summe"}}
    with pytest.raises(ApplicationError) as info:
        render_notice(template, context, table_rows={"posten": [{"text": "x"}]})
    assert info.value.code == "notice-placeholder-unknown"
    for name in ("{{datum}}", "{{summe}}", "{{posten.betrag}}"):
        assert name in info.value.message
    assert "{{name}}" not in info.value.message


def test_rows_without_table_rows_are_unknown(template: bytes) -> None:
    with pytest.raises(ApplicationError) as info:
        render_notice(template, CONTEXT)
    assert "{{posten.text}}" in info.value.message


def test_unreadable_template(tmp_path: Path) -> None:
    for source in (b"PK\x03\x04 kein docx", b"", tmp_path / "fehlt.docx"):
        with pytest.raises(ApplicationError) as info:
            render_notice(source, {})
        assert info.value.code == "notice-template-invalid"


def test_template_path_and_control_characters(template: bytes, tmp_path: Path) -> None:
    path = tmp_path / "vorlage.docx"
    path.write_bytes(template)
    context = {**CONTEXT, "name": "Ada\x00\x07 Lovelace"}
    doc = _open(render_notice(path, context, table_rows=ROWS))
    assert doc.paragraphs[2].text == "Zweimal: Ada Lovelace und Ada Lovelace"


# ------------------------------------------------------------------ Hundesteuerbescheid


@pytest.fixture(scope="module")
def notice() -> bytes:
    return render_dog_tax_notice(
        aktenzeichen="HST-2026-000123",
        tax_amount=Decimal("157.10"),
        owner_name="Jürgen Weiß",
        address_lines=["Hauptstraße 12a", "44623 Musterstadt"],
        dog_name="Bello",
        breed_name="Labrador Retriever",
        start_date=date(2026, 10, 14),
        iban=IBAN,
        notice_date=date(2026, 11, 22),
    )


def test_dog_tax_notice_content(notice: bytes) -> None:
    doc = _open(notice)
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Bescheid über die Festsetzung der Hundesteuer" in body
    assert "Jürgen Weiß\n" in body and "Hauptstraße 12a\n44623 Musterstadt" in body
    assert "„Bello“ (Labrador Retriever), gehalten seit 14.10.2026" in body
    assert "ab dem 01.11.2026" in body  # liability from the first of the next month
    assert "Rechtsbehelfsbelehrung" in body
    assert "innerhalb eines Monats nach seiner Bekanntgabe Widerspruch" in body
    assert "Klage beim Verwaltungsgericht" in body
    assert "DE98ZZZ09999999999" in body
    assert "Mandatsreferenz: HST-2026-000123" in body
    info = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert info["Aktenzeichen:"] == "HST-2026-000123"
    assert info["Datum:"] == "22.11.2026"
    header = doc.sections[0].header.paragraphs[0].text
    assert header == "Stadt Musterstadt – Der Oberbürgermeister – Steueramt"
    footer = "\n".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert "Bankverbindung" in footer and "Seite" in footer
    assert "{{" not in _all_xml_text(notice)


def test_dog_tax_fee_table(notice: bytes) -> None:
    rows = [[cell.text for cell in row.cells] for row in _open(notice).tables[1].rows]
    assert [row[0] for row in rows] == [
        "Fälligkeit",
        "15.02.",
        "15.05.",
        "15.08.",
        "15.11.",
        "Jahressteuer",
    ]
    # 157,10 € does not split evenly: the last instalment takes the remaining cents.
    assert [row[2] for row in rows[1:]] == ["39,27 €", "39,27 €", "39,27 €", "39,29 €", "157,10 €"]


def test_dog_tax_iban_is_masked(notice: bytes) -> None:
    xml = _all_xml_text(notice)
    assert "**** **** **** **** **20 51" in xml
    assert IBAN not in xml and "0000 0000 2020" not in xml and "12030000" not in xml
    assert mask_iban("DE89 3704 0044 0532 0130 00") == "**** **** **** **** **30 00"


def test_dog_tax_aktenzeichen_keeps_its_formatting(notice: bytes) -> None:
    cell = _open(notice).tables[0].rows[0].cells[1]
    run = next(run for run in cell.paragraphs[0].runs if run.text == "HST-2026-000123")
    assert run.bold is True
    assert run.font.name == "Courier New"


def test_dog_tax_bad_input() -> None:
    common = {
        "aktenzeichen": "HST-1",
        "owner_name": "A",
        "address_lines": ["B"],
        "dog_name": "C",
        "breed_name": "D",
        "start_date": date(2026, 1, 1),
    }
    with pytest.raises(BusinessRuleError) as info:
        render_dog_tax_notice(tax_amount=Decimal("120"), iban="DE02120300000000202052", **common)
    assert info.value.code == "iban-invalid"
    with pytest.raises(BusinessRuleError) as info:
        render_dog_tax_notice(tax_amount=Decimal("-1"), iban=IBAN, **common)
    assert info.value.code == "notice-amount-invalid"


def test_shipped_template_matches_its_generator(tmp_path: Path) -> None:
    from connectors.documents.templates.make_hundesteuerbescheid import build

    regenerated = build(tmp_path / "neu.docx")
    assert template_placeholders(regenerated) == template_placeholders(HUNDESTEUERBESCHEID_TEMPLATE)
    shipped = _open(HUNDESTEUERBESCHEID_TEMPLATE.read_bytes())
    fresh = _open(regenerated.read_bytes())
    assert [p.text for p in shipped.paragraphs] == [p.text for p in fresh.paragraphs]


def test_values_looking_like_placeholders_stay_text(template: bytes) -> None:
    context = {**CONTEXT, "name": "{{aktenzeichen}}"}
    rows = {"posten": [{"text": "{{summe}}", "betrag": Decimal("1")}]}
    doc = _open(render_notice(template, context, table_rows=rows))
    assert doc.paragraphs[2].text == "Zweimal: {{aktenzeichen}} und {{aktenzeichen}}"
    assert doc.tables[0].rows[1].cells[0].text == "{{summe}}"


def _docx_with(build: Callable[[DocxDocument], None]) -> bytes:
    doc = docx.Document()
    build(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_list_placeholder_outside_a_table_row() -> None:
    source = _docx_with(lambda doc: doc.add_paragraph("Betrag {{posten.betrag}}"))
    with pytest.raises(ApplicationError) as info:
        render_notice(source, {}, table_rows={"posten": [{"betrag": 1}]})
    assert info.value.code == "notice-placeholder-unknown"
    assert "{{posten.betrag}}" in info.value.message


def test_placeholder_inside_a_hyperlink_is_refused() -> None:
    def build(doc: DocxDocument) -> None:
        paragraph = doc.add_paragraph("Siehe ")
        link = OxmlElement("w:hyperlink")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "{{url}}"
        run.append(text)
        link.append(run)
        paragraph._p.append(link)

    with pytest.raises(ApplicationError) as info:
        render_notice(_docx_with(build), {"url": "https://musterstadt.example"})
    assert info.value.code == "notice-placeholder-unrendered"
    assert "{{url}}" in info.value.message


def test_a_template_file_renders_afresh_each_time_and_is_reread_when_changed(
    template: bytes, tmp_path: Path
) -> None:
    # A parsed template is kept per process: no render may see another's values, and a
    # template edited at the same path must be the one used next.
    path = tmp_path / "vorlage.docx"
    path.write_bytes(template)
    first = _open(render_notice(path, CONTEXT, table_rows=ROWS))
    other = {**CONTEXT, "aktenzeichen": "HST-2026-000043"}
    second = _open(render_notice(path, other, table_rows={"posten": []}))
    assert "HST-2026-000042" in first.paragraphs[0].text
    assert "HST-2026-000043" in second.paragraphs[0].text
    assert len(first.tables[0].rows) == 4 and len(second.tables[0].rows) == 2
    edited = docx.Document(io.BytesIO(template))
    edited.add_paragraph("Neu: {{aktenzeichen}}")
    edited.save(str(path))
    third = _open(render_notice(path, CONTEXT, table_rows=ROWS))
    assert third.paragraphs[-1].text == "Neu: HST-2026-000042"
