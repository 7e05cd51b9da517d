"""Problems a submission can have, in the shape the portal's reject event carries them.

A rejected submission tells the citizen *why*, as a list of FIT-Connect problems
(``{type, title, detail, instance}``, RFC 7807 style). `SubmissionInvalid` is the
`BusinessRuleError` that carries such a list, so one exception type travels from the parser to
the reject call. `from_validation_error` turns a pydantic `ValidationError` (every problem the
record validators found at once) into one `SubmissionInvalid` with German texts; the German
field labels come from the record (each service's record module registers its own).

This lives with the records, not with the portal client: records raise these problems when
their data breaks the schema, and the portal (which imports the records) raises them for the
parts it cannot decrypt or verify. So the import points one way only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from amtsbote import BusinessRuleError

__all__ = [
    "PROBLEM_BASE",
    "Problem",
    "SubmissionInvalid",
    "from_validation_error",
    "problem",
]

PROBLEM_BASE: Final = "https://schema.fitko.de/fit-connect/events/problems/"

#: German titles of the FIT-Connect problem types we raise.
TITLES: Final[dict[str, str]] = {
    "encryption-issue": "Entschlüsselung fehlgeschlagen",
    "hash-mismatch": "Prüfsumme stimmt nicht überein",
    "schema-violation": "Angaben im Antrag fehlerhaft",
    "syntax-violation": "Antragsdaten nicht lesbar",
    "missing-attachment": "Anlage fehlt",
    "incorrect-attachment": "Anlage fehlerhaft",
    "unsupported-schema": "Antragsformular nicht unterstützt",
    "missing-data": "Antragsdaten fehlen",
}

#: Problem type per record error code; codes not listed here are schema violations.
_TYPE_BY_CODE: Final[dict[str, str]] = {
    "insurance-missing": "missing-attachment",
    "syntax": "syntax-violation",
}

#: German messages for pydantic's own error types (the record's validators bring their own).
_PYDANTIC_MESSAGES: Final[dict[str, str]] = {
    "missing": "Die Angabe fehlt.",
    "string_type": "Die Angabe muss ein Text sein.",
    "bool_type": "Die Angabe muss ja oder nein sein.",
    "bool_parsing": "Die Angabe muss ja oder nein sein.",
    "date_type": "Das Datum fehlt oder ist ungültig (erwartet JJJJ-MM-TT).",
    "date_parsing": "Das Datum ist ungültig (erwartet JJJJ-MM-TT).",
    "date_from_datetime_parsing": "Das Datum ist ungültig (erwartet JJJJ-MM-TT).",
    "date_from_datetime_inexact": "Das Datum darf keine Uhrzeit enthalten.",
    "model_type": "Die Angaben sind unvollständig oder haben das falsche Format.",
    "model_attributes_type": "Die Angaben sind unvollständig oder haben das falsche Format.",
    "dict_type": "Die Angaben sind unvollständig oder haben das falsche Format.",
}


@dataclass(frozen=True)
class Problem:
    """One problem of a submission, as the reject event and the citizen see it.

    Attributes:
        type: A FIT-Connect problem type URI (``PROBLEM_BASE + "schema-violation"`` …).
        title: Short German title.
        detail: German explanation the citizen can act on.
        instance: Which part is concerned: ``"data"``, ``"metadata"`` or ``"attachment:<id>"``.
        code: Our machine code (not sent to the portal), e.g. ``"iban-checksum"``.
        field: The data field concerned (JSON path, not sent), e.g. ``"sepaMandate.iban"``.
    """

    type: str
    title: str
    detail: str
    instance: str = "data"
    code: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The problem as the reject event carries it (without our code and field)."""
        return {
            "type": self.type,
            "title": self.title,
            "detail": self.detail,
            "instance": self.instance,
        }


def problem(
    kind: str,
    detail: str,
    *,
    instance: str = "data",
    code: str | None = None,
    field: str | None = None,
) -> Problem:
    """Build a `Problem` of FIT-Connect type `kind` (the last URI segment) with its German title."""
    return Problem(
        type=PROBLEM_BASE + kind,
        title=TITLES.get(kind, "Antrag fehlerhaft"),
        detail=detail,
        instance=instance,
        code=code or kind,
        field=field,
    )


class SubmissionInvalid(BusinessRuleError):
    """A submission is bad and will be rejected; carries every problem found.

    `code` and `field` are those of the first problem (so code that knows only
    `BusinessRuleError` still gets something precise); `message` lists all details in German.

    Args:
        problems: The problems, at least one.
        message: Overrides the joined German text.
        submission_id: The submission concerned (set by the portal client, for `reject`).
        case_id: Its case.
    """

    default_code = "submission-invalid"

    def __init__(
        self,
        problems: Iterable[Problem],
        *,
        message: str | None = None,
        submission_id: str | None = None,
        case_id: str | None = None,
    ) -> None:
        self.submission_id = submission_id
        self.case_id = case_id
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("SubmissionInvalid needs at least one problem")
        first = self.problems[0]
        if message is None:
            if len(self.problems) == 1:
                message = first.detail
            else:
                message = "Der Antrag enthält mehrere Fehler: " + " ".join(
                    p.detail for p in self.problems
                )
        super().__init__(message, code=first.code or "submission-invalid", field=first.field)

    @property
    def codes(self) -> list[str]:
        """The machine codes of all problems (safe to log)."""
        return [p.code or p.type.rsplit("/", 1)[-1] for p in self.problems]

    def __repr__(self) -> str:
        return f"SubmissionInvalid(codes={self.codes!r})"


def _pydantic_code(kind: str) -> str:
    if kind == "missing":
        return "field-missing"
    if kind.startswith("date"):
        return "date-invalid"
    return "format-invalid"


def _field_path(loc: tuple[int | str, ...], ctx: Mapping[str, Any] | None) -> str:
    if ctx and isinstance(ctx.get("field"), str):
        return str(ctx["field"])
    return ".".join(str(p) for p in loc)


def from_validation_error(
    exc: ValidationError,
    *,
    field_labels: Mapping[str, str] | None = None,
    instance: str = "data",
) -> SubmissionInvalid:
    """Turn a pydantic `ValidationError` of a record into one `SubmissionInvalid`.

    Each error becomes a `Problem` whose detail names the field in German and says what is
    wrong. Our own validators raise `PydanticCustomError` whose type is our code (for example
    ``iban-checksum``) and whose message is already German; pydantic's built-in errors get a
    German text here.

    Args:
        exc: The error from `model_validate`.
        field_labels: German label per data field (JSON path such as ``"owner.postalCode"``);
            a field without a label is named by the message alone.
        instance: The part of the submission the data came from.

    Returns:
        The exception to raise (not raised here).
    """
    problems: list[Problem] = []
    for err in exc.errors(include_url=False, include_input=False):
        code = str(err["type"])
        field = _field_path(tuple(err["loc"]), err.get("ctx"))
        text = _PYDANTIC_MESSAGES.get(code, err["msg"])
        if code in _PYDANTIC_MESSAGES or (code not in _TYPE_BY_CODE and "_" in code):
            # a pydantic built-in error: give it a stable code of ours
            text = _PYDANTIC_MESSAGES.get(code, "Die Angabe hat ein ungültiges Format.")
            code = _pydantic_code(code)
        label = field_labels.get(field) if field_labels else None
        detail = f"{label}: {text}" if label else text
        kind = _TYPE_BY_CODE.get(code, "schema-violation")
        problems.append(problem(kind, detail, instance=instance, code=code, field=field or None))
    return SubmissionInvalid(problems)
