"""README's "Write your own bot" works: its code blocks run as written against the sandbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from connectors.records.hundesteuer import parse_application

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

# The sample data of sandbox/README.md (synthetic).
SAMPLE = {
    "owner": {"givenName": "Jürgen", "familyName": "Weiß", "birthDate": "1980-04-01",
              "street": "Hauptstraße", "houseNumber": "12a", "postalCode": "44623",
              "city": "Musterstadt", "email": "j.weiss@example.org"},
    "dog": {"name": "Bello", "breed": "LABR", "birthDate": "2024-05-03",
            "chipNumber": "276098106543210", "ownedSince": "2026-10-01"},
    "sepaMandate": {"accountHolder": "Jürgen Weiß", "iban": "DE02120300000000202051"},
}  # fmt: skip


def tutorial() -> str:
    """The README's "Write your own bot" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Write your own bot\n", 1)[1]
    return section.split("\n## ", 1)[0]


def code_blocks(markdown: str) -> list[str]:
    """The ```python blocks of `markdown`, in order."""
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_tutorial_page_object_and_bot_are_short() -> None:
    blocks = code_blocks(tutorial())
    assert len(blocks) == 3
    assert len((blocks[0] + blocks[1]).splitlines()) < 150
    assert "nth(" not in "".join(blocks) and "locator(" not in "".join(blocks)


def test_tutorial_code_runs_against_the_sandbox(
    make_steuer: Any, make_bot: Any, tmp_path: Path
) -> None:
    script = tmp_path / "tutorial.py"
    script.write_text("\n".join(code_blocks(tutorial())), encoding="utf-8")
    with make_steuer() as server:
        bot = make_bot(server)
        bot.register(parse_application(SAMPLE, reference="sub-tutorial", case_id="case-tutorial"))
        bot.close()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "AMTSBOTE_STEUER_BASE_URL": server.base_url,
            "AMTSBOTE_STEUER_USERNAME": "bot2",
            "AMTSBOTE_STEUER_PASSWORD": server.accounts["bot2"],
        }
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120,
            cwd=tmp_path, env=env,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [ln for ln in done.stdout.splitlines() if "[" not in ln]
    assert "Canary: ok" in lines
    assert "Steuerpflichtige suchen: ok" in lines
    assert lines[-3:] == ["bekannt", "andere Anschrift", "unbekannt"]
    assert not (tmp_path / "var").exists()  # no evidence: nothing failed
