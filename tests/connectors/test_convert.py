"""DOCX letters to PDF with the real LibreOffice (Debian's soffice, headless)."""

from __future__ import annotations

import io
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from pypdf import PdfReader

from amtsbote import ApplicationError
from connectors.documents import LetterConverter, to_pdf
from tests.connectors._samples import dog_tax_notice


@pytest.fixture(scope="module")
def notice() -> bytes:
    return dog_tax_notice()


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_notice_becomes_a_pdf_with_its_content(notice: bytes) -> None:
    pdf = to_pdf(notice)
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert "HST-2026-000123" in text
    assert "Bescheid über die Festsetzung der Hundesteuer" in text
    assert "Jürgen Weiß" in text  # umlauts survive the fonts
    assert "Rechtsbehelfsbelehrung" in text


def test_parallel_letters_do_not_clash(notice: bytes) -> None:
    # Two letters at once need two profiles; afterwards both are kept for reuse.
    converter = LetterConverter()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(converter.to_pdf, [notice, bytes(notice)])
        for pdf in (first, second):
            assert "HST-2026-000123" in _text(pdf)
        assert len(converter._idle) == 2
        # A later letter reuses a profile instead of making a third.
        converter.to_pdf(notice)
        assert converter._made == 2
    finally:
        converter.close()


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name.replace("__", "/"), data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(b"Sehr geehrte Damen und Herren", id="plain-text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"notice-half", id="truncated"),
        pytest.param(_zip(readme__txt=b"hallo"), id="zip-without-document"),
    ],
)
def test_what_is_not_a_docx_is_refused(notice: bytes, broken: bytes) -> None:
    data = notice[: len(notice) // 2] if broken == b"notice-half" else broken
    with pytest.raises(ApplicationError) as info:
        to_pdf(data)
    assert info.value.code == "letter-not-docx"


def test_a_docx_libreoffice_cannot_load_fails_clearly() -> None:
    # Looks like a DOCX from outside, but its main part is no WordprocessingML.
    corrupt = _zip(
        **{
            "[Content_Types].xml": b"<Types/>",
            "word__document.xml": b"\x00\x01 not xml at all <<<",
        }
    )
    with pytest.raises(ApplicationError) as info:
        to_pdf(corrupt)
    assert info.value.code == "letter-conversion-failed"


def test_timeout_and_missing_soffice(notice: bytes) -> None:
    hung = LetterConverter(timeout=0.01)
    try:
        with pytest.raises(ApplicationError) as info:
            hung.to_pdf(notice)
        assert info.value.code == "letter-conversion-timeout"
        assert hung._idle == []  # the killed run's profile is not reused
    finally:
        hung.close()
    with pytest.raises(ApplicationError) as info:
        LetterConverter(soffice="/nonexistent/soffice").to_pdf(notice)
    assert info.value.code == "soffice-missing"
