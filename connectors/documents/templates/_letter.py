"""The Musterstadt letter layout shared by the template generators.

Every letter the city sends looks the same: A4 with a DIN 5008-like margin, the letterhead and
the town's address in the header, a footer line and "Seite x von y", the return address above
the recipient, an information block on the right, a Rechtsbehelfsbelehrung and the note that a
machine-made notice needs no signature. The generators (``make_*.py``) only add what their
letter says; this module keeps the look in one place, so all templates change together.

Generators import it by its package name, so run them as modules:
``python -m connectors.documents.templates.make_hundesteuerbescheid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

__all__ = [
    "TOWN",
    "TOWN_ADDRESS",
    "TOWN_CONTACT",
    "add_address_block",
    "add_bold",
    "add_info_table",
    "add_rechtsbehelf",
    "add_signature",
    "letterhead",
    "new_letter",
    "rechtsbehelf",
    "return_address",
    "save_template",
]

TOWN = "Stadt Musterstadt"
TOWN_ADDRESS = "Rathausplatz 1 · 44623 Musterstadt"
TOWN_CONTACT = f"{TOWN_ADDRESS} · www.musterstadt.example"


def letterhead(office: str) -> str:
    """The bold first header line: ``Stadt Musterstadt – Der Oberbürgermeister – <office>``."""
    return f"{TOWN} – Der Oberbürgermeister – {office}"


def return_address(office: str) -> str:
    """The small return-address line above the recipient (visible in a window envelope)."""
    return f"{TOWN} · {office} · {TOWN_ADDRESS}"


def rechtsbehelf(office: str) -> str:
    """The Rechtsbehelfsbelehrung: Widerspruch within one month at `office`, then the court."""
    return (
        "Gegen diesen Bescheid kann innerhalb eines Monats nach seiner Bekanntgabe Widerspruch "
        "erhoben werden. Der Widerspruch ist schriftlich, in elektronischer Form nach § 3a "
        "Absatz 2 des Verwaltungsverfahrensgesetzes oder zur Niederschrift bei der Stadt "
        f"Musterstadt, Der Oberbürgermeister, {office}, Rathausplatz 1, 44623 Musterstadt, "
        "einzulegen. Wird dem Widerspruch nicht abgeholfen, kann innerhalb eines Monats nach "
        "Bekanntgabe des Widerspruchsbescheids Klage beim Verwaltungsgericht Musterstadt "
        "erhoben werden."
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


def new_letter(*, head: str, footer: str) -> DocxDocument:
    """A blank A4 letter with the city's fonts, margins, header and footer.

    Args:
        head: The bold letterhead line (see `letterhead`); may hold placeholders.
        footer: The small footer line (bank details, contact).

    Returns:
        The document, ready for the body.
    """
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)

    first = section.header.paragraphs[0]
    run = first.add_run(head)
    run.bold = True
    run.font.size = Pt(13)
    run.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    sub = section.header.add_paragraph(TOWN_CONTACT)
    sub.runs[0].font.size = Pt(8)

    foot = section.footer.paragraphs[0]
    foot.add_run(footer).font.size = Pt(7.5)
    page = section.footer.add_paragraph()
    page.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    page.add_run("Seite ").font.size = Pt(8)
    _field(page, "PAGE", "1")
    page.add_run(" von ").font.size = Pt(8)
    _field(page, "NUMPAGES", "1")
    _drop_extras(doc)
    return doc


_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


def _drop_extras(doc: DocxDocument) -> None:
    """Leave out the parts of python-docx's blank document that no letter needs.

    ``stylesWithEffects.xml`` (438 KB, a Word 2010 extension beside ``styles.xml``; the letters'
    formatting lives in ``styles.xml`` and the document) and the preview thumbnail: every notice
    rendered from the template would carry, unpack and pack them again.
    """
    for rel_id, rel in list(doc.part.rels.items()):
        if rel.reltype == _STYLES_WITH_EFFECTS:
            del doc.part.rels[rel_id]
    package_rels = doc.part.package.rels
    for rel_id, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package_rels[rel_id]


def add_address_block(doc: DocxDocument, sender: str) -> None:
    """Return address, then ``{{empfaenger_name}}`` and ``{{empfaenger_anschrift}}``."""
    back = doc.add_paragraph()
    run = back.add_run(sender)
    run.font.size = Pt(7)
    run.underline = True
    doc.add_paragraph("{{empfaenger_name}}")
    doc.add_paragraph("{{empfaenger_anschrift}}")
    doc.add_paragraph()


def add_info_table(doc: DocxDocument, rows: Sequence[tuple[str, str]], *, quoted: str) -> None:
    """The right-aligned information block (label, value), then an empty line.

    Args:
        doc: The letter.
        rows: Label and value per line.
        quoted: The value the citizen quotes back (the reference): printed bold in Courier.
    """
    info = doc.add_table(rows=len(rows), cols=2)
    info.alignment = WD_TABLE_ALIGNMENT.RIGHT
    for row, (label, value) in zip(info.rows, rows, strict=True):
        row.cells[0].paragraphs[0].add_run(label)
        run = row.cells[1].paragraphs[0].add_run(value)
        if value == quoted:
            run.bold = True
            run.font.name = "Courier New"
    doc.add_paragraph()


def add_bold(doc: DocxDocument, text: str) -> Paragraph:
    """A paragraph of one bold run (subject line, headings)."""
    paragraph = doc.add_paragraph()
    paragraph.add_run(text).bold = True
    return paragraph


def add_rechtsbehelf(doc: DocxDocument, *paragraphs: str) -> None:
    """The heading "Rechtsbehelfsbelehrung" and its paragraphs, then an empty line."""
    add_bold(doc, "Rechtsbehelfsbelehrung")
    for text in paragraphs:
        doc.add_paragraph(text)
    doc.add_paragraph()


def add_signature(doc: DocxDocument, closing: str) -> None:
    """The complimentary close and the note that a machine-made notice needs no signature."""
    doc.add_paragraph(closing)
    note = doc.add_paragraph(
        "Dieser Bescheid wurde maschinell erstellt und ist ohne Unterschrift gültig."
    )
    note.runs[0].font.size = Pt(8)
    note.runs[0].italic = True


def save_template(
    doc: DocxDocument, path: Path, *, title: str, author: str, generator: str
) -> Path:
    """Set the document properties and write the template.

    Args:
        doc: The finished template.
        path: Where to write it.
        title: Document title.
        author: Author and last editor.
        generator: File name of the generating script (named in the comments).

    Returns:
        `path`.
    """
    doc.core_properties.title = title
    doc.core_properties.author = author
    doc.core_properties.last_modified_by = author
    doc.core_properties.comments = f"Vorlage mit Platzhaltern; erzeugt von {generator}"
    # Fixed dates keep a regenerated template identical unless the content changed.
    doc.core_properties.created = datetime(2026, 1, 1, tzinfo=UTC)
    doc.core_properties.modified = datetime(2026, 1, 1, tzinfo=UTC)
    doc.core_properties.revision = 1
    doc.save(str(path))
    return path
