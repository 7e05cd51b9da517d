"""What can be wrong with a submission: technical problems and broken business rules.

FIT-Connect separates the two (docs.fitko.de, "Einreichung überprüfen" and the status page:
accepting or rejecting a submission is purely technical and says nothing about its content):

- **Technical problems** — a part cannot be decrypted, a hash does not match, the data is no
  JSON or breaks the submission schema (a field missing, of the wrong type, too long, not of the
  pattern), an attachment is missing, the schema is not supported. They are sent back with the
  reject-submission event as FIT-Connect problems (``{type, title, detail, instance}``, RFC 7807
  style, `type` and `instance` exactly as documented). `SubmissionInvalid` carries them.
- **Broken business rules** — an IBAN whose check digits are wrong, an owner under age, a
  listed breed without the insurance certificate, implausible dates. The submission is
  technically fine: it is *accepted*, becomes a work item, and the citizen receives a rejection
  letter naming each reason. `RulesBroken` carries the `Finding`s and the record as it came in
  (validated without the business rules), so the engine can write that letter.

`split_validation_error` sorts the errors of one pydantic `ValidationError` (every problem the
record validators found at once) into both kinds, with German texts; the German field labels
come from the record (each service's record module registers its own). An error raised with
`record_error(..., schema=True)` or one of pydantic's own (missing, wrong type) is technical;
every other error of a record validator is a business rule.

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
    "TITLES",
    "Finding",
    "Problem",
    "RulesBroken",
    "SubmissionInvalid",
    "from_validation_error",
    "problem",
    "split_validation_error",
]

PROBLEM_BASE: Final = "https://schema.fitko.de/fit-connect/events/problems/"

#: The FIT-Connect problem types this receiver sends with reject-submission (the last segment
#: of ``PROBLEM_BASE + kind``), with their German titles. docs/fit-connect-problems.md lists
#: where each one is raised. Nothing outside this list is ever sent.
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
    """Build a `Problem` of FIT-Connect type `kind` (the last URI segment) with its German title.

    Raises:
        ValueError: `kind` is not a problem type this receiver sends (see `TITLES`): a
            self-made type would mean nothing to the sender.
    """
    if kind not in TITLES:
        raise ValueError(f"not a documented FIT-Connect problem type: {kind}")
    return Problem(
        type=PROBLEM_BASE + kind,
        title=TITLES[kind],
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


@dataclass(frozen=True)
class Finding:
    """One broken business rule, as the rejection letter names it.

    Attributes:
        code: Our machine code, e.g. ``"iban-checksum"`` (safe to log).
        text: German explanation the citizen can act on.
        field: The data field concerned (JSON path), e.g. ``"sepaMandate.iban"``.
        label: The German label of that field (``"IBAN"``), if the record has one.
    """

    code: str
    text: str
    field: str | None = None
    label: str | None = None

    @property
    def detail(self) -> str:
        """The finding as one line: ``"IBAN: Die IBAN ist ungültig …"``."""
        return f"{self.label}: {self.text}" if self.label else self.text


class RulesBroken(BusinessRuleError):
    """A technically sound submission that breaks business rules: accept it, then refuse it.

    Never sent as reject-submission. The engine turns it into a rejection letter (state
    ``rejected``) through the one place where exception types become item states.

    Args:
        findings: The broken rules, at least one, in the order found.
        record: The record as it came in, validated against the schema only (so the letter
            can be addressed and the application filed); ``None`` where it could not be built.
    """

    default_code = "rules-broken"

    def __init__(self, findings: Iterable[Finding], *, record: Any = None) -> None:
        self.findings: list[Finding] = list(findings)
        if not self.findings:
            raise ValueError("RulesBroken needs at least one finding")
        self.record = record
        first = self.findings[0]
        if len(self.findings) == 1:
            message = first.detail
        else:
            message = "Der Antrag enthält mehrere Fehler: " + " ".join(
                f.detail for f in self.findings
            )
        super().__init__(message, code=first.code, field=first.field)

    @property
    def codes(self) -> list[str]:
        """The machine codes of all findings (safe to log)."""
        return [f.code for f in self.findings]

    def reasons(self) -> list[tuple[str | None, str]]:
        """``(field label, text)`` per finding, as the rejection letter prints them."""
        return [(f.label, f.text) for f in self.findings]

    def __repr__(self) -> str:
        return f"RulesBroken(codes={self.codes!r})"


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


def split_validation_error(
    exc: ValidationError,
    *,
    field_labels: Mapping[str, str] | None = None,
    instance: str = "data",
) -> tuple[list[Problem], list[Finding]]:
    """Sort the errors of a record's `ValidationError` into technical problems and findings.

    Pydantic's own errors (a field missing, of the wrong type, a date that is no date) and our
    errors raised with ``schema=True`` (see `record_error`) are what the submission schema
    states: each becomes a FIT-Connect ``schema-violation`` `Problem`. Every other error of a
    record validator is a business rule: a `Finding`.

    Args:
        exc: The error from `model_validate`.
        field_labels: German label per data field (JSON path such as ``"owner.postalCode"``);
            a field without a label is named by the message alone.
        instance: The part of the submission the data came from.

    Returns:
        ``(problems, findings)``; either list may be empty, not both.
    """
    problems: list[Problem] = []
    findings: list[Finding] = []
    for err in exc.errors(include_url=False, include_input=False):
        code = str(err["type"])
        ctx = err.get("ctx")
        field = _field_path(tuple(err["loc"]), ctx) or None
        text = str(err["msg"])
        builtin = code in _PYDANTIC_MESSAGES or (code not in _TYPE_BY_CODE and "_" in code)
        if builtin:
            text = _PYDANTIC_MESSAGES.get(code, "Die Angabe hat ein ungültiges Format.")
            code = _pydantic_code(code)
        label = field_labels.get(field) if field_labels and field else None
        if builtin or code in _TYPE_BY_CODE or (ctx and ctx.get("schema")):
            detail = f"{label}: {text}" if label else text
            kind = _TYPE_BY_CODE.get(code, "schema-violation")
            problems.append(problem(kind, detail, instance=instance, code=code, field=field))
        else:
            findings.append(Finding(code, text, field, label))
    return problems, findings


def from_validation_error(
    exc: ValidationError,
    *,
    field_labels: Mapping[str, str] | None = None,
    instance: str = "data",
) -> SubmissionInvalid:
    """Turn the technical errors of a record's `ValidationError` into one `SubmissionInvalid`.

    Findings (broken business rules) are left out: they never go into reject-submission. An
    error with findings only still yields a schema violation naming them, for callers that
    know no better; `split_validation_error` is the precise form.

    Args:
        exc: The error from `model_validate`.
        field_labels: German label per data field.
        instance: The part of the submission the data came from.

    Returns:
        The exception to raise (not raised here).
    """
    problems, findings = split_validation_error(exc, field_labels=field_labels, instance=instance)
    if not problems:
        problems = [
            problem("schema-violation", f.detail, instance=instance, code=f.code, field=f.field)
            for f in findings
        ]
    return SubmissionInvalid(problems)
