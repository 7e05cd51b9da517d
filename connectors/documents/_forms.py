"""Fillable PDF forms (AcroForm) ⇄ typed records.

Many municipal forms are still PDFs a citizen fills in and sends back. `read_form` carries the
field values into a pydantic record through a declared `FieldMapping` (so the PDF's field
names, often cryptic like ``Textfeld 12``, stay out of business code); `fill_form` does the
reverse for pre-filled forms. German conventions (``TT.MM.JJJJ`` dates, decimal comma,
``/Yes``/``/Off`` checkboxes) are handled by small converters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pypdf import PdfReader, PdfWriter

from amtsbote import BusinessRuleError

from ._pdf import PDF_PARSE_ERRORS, open_pdf

__all__ = [
    "CHECKBOX",
    "GERMAN_DATE",
    "GERMAN_DECIMAL",
    "TEXT",
    "Converter",
    "FieldMapping",
    "FormField",
    "fill_form",
    "read_form",
]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Converter:
    """How one kind of value travels between a PDF field (always text) and a record.

    Attributes:
        name: Short name used in error messages (``"Datum"``, ``"Betrag"`` …).
        to_record: PDF text → record value; raises `ValueError` on bad input.
        to_pdf: Record value → PDF text.
        is_checkbox: The field is a checkbox: an unticked box is a value (``False``), not a
            missing one, and filling uses the widget's own on-state name.
    """

    name: str
    to_record: Callable[[str], Any]
    to_pdf: Callable[[Any], str]
    is_checkbox: bool = False


def _text_in(value: str) -> str:
    return value.strip()


def _text_out(value: Any) -> str:
    return "" if value is None else str(value)


def _date_in(value: str) -> date:
    return datetime.strptime(value.strip(), "%d.%m.%Y").date()


def _date_out(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, date):
        raise ValueError("not a date")
    return value.strftime("%d.%m.%Y")


_GERMAN_AMOUNT = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$")


def _decimal_in(value: str) -> Decimal:
    text = value.strip().removesuffix("€").removesuffix("EUR").strip()
    if not _GERMAN_AMOUNT.match(text):
        raise ValueError("not a German amount")
    try:
        return Decimal(text.replace(".", "").replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid numbers
        raise ValueError("not a German amount") from exc


def _decimal_out(value: Any) -> str:
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    return f"{amount:,.2f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def _checkbox_in(value: str) -> bool:
    return value.strip() not in ("", "/Off", "Off")


def _checkbox_out(value: Any) -> str:
    # The real on-state name is taken from the widget when filling; this is the default.
    return "/Yes" if value else "/Off"


TEXT = Converter("Text", _text_in, _text_out)
"""Plain text, stripped of surrounding blanks."""
GERMAN_DATE = Converter("Datum (TT.MM.JJJJ)", _date_in, _date_out)
"""A date written ``TT.MM.JJJJ`` ⇄ `datetime.date`."""
GERMAN_DECIMAL = Converter("Betrag", _decimal_in, _decimal_out)
"""An amount with decimal comma and optional thousands dots (``1.234,50``) ⇄ `Decimal`."""
CHECKBOX = Converter("Ankreuzfeld", _checkbox_in, _checkbox_out, is_checkbox=True)
"""A checkbox (``/Yes`` or any other on-state vs. ``/Off``) ⇄ `bool`."""


@dataclass(frozen=True)
class FormField:
    """One PDF field's target in the record.

    Attributes:
        record_field: Name of the field in the pydantic record.
        converter: How the value is converted (default `TEXT`).
        required: The PDF must have this field and it must not be empty.
        label: How the field is called on the printed form (for error messages);
            defaults to the PDF field name.
    """

    record_field: str
    converter: Converter = TEXT
    required: bool = False
    label: str | None = None


class FieldMapping:
    """A declared mapping from PDF field names to record fields.

    Args:
        fields: PDF field name → record field name (plain text) or a `FormField`.

    Example:
        >>> mapping = FieldMapping({
        ...     "Name": FormField("name", required=True),
        ...     "Geburtsdatum": FormField("birth_date", GERMAN_DATE),
        ...     "Gefaehrlich": FormField("listed", CHECKBOX),
        ...     "Ort": "city",
        ... })
    """

    def __init__(self, fields: Mapping[str, str | FormField]) -> None:
        self._fields: dict[str, FormField] = {
            pdf_name: spec if isinstance(spec, FormField) else FormField(spec)
            for pdf_name, spec in fields.items()
        }

    def __iter__(self) -> Iterator[tuple[str, FormField]]:
        return iter(self._fields.items())

    def __len__(self) -> int:
        return len(self._fields)

    def label(self, pdf_name: str) -> str:
        """The printed label of a PDF field (for messages)."""
        return self._fields[pdf_name].label or pdf_name

    def pdf_name_of(self, record_field: str) -> str | None:
        """The PDF field that feeds `record_field`, if any."""
        for pdf_name, spec in self._fields.items():
            if spec.record_field == record_field:
                return pdf_name
        return None


def _no_form() -> BusinessRuleError:
    return BusinessRuleError(
        "Die PDF-Datei enthält kein ausfüllbares Formular.", code="pdf-form-missing"
    )


def _form_fields(pdf: bytes | Path) -> tuple[PdfReader, dict[str, dict[str, Any]]]:
    reader = open_pdf(pdf)
    try:
        fields = reader.get_fields()
    except PDF_PARSE_ERRORS as exc:
        raise BusinessRuleError(
            "Die PDF-Datei ist keine gültige PDF-Datei oder beschädigt.", code="pdf-invalid"
        ) from exc
    if not fields:
        raise _no_form()
    return reader, {name: dict(field) for name, field in fields.items()}


def _field_text(field: Mapping[str, Any]) -> str:
    value = field.get("/V")
    if value is None:
        return ""
    if isinstance(value, list):  # multi-select list boxes
        return ", ".join(str(v) for v in value)
    return str(value)


def read_form(pdf: bytes | Path, mapping: FieldMapping, model: type[M]) -> M:
    """Read a filled-in PDF form into a typed record.

    Args:
        pdf: The filled PDF (bytes or path).
        mapping: Which PDF field feeds which record field, and how it is converted.
        model: The pydantic model to build.

    Returns:
        A validated instance of `model`.

    Raises:
        BusinessRuleError: ``pdf-invalid``, ``pdf-encrypted``, ``pdf-form-missing`` (no
            AcroForm fields), ``form-field-missing`` (a required field absent or empty),
            ``form-value-invalid`` (a value the converter cannot read, e.g. ``31.02.2026``)
            or ``form-record-invalid`` (the record's own validation fails).
    """
    _, fields = _form_fields(pdf)
    values: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []  # (label, record field)
    for pdf_name, spec in mapping:
        field = fields.get(pdf_name)
        text = _field_text(field) if field is not None else ""
        # An unticked checkbox is a value (False); an empty text field is no value at all.
        absent = field is None if spec.converter.is_checkbox else not text.strip()
        if absent:
            if spec.required:
                missing.append((mapping.label(pdf_name), spec.record_field))
            continue
        try:
            values[spec.record_field] = spec.converter.to_record(text)
        except ValueError as exc:
            raise BusinessRuleError(
                f"Das Feld „{mapping.label(pdf_name)}“ enthält keinen gültigen Wert "
                f"(erwartet: {spec.converter.name}).",
                code="form-value-invalid",
                field=spec.record_field,
            ) from exc
    if missing:
        raise BusinessRuleError(
            "Im Formular fehlen Pflichtangaben: "
            + ", ".join(f"„{label}“" for label, _ in missing)
            + ".",
            code="form-field-missing",
            field=missing[0][1],
        )
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _record_invalid(exc, mapping) from exc


def _record_invalid(exc: ValidationError, mapping: FieldMapping) -> BusinessRuleError:
    labels: list[str] = []
    first_field: str | None = None
    for error in exc.errors():
        record_field = str(error["loc"][0]) if error["loc"] else ""
        first_field = first_field or record_field or None
        pdf_name = mapping.pdf_name_of(record_field)
        label = mapping.label(pdf_name) if pdf_name else record_field
        if label not in labels:
            labels.append(label)
    return BusinessRuleError(
        "Die Angaben im Formular sind unvollständig oder ungültig: "
        + ", ".join(f"„{label}“" for label in labels)
        + ".",
        code="form-record-invalid",
        field=first_field,
    )


def fill_form(template_pdf: bytes | Path, mapping: FieldMapping, record: BaseModel) -> bytes:
    """Fill a fillable PDF form from a record.

    Sets each mapped field's value (checkboxes to their own on-state name) and
    ``/NeedAppearances`` so viewers draw the values; the form stays fillable.

    Args:
        template_pdf: The empty (or partly filled) form.
        mapping: Which PDF field takes which record field.
        record: The record whose values are written.

    Returns:
        The filled PDF's bytes.

    Raises:
        BusinessRuleError: ``pdf-invalid``, ``pdf-encrypted``, ``pdf-form-missing``, or
            ``form-field-missing`` when the form lacks a field the mapping declares required.
    """
    reader, fields = _form_fields(template_pdf)
    data = record.model_dump()
    updates: dict[str, str] = {}
    absent: list[str] = []
    for pdf_name, spec in mapping:
        field = fields.get(pdf_name)
        if field is None:
            if spec.required:
                absent.append(mapping.label(pdf_name))
            continue
        value = data.get(spec.record_field)
        if spec.converter.is_checkbox:
            states = [str(s) for s in field.get("/_States_", []) if str(s) != "/Off"]
            updates[pdf_name] = (states[0] if states else "/Yes") if value else "/Off"
        else:
            try:
                updates[pdf_name] = spec.converter.to_pdf(value)
            except (ValueError, TypeError, InvalidOperation) as exc:
                raise BusinessRuleError(
                    f"Der Wert für „{mapping.label(pdf_name)}“ passt nicht ins Formular "
                    f"(erwartet: {spec.converter.name}).",
                    code="form-value-invalid",
                    field=spec.record_field,
                ) from exc
    if absent:
        raise BusinessRuleError(
            "Dem Formular fehlen Felder: " + ", ".join(f"„{a}“" for a in absent) + ".",
            code="form-field-missing",
            field=absent[0],
        )
    try:
        writer = PdfWriter(clone_from=reader)
        for page in writer.pages:
            if "/Annots" in page:
                writer.update_page_form_field_values(page, updates, auto_regenerate=False)
        # After the update: pypdf resets the flag when it does not regenerate appearances.
        writer.set_need_appearances_writer(True)
        out = io.BytesIO()
        writer.write(out)
    except PDF_PARSE_ERRORS as exc:
        raise BusinessRuleError(
            "Die PDF-Datei ist keine gültige PDF-Datei oder beschädigt.", code="pdf-invalid"
        ) from exc
    return out.getvalue()
