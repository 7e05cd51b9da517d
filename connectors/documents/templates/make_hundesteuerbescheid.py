"""Generate ``hundesteuerbescheid.docx``, the Musterstadt dog-tax notice template.

The template is committed next to this script; rerun it after changing the wording:
``python connectors/documents/templates/make_hundesteuerbescheid.py``. Clerks may edit the
generated file in Word instead: rendering copes with the run splits Word introduces.
Placeholders (see `connectors.documents.render_dog_tax_notice`): aktenzeichen, datum,
empfaenger_name, empfaenger_anschrift, hund_name, rasse, haltung_ab, steuerpflicht_ab,
jahressteuer, iban_maskiert, glaeubiger_id, mandatsreferenz, and the repeated rows
raten.faelligkeit, raten.zeitraum, raten.betrag.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

OUT = Path(__file__).with_name("hundesteuerbescheid.docx")

LETTERHEAD = "Stadt Musterstadt – Der Oberbürgermeister – Steueramt"
RETURN_ADDRESS = "Stadt Musterstadt · Steueramt · Rathausplatz 1 · 44623 Musterstadt"
BANK = (
    "Bankverbindung: Sparkasse Musterstadt · IBAN DE89 3704 0044 0532 0130 00 · "
    "BIC COBADEFFXXX · Gläubiger-ID DE98ZZZ09999999999"
)
RECHTSBEHELF = (
    "Gegen diesen Bescheid kann innerhalb eines Monats nach seiner Bekanntgabe Widerspruch "
    "erhoben werden. Der Widerspruch ist schriftlich, in elektronischer Form nach § 3a Absatz 2 "
    "des Verwaltungsverfahrensgesetzes oder zur Niederschrift bei der Stadt Musterstadt, "
    "Der Oberbürgermeister, Steueramt, Rathausplatz 1, 44623 Musterstadt, einzulegen. "
    "Wird dem Widerspruch nicht abgeholfen, kann innerhalb eines Monats nach Bekanntgabe des "
    "Widerspruchsbescheids Klage beim Verwaltungsgericht Musterstadt erhoben werden."
)
HINWEIS = (
    "Hinweis: Widerspruch und Klage haben keine aufschiebende Wirkung (§ 80 Absatz 2 Satz 1 "
    "Nummer 1 der Verwaltungsgerichtsordnung). Die festgesetzte Steuer ist daher auch dann zu "
    "den genannten Terminen zu zahlen, wenn Sie Widerspruch einlegen."
)


def _field(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
    """Append a Word field (PAGE, NUMPAGES) whose cached result is `placeholder`."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run._r.append(begin)
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    run = paragraph.add_run()
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run._r.append(separate)
    paragraph.add_run(placeholder)
    run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def build(path: Path = OUT) -> Path:
    """Write the template to `path` and return it."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)

    head = section.header.paragraphs[0]
    run = head.add_run(LETTERHEAD)
    run.bold = True
    run.font.size = Pt(13)
    run.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    sub = section.header.add_paragraph(
        "Rathausplatz 1 · 44623 Musterstadt · www.musterstadt.example"
    )
    sub.runs[0].font.size = Pt(8)

    foot = section.footer.paragraphs[0]
    foot.add_run(BANK).font.size = Pt(7.5)
    page = section.footer.add_paragraph()
    page.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    page.add_run("Seite ").font.size = Pt(8)
    _field(page, "PAGE", "1")
    page.add_run(" von ").font.size = Pt(8)
    _field(page, "NUMPAGES", "1")

    back = doc.add_paragraph()
    run = back.add_run(RETURN_ADDRESS)
    run.font.size = Pt(7)
    run.underline = True
    doc.add_paragraph("{{empfaenger_name}}")
    doc.add_paragraph("{{empfaenger_anschrift}}")
    doc.add_paragraph()

    info = doc.add_table(rows=4, cols=2)
    info.alignment = WD_TABLE_ALIGNMENT.RIGHT
    for row, (label, value) in zip(
        info.rows,
        [
            ("Aktenzeichen:", "{{aktenzeichen}}"),
            ("Datum:", "{{datum}}"),
            ("Auskunft:", "Steueramt, Zimmer 104"),
            ("Telefon:", "02345 6789-104"),
        ],
        strict=True,
    ):
        row.cells[0].paragraphs[0].add_run(label)
        run = row.cells[1].paragraphs[0].add_run(value)
        if value == "{{aktenzeichen}}":
            # The Aktenzeichen is printed bold in Courier so it is easy to quote back.
            run.bold = True
            run.font.name = "Courier New"
    doc.add_paragraph()

    subject = doc.add_paragraph()
    subject.add_run("Bescheid über die Festsetzung der Hundesteuer").bold = True
    doc.add_paragraph("für Ihren Hund „{{hund_name}}“ ({{rasse}}), gehalten seit {{haltung_ab}}")

    doc.add_paragraph("Guten Tag {{empfaenger_name}},")
    doc.add_paragraph(
        "aufgrund der Hundesteuersatzung der Stadt Musterstadt in der zurzeit gültigen Fassung "
        "wird die Hundesteuer für den oben genannten Hund ab dem {{steuerpflicht_ab}} wie folgt "
        "festgesetzt:"
    )

    fees = doc.add_table(rows=3, cols=3)
    fees.style = doc.styles["Table Grid"]
    for cell, text in zip(fees.rows[0].cells, ("Fälligkeit", "Zeitraum", "Betrag"), strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for cell, text in zip(
        fees.rows[1].cells,
        ("{{raten.faelligkeit}}", "{{raten.zeitraum}}", "{{raten.betrag}} €"),
        strict=True,
    ):
        cell.paragraphs[0].add_run(text)
    for cell, text in zip(
        fees.rows[2].cells, ("Jahressteuer", "Kalenderjahr", "{{jahressteuer}} €"), strict=True
    ):
        cell.paragraphs[0].add_run(text).bold = True
    for row in fees.rows:
        row.cells[2].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()

    doc.add_paragraph(
        "Die Steuer ist jeweils zum 15.02., 15.05., 15.08. und 15.11. eines Jahres mit einem "
        "Viertel des Jahresbetrags fällig. Sie wird in den folgenden Jahren ohne neuen Bescheid "
        "in gleicher Höhe erhoben, solange sich die Verhältnisse nicht ändern."
    )
    sepa = doc.add_paragraph()
    sepa.add_run("Zahlungsweise: ").bold = True
    sepa.add_run(
        "Die Beträge werden aufgrund des erteilten SEPA-Lastschriftmandats zu den "
        "Fälligkeitsterminen von Ihrem Konto mit der IBAN {{iban_maskiert}} eingezogen. "
        "Gläubiger-Identifikationsnummer: {{glaeubiger_id}}, Mandatsreferenz: "
        "{{mandatsreferenz}}. Bitte sorgen Sie für ausreichende Deckung."
    )
    doc.add_paragraph(
        "Bitte teilen Sie uns innerhalb von zwei Wochen mit, wenn Sie den Hund abgeben oder "
        "Musterstadt verlassen."
    )

    heading = doc.add_paragraph()
    heading.add_run("Rechtsbehelfsbelehrung").bold = True
    doc.add_paragraph(RECHTSBEHELF)
    doc.add_paragraph(HINWEIS)
    doc.add_paragraph()
    doc.add_paragraph("Mit freundlichen Grüßen\nIm Auftrag\nIhr Steueramt")
    note = doc.add_paragraph(
        "Dieser Bescheid wurde maschinell erstellt und ist ohne Unterschrift gültig."
    )
    note.runs[0].font.size = Pt(8)
    note.runs[0].italic = True

    doc.core_properties.title = "Bescheid über die Festsetzung der Hundesteuer"
    doc.core_properties.author = "Stadt Musterstadt – Steueramt"
    doc.core_properties.last_modified_by = "Stadt Musterstadt – Steueramt"
    doc.core_properties.comments = (
        "Vorlage mit Platzhaltern; erzeugt von make_hundesteuerbescheid.py"
    )
    # Fixed dates keep the regenerated template identical unless the content changed.
    doc.core_properties.created = datetime(2026, 1, 1, tzinfo=UTC)
    doc.core_properties.modified = datetime(2026, 1, 1, tzinfo=UTC)
    doc.core_properties.revision = 1
    doc.save(str(path))
    return path


if __name__ == "__main__":
    print(build().name)
