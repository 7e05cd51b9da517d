from __future__ import annotations

from amtsbote import ApplicationError, BusinessRuleError, ReviewRequired, is_retryable


def test_only_application_errors_are_retryable() -> None:
    assert is_retryable(ApplicationError("Zeitüberschreitung", code="timeout"))
    assert not is_retryable(BusinessRuleError("IBAN ungültig", code="iban"))
    assert not is_retryable(ReviewRequired("Adresse weicht ab", facts={"x": 1}))
    assert not is_retryable(ValueError("raw"))


def test_error_carries_code_field_and_readable_message() -> None:
    err = BusinessRuleError("Die IBAN ist ungültig.", code="invalid-iban", field="sepa.iban")
    assert str(err) == "Die IBAN ist ungültig."
    assert (err.code, err.field) == ("invalid-iban", "sepa.iban")
    assert "IBAN ist" not in repr(err)  # repr (used in logs) holds the code, not the message
    assert ReviewRequired("x", facts={"a": 1}).facts == {"a": 1}
    assert ApplicationError("y").code == "application"
