"""Benchmarks: how close Amtsbote comes to a hand-written Playwright script and to the HTTP floor.

``python -m bench`` (``make bench``) starts Musterstadt and a Prefect server on loopback and
registers N dog-tax applications each way, in rotation, so that drift of a shared machine hits
every variant alike; it writes a table, ``bench/results/latest.json`` and a PNG chart. Absolute
times depend on the machine; the ratios, taken in one interleaved run, are what to compare.

Variants (one module each): `bench.http_floor`, `bench.raw_playwright`, `bench.amtsbote_bot`,
`bench.amtsbote_flow` (also the parallel runs), `bench.selenium_webdriver`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BenchConfig", "run_bench"]


def __getattr__(name: str) -> Any:
    # Lazy: ``python -m bench._town`` and the flow process must not import the harness first.
    if name in __all__:
        from bench import _harness

        return getattr(_harness, name)
    raise AttributeError(name)
