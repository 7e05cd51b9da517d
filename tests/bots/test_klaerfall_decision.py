"""A clerk's Klärfall decision reaches the bot: use the existing taxpayer, or create a new one."""

from __future__ import annotations

from typing import Any

import pytest

from amtsbote import ReviewRequired
from tests.fixtures.bots import make_application


def _cases(server: Any, reference: str) -> list[dict[str, Any]]:
    return [c for c in server.export()["cases"] if c["fremdreferenz"] == reference]


@pytest.mark.parametrize("decision", ["existing", "steuernummer", "treffer:1", "new"])
def test_clerk_decision_resolves_the_address_conflict(
    steuer: Any, make_bot: Any, decision: str
) -> None:
    bot = make_bot(steuer)
    owner = make_application().owner
    first_app = make_application().model_copy(update={"owner": owner})
    first = bot.register(first_app)
    moved = owner.model_copy(update={"street": "Am Neuen Weg", "house_number": "7"})
    second = make_application().model_copy(update={"owner": moved})
    with pytest.raises(ReviewRequired) as info:
        bot.register(second)
    (known,) = info.value.facts["back_office"]
    choice = known["steuernummer"] if decision == "steuernummer" else decision
    reg = bot.register(second, taxpayer=choice)
    assert reg.created
    (case,) = _cases(steuer, second.reference)
    (first_case,) = _cases(steuer, first_app.reference)
    same_taxpayer = case["taxpayer_id"] == first_case["taxpayer_id"]
    assert same_taxpayer is (decision != "new")
    assert first.created
