"""Generate ``hundesteuerbescheid.docx``, the Musterstadt dog-tax notice template.

The template is committed next to this script; rerun it after changing the wording:
``python -m connectors.documents.templates.make_hundesteuerbescheid``. Clerks may edit the
generated file in Word instead: rendering copes with the run splits Word introduces.
Placeholders (see `connectors.documents.render_dog_tax_notice`): aktenzeichen, datum,
empfaenger_name, empfaenger_anschrift, hund_name, rasse, haltung_ab, steuerpflicht_ab,
jahressteuer, iban_maskiert, glaeubiger_id, mandatsreferenz, and the repeated rows
raten.faelligkeit, raten.zeitraum, raten.betrag.
"""

from __future__ import annotations

from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH

from connectors.documents.templates._letter import (
    add_address_block,
    add_bold,
    add_info_table,
    add_rechtsbehelf,
    add_signature,
    letterhead,
    new_letter,
    rechtsbehelf,
    return_address,
    save_template,
)

OUT = Path(__file__).with_name("hundesteuerbescheid.docx")

OFFICE = "Steueramt"
TITLE = "Bescheid über die Festsetzung der Hundesteuer"
BANK = (
    "Bankverbindung: Sparkasse Musterstadt · IBAN DE89 3704 0044 0532 0130 00 · "
    "BIC COBADEFFXXX · Gläubiger-ID DE98ZZZ09999999999"
)
HINWEIS = (
    "Hinweis: Widerspruch und Klage haben keine aufschiebende Wirkung (§ 80 Absatz 2 Satz 1 "
    "Nummer 1 der Verwaltungsgerichtsordnung). Die festgesetzte Steuer ist daher auch dann zu "
    "den genannten Terminen zu zahlen, wenn Sie Widerspruch einlegen."
)


def build(path: Path = OUT) -> Path:
    """Write the template to `path` and return it."""
    doc = new_letter(head=letterhead(OFFICE), footer=BANK)
    add_address_block(doc, return_address(OFFICE))
    add_info_table(
        doc,
        [
            ("Aktenzeichen:", "{{aktenzeichen}}"),
            ("Datum:", "{{datum}}"),
            ("Auskunft:", "Steueramt, Zimmer 104"),
            ("Telefon:", "02345 6789-104"),
        ],
        quoted="{{aktenzeichen}}",
    )

    add_bold(doc, TITLE)
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

    add_rechtsbehelf(doc, rechtsbehelf(OFFICE), HINWEIS)
    add_signature(doc, "Mit freundlichen Grüßen\nIm Auftrag\nIhr Steueramt")
    return save_template(
        doc,
        path,
        title=TITLE,
        author="Stadt Musterstadt – Steueramt",
        generator="make_hundesteuerbescheid.py",
    )


if __name__ == "__main__":
    print(build().name)
