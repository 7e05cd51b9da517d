"""Notices (Bescheide) and letters rendered from ``.docx`` templates.

Clerks keep their letters in Word; a template is an ordinary ``.docx`` with ``{{placeholder}}``
marks in body paragraphs, tables and headers/footers. Rendering keeps every bit of the
template's formatting: a placeholder's value takes the formatting of the run the placeholder
starts in, also when Word has split the placeholder over several runs (it does that after
edits and spell checks). Values are plain text — a name like ``<script>`` stays exactly that.

A table row whose placeholders read ``{{name.key}}`` is a *repeated row*: it is copied once per
item of ``table_rows["name"]`` (fee lines, instalments) and removed when the list is empty.
"""

from __future__ import annotations

import copy
import io
import os
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from amtsbote import ApplicationError

__all__ = [
    "PLACEHOLDER",
    "format_amount",
    "format_date",
    "render_notice",
    "template_placeholders",
]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}")
"""A placeholder: ``{{name}}`` or, in a repeated table row, ``{{list.key}}``."""

# Characters XML 1.0 cannot carry; a value containing them would break the document.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def format_amount(amount: Decimal) -> str:
    """German amount with two decimals and thousands dots: ``Decimal("1234.5")`` → ``1.234,50``."""
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_date(value: date) -> str:
    """German date ``TT.MM.JJJJ``."""
    return value.strftime("%d.%m.%Y")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format_amount(value)
    return _XML_INVALID.sub("", str(value))


def _template_error(message: str, code: str) -> ApplicationError:
    # A broken template is a fault of the installation, not of the citizen's data: the item
    # must not be rejected for it. ApplicationError keeps it in its source until fixed.
    return ApplicationError(message, code=code)


# Parsed templates by (path, mtime, size): a render works on a deep copy, which costs about
# two thirds of parsing the package again (every item of a batch renders the same template).
_PARSED: dict[tuple[str, int, int], DocxDocument] = {}
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 16


def _open(template: Path | bytes) -> DocxDocument:
    """A fresh document of the template, for the caller alone to change."""
    if isinstance(template, bytes):
        return _parse(template)
    try:
        st = os.stat(template)
    except OSError:
        return _parse(template)  # raises the template error
    key = (str(template), st.st_mtime_ns, st.st_size)
    with _PARSED_LOCK:  # lxml trees are not for concurrent use, reading included
        parsed = _PARSED.get(key)
        if parsed is None:
            parsed = _parse(template)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = parsed
        return copy.deepcopy(parsed)


def _parse(template: Path | bytes) -> DocxDocument:
    try:
        source: Any = io.BytesIO(template) if isinstance(template, bytes) else str(template)
        return docx.Document(source)
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        etree.XMLSyntaxError,
    ) as exc:
        raise _template_error(
            "Die Bescheidvorlage ist keine lesbare .docx-Datei.", "notice-template-invalid"
        ) from exc


def _paragraphs_of(tables: Sequence[Table]) -> Iterator[Paragraph]:
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
                yield from _paragraphs_of(cell.tables)


def _parts(document: DocxDocument) -> Iterator[tuple[list[Paragraph], list[Table]]]:
    """Body, then every header and footer actually defined in the document."""
    yield list(document.paragraphs), list(document.tables)
    for section in document.sections:
        for part in (
            section.header,
            section.first_page_header,
            section.even_page_header,
            section.footer,
            section.first_page_footer,
            section.even_page_footer,
        ):
            # Reading a linked header would create an empty definition; skip those.
            if not part.is_linked_to_previous:
                yield list(part.paragraphs), list(part.tables)


def _all_paragraphs(document: DocxDocument) -> Iterator[Paragraph]:
    for paragraphs, tables in _parts(document):
        yield from paragraphs
        yield from _paragraphs_of(tables)


def _all_tables(tables: Sequence[Table]) -> Iterator[Table]:
    for table in tables:
        yield table
        for row in table.rows:
            for cell in row.cells:
                yield from _all_tables(cell.tables)


def template_placeholders(template: Path | bytes) -> set[str]:
    """All placeholder names a template uses (``"name"`` and ``"list.key"``).

    Args:
        template: The ``.docx`` template.

    Returns:
        The set of placeholder names.

    Raises:
        ApplicationError: ``notice-template-invalid`` if the template cannot be read.
    """
    document = _open(template)
    return {
        match.group(1)
        for paragraph in _all_paragraphs(document)
        for match in PLACEHOLDER.finditer(paragraph.text)
    }


def _render_paragraph(paragraph: Paragraph, lookup: Callable[[str], str]) -> None:
    runs = paragraph.runs
    texts = [run.text for run in runs]
    matches = list(PLACEHOLDER.finditer("".join(texts)))
    if not matches:
        return
    offsets: list[int] = []
    lengths = [len(text) for text in texts]
    position = 0
    for length in lengths:
        offsets.append(position)
        position += length

    def run_at(char: int) -> int:
        # The run holding character `char` of the paragraph's original text.
        for i, offset in enumerate(offsets):
            if offset <= char < offset + lengths[i]:
                return i
        raise AssertionError("placeholder outside the paragraph text")  # pragma: no cover

    # Right to left, so the offsets of earlier matches stay valid.
    for match in reversed(matches):
        value = lookup(match.group(1))
        start, end = match.start(), match.end()
        first, last = run_at(start), run_at(end - 1)
        if first == last:
            text = texts[first]
            texts[first] = text[: start - offsets[first]] + value + text[end - offsets[first] :]
        else:
            texts[first] = texts[first][: start - offsets[first]] + value
            for middle in range(first + 1, last):
                texts[middle] = ""
            texts[last] = texts[last][end - offsets[last] :]
    for run, text in zip(runs, texts, strict=True):
        if run.text != text:
            run.text = text


def _row_lists(row_xml: Any, list_names: set[str]) -> set[str]:
    text = "".join(row_xml.itertext())
    return {
        name.split(".", 1)[0]
        for name in PLACEHOLDER.findall(text)
        if "." in name and name.split(".", 1)[0] in list_names
    }


def _unknown(names: Sequence[str]) -> ApplicationError:
    listed = ", ".join("{{" + name + "}}" for name in sorted(set(names)))
    return _template_error(
        f"Die Bescheidvorlage enthält Platzhalter ohne Wert: {listed}.",
        "notice-placeholder-unknown",
    )


def render_notice(
    template: Path | bytes,
    context: Mapping[str, Any],
    *,
    table_rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> bytes:
    """Render a letter from a ``.docx`` template.

    Values are converted to text: `date` → ``TT.MM.JJJJ``, `Decimal` → ``1.234,50``,
    `bool` → ``ja``/``nein``, `None` → empty, anything else with `str`; a ``\\n`` in a value
    becomes a line break. Pass a ready string for any other format.

    Args:
        template: The ``.docx`` template (path or bytes).
        context: Placeholder name → value for ``{{name}}``.
        table_rows: List name → items for repeated table rows: a row containing
            ``{{name.key}}`` is copied per item, ``key`` looked up in the item.

    Returns:
        The rendered ``.docx`` bytes.

    Raises:
        ApplicationError: ``notice-template-invalid`` for an unreadable template,
            ``notice-placeholder-unknown`` listing every placeholder without a value
            (a fault of the template or the caller, never of the citizen's data),
            ``notice-placeholder-unrendered`` for a placeholder inside a hyperlink or field.
    """
    document = _open(template)
    rows = dict(table_rows or {})
    list_names = set(rows)

    used: set[str] = set()
    unreachable: set[str] = set()
    for paragraph in _all_paragraphs(document):
        in_text = set(PLACEHOLDER.findall(paragraph.text))
        in_runs = set(PLACEHOLDER.findall("".join(run.text for run in paragraph.runs)))
        used |= in_text
        unreachable |= in_text - in_runs
    if unreachable:
        # Inside a hyperlink or field result python-docx cannot reach the runs; the
        # placeholder would silently stay in the letter.
        raise _template_error(
            "Die Bescheidvorlage enthält Platzhalter, die nicht ersetzt werden können (z. B. in "
            "einem Link oder Feld): "
            + ", ".join("{{" + name + "}}" for name in sorted(unreachable))
            + ".",
            "notice-placeholder-unrendered",
        )
    unknown = [
        name
        for name in used
        if name not in context and not ("." in name and name.split(".", 1)[0] in list_names)
    ]
    missing_in_items = [
        name
        for name in used
        if "." in name
        and name.split(".", 1)[0] in list_names
        and any(name.split(".", 1)[1] not in item for item in rows[name.split(".", 1)[0]])
    ]
    if unknown or missing_in_items:
        raise _unknown(unknown + missing_in_items)

    def lookup(name: str) -> str:
        if name not in context:  # a list placeholder outside its repeated row
            raise _unknown([name])
        return _as_text(context[name])

    # Find the repeated rows first, render everything else once, then expand the rows: every
    # paragraph is rendered exactly once, so a value that looks like "{{x}}" stays text.
    repeated: list[tuple[Table, Any, str]] = []
    for _, tables in _parts(document):
        for table in _all_tables(tables):
            for row in table.rows:
                names = _row_lists(row._tr, list_names)
                if len(names) > 1:
                    raise _template_error(
                        "Eine Tabellenzeile der Bescheidvorlage mischt Platzhalter mehrerer "
                        f"Listen: {', '.join(sorted(names))}.",
                        "notice-template-invalid",
                    )
                if names:
                    repeated.append((table, row._tr, names.pop()))
    template_rows = {id(tr) for _, tr, _ in repeated}
    for paragraph in _all_paragraphs(document):
        if not any(id(tr) in template_rows for tr in paragraph._p.iterancestors(qn("w:tr"))):
            _render_paragraph(paragraph, lookup)
    for table, tr, list_name in repeated:
        for item in rows[list_name]:
            new_tr = copy.deepcopy(tr)
            tr.addprevious(new_tr)
            new_row = next(r for r in table.rows if r._tr is new_tr)
            item_lookup = _item_lookup(list_name, item, lookup)
            for cell in new_row.cells:
                for paragraph in [*cell.paragraphs, *_paragraphs_of(cell.tables)]:
                    _render_paragraph(paragraph, item_lookup)
        tr.getparent().remove(tr)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _item_lookup(
    list_name: str, item: Mapping[str, Any], outer: Callable[[str], str]
) -> Callable[[str], str]:
    def lookup(name: str) -> str:
        prefix, _, key = name.partition(".")
        if prefix == list_name and key:
            return _as_text(item[key])
        return outer(name)

    return lookup
