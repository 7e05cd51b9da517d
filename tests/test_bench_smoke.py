"""Smoke test of ``python -m bench``: a tiny run of every variant yields a complete, sane JSON.

The harness runs as the real command (its own process, like ``make bench``), against its own
sandbox and Prefect server; the parallel flows are left out to keep it short (the flow with one
session is in). Timings are only checked to be positive: speed is not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

VARIANTS = {"http", "raw-playwright", "amtsbote-bot", "selenium", "flow-1"}


@pytest.mark.timeout(600)
def test_bench_tiny_run_writes_every_variant(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--n", "2", "--rounds", "1", "--warmup", "0",
         "--sessions", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=580,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert set(payload["variants"]) == VARIANTS
    for name, stats in payload["variants"].items():
        assert stats["items"] == 2, name
        assert stats["median_ms"] > 0 and stats["p95_ms"] >= stats["median_ms"], name
        assert stats["per_item_ms"] > 0 and stats["items_per_hour"] > 0, name
    assert payload["verified_readbacks"] == {name: 2 for name in VARIANTS}
    ratios = payload["ratios"]
    for key in ("bot/raw (3/2)", "flow/raw (4/2)", "raw/http (2/1)", "selenium/bot (6/3)"):
        assert ratios[key] > 0, key
    peaks = payload["peak_rss_mib"]
    assert peaks["flow process"] > 0 and peaks["Prefect server"] > 0
    assert any(k.startswith("browser baselines") and v > 0 for k, v in peaks.items())
    assert "| 2 Raw Playwright |" in payload["table"]
    assert (out / "latest.png").read_bytes().startswith(b"\x89PNG")
