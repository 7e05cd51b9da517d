"""Generate ``ablehnungsbescheid.docx``, the Musterstadt rejection letter template.

One template for every process: when the back office or a clerk refuses an application that
the portal already accepted, the citizen gets this letter, with the office, the service and the
reasons filled in. Rerun after changing the wording:
``python -m connectors.documents.templates.make_ablehnungsbescheid``. Clerks may edit the
generated file in Word instead.

Placeholders (see `connectors.documents.render_rejection_letter`): amt, vorgang, datum,
antrag_vom (``" vom TT.MM.JJJJ"`` or empty), leistung, empfaenger_name, empfaenger_anschrift,
and the repeated rows gruende.nr, gruende.feld (``"IBAN: "`` or empty), gruende.text.
"""

from __future__ import annotations

from pathlib import Path

from docx.shared import Cm

from connectors.documents.templates._letter import (
    TOWN,
    TOWN_ADDRESS,
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

OUT = Path(__file__).with_name("ablehnungsbescheid.docx")

OFFICE = "{{amt}}"
CONTACT = (
    f"{TOWN} · {TOWN_ADDRESS} · Telefon 02345 6789-0 · poststelle@musterstadt.example · "
    "www.musterstadt.example"
)


def build(path: Path = OUT) -> Path:
    """Write the template to `path` and return it."""
    doc = new_letter(head=letterhead(OFFICE), footer=CONTACT)
    add_address_block(doc, return_address(OFFICE))
    add_info_table(
        doc,
        [
            ("Vorgang:", "{{vorgang}}"),
            ("Datum:", "{{datum}}"),
            ("Auskunft:", "{{amt}}"),
            ("Telefon:", "02345 6789-0"),
        ],
        quoted="{{vorgang}}",
    )

    add_bold(doc, "Ablehnung Ihres Antrags auf {{leistung}}")
    doc.add_paragraph("Ihr Antrag{{antrag_vom}} (Vorgang {{vorgang}})")

    doc.add_paragraph("Guten Tag {{empfaenger_name}},")
    doc.add_paragraph(
        "wir haben Ihren Antrag auf {{leistung}} geprüft. Leider können wir ihm nicht "
        "entsprechen: Der Antrag wird hiermit abgelehnt."
    )

    add_bold(doc, "Begründung")
    reasons = doc.add_table(rows=1, cols=2)
    number, text = reasons.rows[0].cells
    number.width, text.width = Cm(1.0), Cm(15.5)
    number.paragraphs[0].add_run("{{gruende.nr}}.")
    reason = text.paragraphs[0]
    reason.add_run("{{gruende.feld}}").bold = True
    reason.add_run("{{gruende.text}}")
    doc.add_paragraph()

    doc.add_paragraph(
        "Sie können jederzeit einen neuen Antrag stellen, wenn Sie die genannten Angaben "
        "berichtigen oder die Voraussetzungen später erfüllen. Haben Sie Fragen, erreichen Sie "
        "uns unter der oben genannten Telefonnummer; bitte nennen Sie dabei den Vorgang "
        "{{vorgang}}."
    )

    add_rechtsbehelf(doc, rechtsbehelf(OFFICE))
    add_signature(doc, "Mit freundlichen Grüßen\nIm Auftrag\nStadt Musterstadt – {{amt}}")
    return save_template(
        doc,
        path,
        title="Ablehnungsbescheid",
        author="Stadt Musterstadt",
        generator="make_ablehnungsbescheid.py",
    )


if __name__ == "__main__":
    print(build().name)
