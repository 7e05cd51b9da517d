"""Bot tests use the fixtures of tests/fixtures/bots.py."""

from __future__ import annotations

from tests.fixtures.bots import bot_session, make_bot  # noqa: F401
