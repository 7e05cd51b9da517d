"""Test-wide fixtures: each sandbox app and the browser live in tests/fixtures/."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.portal",
    "tests.fixtures.steuer",
    "tests.fixtures.eakte",
    "tests.fixtures.prefect",
    "tests.fixtures.smtp",
    "tests.fixtures.pgp",
]
