from __future__ import annotations

import amtsbote
from amtsbote import (
    AmtsboteError,
    ApplicationError,
    BusinessRuleError,
    LoginRefused,
    ReviewRequired,
    _errors,
    is_retryable,
)


def test_only_application_errors_are_retryable() -> None:
    assert is_retryable(ApplicationError("Zeitüberschreitung", code="timeout"))
    assert not is_retryable(BusinessRuleError("IBAN ungültig", code="iban"))
    assert not is_retryable(ReviewRequired("Adresse weicht ab", facts={"x": 1}))
    assert not is_retryable(ValueError("raw"))
    assert not is_retryable(LoginRefused("Passwort falsch", account="bot1"))


def test_error_carries_code_field_and_readable_message() -> None:
    err = BusinessRuleError("Die IBAN ist ungültig.", code="invalid-iban", field="sepa.iban")
    assert str(err) == "Die IBAN ist ungültig."
    assert (err.code, err.field) == ("invalid-iban", "sepa.iban")
    assert "IBAN ist" not in repr(err)  # repr (used in logs) holds the code, not the message
    assert ReviewRequired("x", facts={"a": 1}).facts == {"a": 1}
    assert ApplicationError("y").code == "application"


def test_login_refused_is_neither_kind_of_item_failure_and_names_the_account() -> None:
    err = LoginRefused("Anmeldung abgelehnt: Passwort falsch.", account="bot1", system="steuer")
    assert isinstance(err, AmtsboteError)
    assert not isinstance(err, ApplicationError | BusinessRuleError | ReviewRequired)
    assert (err.code, err.account, err.system) == ("login-refused", "bot1", "steuer")
    assert "'bot1'" in str(err)  # added when the message does not name the account
    locked = LoginRefused("Konto 'bot2' gesperrt.", account="bot2", code="account-locked")
    assert str(locked) == "Konto 'bot2' gesperrt." and locked.code == "account-locked"
    assert "gesperrt" not in repr(locked) and "bot2" in repr(locked)
    assert "LoginRefused" in amtsbote.__all__
    assert "└── LoginRefused" in (_errors.__doc__ or "")  # drawn in the error tree
