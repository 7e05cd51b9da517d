"""README's "Write your own process" works: its code blocks, saved as one module, run as
written against a Musterstadt and a real Prefect server."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fixtures.prefect import PrefectServer
from tests.flows.conftest import Musterstadt

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "https://schema.musterstadt.example/sperrmuell-anmeldung/1.0.0.json"


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Write your own process\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_process_is_a_short_declaration() -> None:
    blocks = _blocks()
    assert len(blocks) == 4
    code = "\n".join(blocks[:3])
    assert len(code.splitlines()) <= 150
    imported = {
        node.module or "" for node in ast.walk(ast.parse(code)) if isinstance(node, ast.ImportFrom)
    }
    assert not {m for m in imported if "hundesteuer" in m}, "nothing of Hundesteuer is needed"


def _file(town: Musterstadt, items: int) -> str:
    def schema(meta: dict[str, Any]) -> None:
        meta["contentStructure"]["data"]["submissionSchema"]["schemaUri"] = SCHEMA

    data = {"name": "Erika Mustermann", "street": "Ringstraße 4", "postalCode": "44623"}
    with town.portal.sender_client() as sender:
        ref = sender.submit_application({**data, "items": items}, tamper_metadata=schema)
    return str(ref["submissionId"])


def test_the_tutorial_process_runs(
    prefect_server: PrefectServer, musterstadt: Musterstadt, tmp_path: Path
) -> None:
    module = tmp_path / "sperrmuell.py"
    module.write_text("\n".join(_blocks()), encoding="utf-8")
    town = musterstadt
    ok = [_file(town, 2), _file(town, 5)]
    too_many = _file(town, 12)
    env = prefect_server.environ(
        {
            **town.env,
            "PYTHONPATH": f"{tmp_path}:{ROOT}",
            "AMTSBOTE_SPERRMUELL_ACCOUNTS": town.env["AMTSBOTE_HUNDESTEUER_ACCOUNTS"],
        }
    )
    done = subprocess.run(
        [sys.executable, str(module)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    outcomes, queue = ast.literal_eval(lines[-2]), ast.literal_eval(lines[-1])
    assert outcomes == {**dict.fromkeys(ok, "done"), too_many: "rejected"}
    assert (queue["done"], queue["rejected"]) == (2, 1)
