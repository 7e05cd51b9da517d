"""PDF forms: read a filled AcroForm into a record, fill one from a record, refuse bad PDFs."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, Field
from pypdf import PdfReader, PdfWriter

from amtsbote import BusinessRuleError
from connectors.documents import (
    CHECKBOX,
    GERMAN_DATE,
    GERMAN_DECIMAL,
    FieldMapping,
    FormField,
    fill_form,
    read_form,
)
from tests.connectors import _samples

FIELDS = [
    ("Name", "text"),
    ("Geburtsdatum", "text"),
    ("Betrag", "text"),
    ("Chipnummer", "text"),
    ("Gefaehrlich", "checkbox"),
]


class DogForm(BaseModel):
    name: str
    birth_date: date
    fee: Decimal | None = None
    chip: str | None = Field(default=None, pattern=r"^\d{15}$")
    listed: bool = False


MAPPING = FieldMapping(
    {
        "Name": FormField("name", required=True, label="Name des Halters"),
        "Geburtsdatum": FormField("birth_date", GERMAN_DATE, required=True),
        "Betrag": FormField("fee", GERMAN_DECIMAL),
        "Chipnummer": FormField("chip", label="Chipnummer des Hundes"),
        "Gefaehrlich": FormField("listed", CHECKBOX),
    }
)


@pytest.fixture(scope="module")
def empty_form() -> bytes:
    return _samples.fillable_pdf(FIELDS)


def _fill_raw(pdf: bytes, values: dict[str, str]) -> bytes:
    """Fill fields the way a PDF viewer would (independent of `fill_form`)."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.update_page_form_field_values(writer.pages[0], values, auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_read_form_converts_german_values(empty_form: bytes) -> None:
    filled = _fill_raw(
        empty_form,
        {
            "Name": "  Jürgen Weiß ",
            "Geburtsdatum": "01.04.1980",
            "Betrag": "1.234,50",
            "Chipnummer": "276098106543210",
            "Gefaehrlich": "/Yes",
        },
    )
    record = read_form(filled, MAPPING, DogForm)
    assert record == DogForm(
        name="Jürgen Weiß",
        birth_date=date(1980, 4, 1),
        fee=Decimal("1234.50"),
        chip="276098106543210",
        listed=True,
    )


def test_read_form_from_path_and_unchecked_box(empty_form: bytes, tmp_path: Path) -> None:
    path = tmp_path / "antrag.pdf"
    path.write_bytes(_fill_raw(empty_form, {"Name": "Ada", "Geburtsdatum": "29.02.2024"}))
    record = read_form(path, MAPPING, DogForm)
    assert record.listed is False
    assert record.fee is None
    assert record.birth_date == date(2024, 2, 29)


def test_fill_then_read_round_trip(empty_form: bytes) -> None:
    record = DogForm(
        name="Zoë Müller-Lüdenscheidt",
        birth_date=date(1999, 12, 31),
        fee=Decimal("99999.5"),
        chip="276098106543210",
        listed=True,
    )
    filled = fill_form(empty_form, MAPPING, record)
    reader = PdfReader(io.BytesIO(filled))
    assert bool(reader.trailer["/Root"]["/AcroForm"]["/NeedAppearances"]) is True
    fields = reader.get_fields() or {}
    assert fields["Geburtsdatum"]["/V"] == "31.12.1999"
    assert fields["Betrag"]["/V"] == "99.999,50"
    assert fields["Gefaehrlich"]["/V"] == "/Yes"
    checkbox = reader.pages[0]["/Annots"][4].get_object()
    assert checkbox["/AS"] == "/Yes"  # the widget shows the tick, not only the value
    assert read_form(filled, MAPPING, DogForm) == record.model_copy(
        update={"fee": Decimal("99999.50")}
    )


def test_fill_form_unchecks_and_keeps_form_fillable(empty_form: bytes) -> None:
    record = DogForm(name="Ada", birth_date=date(2020, 1, 2))
    filled = fill_form(empty_form, MAPPING, record)
    fields = PdfReader(io.BytesIO(filled)).get_fields() or {}
    assert fields["Gefaehrlich"]["/V"] == "/Off"
    assert set(fields) == {name for name, _ in FIELDS}


def test_missing_required_fields_are_listed(empty_form: bytes) -> None:
    filled = _fill_raw(empty_form, {"Betrag": "12,00"})
    with pytest.raises(BusinessRuleError) as info:
        read_form(filled, MAPPING, DogForm)
    assert info.value.code == "form-field-missing"
    assert "„Name des Halters“" in info.value.message
    assert "„Geburtsdatum“" in info.value.message
    assert info.value.field == "name"


@pytest.mark.parametrize(
    ("field", "value"),
    [("Geburtsdatum", "31.02.2024"), ("Geburtsdatum", "2024-02-01"), ("Betrag", "12.5,00")],
)
def test_unreadable_values(empty_form: bytes, field: str, value: str) -> None:
    values = {"Name": "Ada", "Geburtsdatum": "01.01.2020", field: value}
    with pytest.raises(BusinessRuleError) as info:
        read_form(_fill_raw(empty_form, values), MAPPING, DogForm)
    assert info.value.code == "form-value-invalid"
    assert f"„{field}“" in info.value.message


def test_record_validation_failure_names_the_form_field(empty_form: bytes) -> None:
    filled = _fill_raw(
        empty_form, {"Name": "Ada", "Geburtsdatum": "01.01.2020", "Chipnummer": "12AB"}
    )
    with pytest.raises(BusinessRuleError) as info:
        read_form(filled, MAPPING, DogForm)
    assert info.value.code == "form-record-invalid"
    assert "„Chipnummer des Hundes“" in info.value.message
    assert info.value.field == "chip"
    assert info.value.__cause__ is not None


def test_pdf_without_form() -> None:
    with pytest.raises(BusinessRuleError) as info:
        read_form(_samples.blank_pdf(), MAPPING, DogForm)
    assert info.value.code == "pdf-form-missing"
    assert info.value.message == "Die PDF-Datei enthält kein ausfüllbares Formular."
    with pytest.raises(BusinessRuleError) as info:
        fill_form(_samples.blank_pdf(), MAPPING, DogForm(name="A", birth_date=date(2020, 1, 1)))
    assert info.value.code == "pdf-form-missing"


def test_encrypted_form(empty_form: bytes) -> None:
    with pytest.raises(BusinessRuleError) as info:
        read_form(_samples.encrypted_pdf(empty_form), MAPPING, DogForm)
    assert info.value.code == "pdf-encrypted"
    assert "verschlüsselt" in info.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a not a pdf at all",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntrailer garbage",
    ],
    ids=["empty", "gif", "truncated"],
)
def test_corrupt_pdf(data: bytes) -> None:
    with pytest.raises(BusinessRuleError) as info:
        read_form(data, MAPPING, DogForm)
    assert info.value.code == "pdf-invalid"


def test_truncated_real_form(empty_form: bytes) -> None:
    with pytest.raises(BusinessRuleError) as info:
        read_form(empty_form[: len(empty_form) // 3], MAPPING, DogForm)
    assert info.value.code in {"pdf-invalid", "pdf-form-missing"}


def test_fill_form_requires_declared_fields() -> None:
    form = _samples.fillable_pdf([("Name", "text")])
    with pytest.raises(BusinessRuleError) as info:
        fill_form(form, MAPPING, DogForm(name="A", birth_date=date(2020, 1, 1)))
    assert info.value.code == "form-field-missing"
    assert "„Geburtsdatum“" in info.value.message


def test_missing_file_path(tmp_path: Path) -> None:
    with pytest.raises(BusinessRuleError) as info:
        read_form(tmp_path / "fehlt.pdf", MAPPING, DogForm)
    assert info.value.code == "pdf-unreadable"
