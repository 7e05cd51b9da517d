"""The interleaved benchmark: setup, rounds in rotation, verification, output.

Every variant keeps its session for the whole run (one browser, one login, as a script would);
start-up and a short warm-up are not timed. Then, in each round, every variant registers its
share of the items, the order of the variants rotating from round to round, so that a slower
minute of a shared machine falls on all of them. Flow rounds seed their batch into the portal
first (not timed). At the end every Aktenzeichen a variant read back is checked against the back
office's export: each reference exactly once, under that Aktenzeichen.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import platform
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench._cpu import tree_cpu_s
from bench._data import Applications, ItemVariant
from bench._memory import MemorySampler
from bench._report import VariantStats, chart, ratios, table, write_json
from bench._town import start_town
from bench.amtsbote_flow import FlowWorker
from demo import PrefectServer

__all__ = ["BenchConfig", "main", "run_bench"]

RESULTS = Path(__file__).parent / "results"
ITEM_VARIANTS = ("http", "raw-playwright", "amtsbote-bot", "selenium")
SEAT_LIMIT = "fachverfahren-steuern-seats"


@dataclass
class BenchConfig:
    """What to run.

    Attributes:
        n: Items per variant (the issue asks for at least 200).
        rounds: Rounds of the rotation (each variant does about n / rounds items per round;
            each flow round is one flow run over its batch).
        warmup: Untimed items per variant before the first round.
        sessions: Session counts of the parallel flow (1 is the flow variant itself).
        selenium: Include the Selenium variant.
        flows: Include the flow variants (Prefect server, flow process).
        out: Folder of ``latest.json`` and ``latest.png`` (None: no files).
        chart: Draw the PNG.
    """

    n: int = 200
    rounds: int = 4
    warmup: int = 2
    sessions: tuple[int, ...] = (1, 2, 4)
    selenium: bool = True
    flows: bool = True
    out: Path | None = RESULTS
    chart: bool = True
    variants: list[str] = field(default_factory=list)


def _machine() -> dict[str, Any]:
    import prefect
    import psutil
    import selenium

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    chromium = ""
    with contextlib.suppress(Exception):
        import subprocess

        chromium = subprocess.run(
            ["/usr/lib/chromium/chromium", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "chromium": chromium,
        "playwright": importlib.metadata.version("playwright"),
        "selenium": selenium.__version__,
        "prefect": prefect.__version__,
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
    }


def _split(n: int, rounds: int) -> list[int]:
    rounds = max(1, min(rounds, n))
    return [n // rounds + (1 if i < n % rounds else 0) for i in range(rounds)]


def _seat_limit(api_url: str, slots: int) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.settings import PREFECT_API_URL, temporary_settings

    limit = GlobalConcurrencyLimitCreate(name=SEAT_LIMIT, limit=slots)
    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as c:
        c.create_global_concurrency_limit(limit)


def _verify(steuer: dict[str, Any], readback: dict[str, dict[str, str]]) -> dict[str, int]:
    """Every reference read back is in the back office exactly once, under that Aktenzeichen."""
    with httpx.Client(
        base_url=steuer["url"], headers={"Authorization": f"Bearer {steuer['admin_token']}"}
    ) as c:
        cases = c.get("/admin/export", timeout=60).json()["cases"]
    by_ref = Counter(c["fremdreferenz"] for c in cases)
    az = {c["fremdreferenz"]: c["aktenzeichen"] for c in cases}
    checked: dict[str, int] = {}
    for variant, refs in readback.items():
        for ref, aktenzeichen in refs.items():
            if by_ref[ref] != 1 or az[ref] != aktenzeichen:
                raise AssertionError(f"{variant}: {ref} read back {aktenzeichen}, not in export")
        checked[variant] = len(refs)
    return checked


def run_bench(config: BenchConfig) -> dict[str, Any]:
    """Run the benchmark; returns the JSON payload (also written under ``config.out``)."""
    from playwright.sync_api import sync_playwright

    from amtsbote import AmtsboteSettings, configure_logging
    from bench.amtsbote_bot import AmtsboteBot
    from bench.http_floor import HttpFloor
    from bench.raw_playwright import RawPlaywright
    from bench.selenium_webdriver import SeleniumWebDriver

    machine = _machine()
    apps = Applications()
    readback: dict[str, dict[str, str]] = {}
    item_ms: dict[str, list[float]] = {}
    flow_runs: dict[str, list[dict[str, Any]]] = {}
    sampler = MemorySampler()
    sampler.watch("benchmark process (baselines' drivers)", os.getpid(), with_children=False)
    sampler.watch_browsers("baselines", os.getpid())
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="amtsbote-bench-")))
        # As deployed: JSON log file with redaction, no console (the table is the output).
        configure_logging(AmtsboteSettings(data_dir=tmp / "amtsbote-bench"), console=False)
        town = stack.enter_context(start_town(tmp / "town"))
        sampler.watch("sandbox (portal, Steuern, e-Akte)", town.pid)
        user, password = "bot1", town.accounts["bot1"]
        base = town.steuer_url
        pw = stack.enter_context(sync_playwright())
        variants: dict[str, ItemVariant] = {
            "http": HttpFloor(base, user, password),
            "raw-playwright": RawPlaywright(pw, base, user, password),
            "amtsbote-bot": AmtsboteBot(pw, base, user, password),
        }
        if config.selenium:
            variants["selenium"] = SeleniumWebDriver(base, user, password)
        if config.variants:
            variants = {k: v for k, v in variants.items() if k in config.variants}
        worker: FlowWorker | None = None
        flow_keys: list[str] = []
        if config.flows:
            quiet = {"PREFECT_LOGGING_LEVEL": "WARNING"}
            prefect = stack.enter_context(PrefectServer(tmp / "prefect", settings=quiet))
            sampler.watch("Prefect server", prefect.pid)
            _seat_limit(prefect.api_url, max(config.sessions))
            accounts = [f"bot{i}" for i in range(1, max(config.sessions) + 1)]
            env = prefect.environ(town.env(tmp / "amtsbote", accounts))
            worker = FlowWorker(town, env, tmp / "flow.log")
            worker.start()
            stack.callback(worker.close)
            sampler.watch("flow process", worker.pid, with_children=False)
            sampler.watch_browsers("flow", worker.pid)
            flow_keys = [f"flow-{s}" for s in config.sessions]
        sampler.start()
        stack.callback(sampler.stop)

        for name, variant in variants.items():
            variant.start()
            stack.callback(variant.close)
            for app in apps.records(config.warmup, name):
                variant.register(app)
            item_ms[name] = []
            readback[name] = {}
        if worker is not None and config.warmup:
            worker.run(worker.seed(apps, config.warmup), 1)
        for key in flow_keys:
            item_ms[key], readback[key], flow_runs[key] = [], {}, []

        cpu_s: dict[str, float] = dict.fromkeys([*variants, *flow_keys], 0.0)
        # The sandbox's tree is the back office's CPU, the same for every variant: left out.
        flow_pids = [] if worker is None else [worker.pid, prefect.pid]
        order = [*variants, *flow_keys]
        for r, k in enumerate(_split(config.n, config.rounds)):
            rotated = order[r % len(order) :] + order[: r % len(order)]
            for name in rotated:
                if name in variants:
                    cpu0 = tree_cpu_s([os.getpid()], exclude=[town.pid, *flow_pids])
                    for app in apps.records(k, name):
                        t0 = time.perf_counter()
                        aktenzeichen = variants[name].register(app)
                        item_ms[name].append((time.perf_counter() - t0) * 1000)
                        readback[name][app.reference] = aktenzeichen
                    cpu_s[name] += tree_cpu_s([os.getpid()], exclude=[town.pid, *flow_pids]) - cpu0
                else:
                    assert worker is not None
                    ids = worker.seed(apps, k)
                    cpu0 = tree_cpu_s(flow_pids)
                    result = worker.run(ids, int(name.split("-")[1]))
                    cpu_s[name] += tree_cpu_s(flow_pids) - cpu0
                    item_ms[name] += result.task_ms
                    readback[name].update(result.aktenzeichen)
                    flow_runs[name].append({"items": len(ids), "run_s": round(result.run_s, 3)})
            print(f"round {r + 1}: {k} items per variant done", flush=True)
        verified = _verify(town.info["steuer"], readback)
        sampler.sample()

    stats: dict[str, VariantStats] = {}
    for name, times in item_ms.items():
        if name in flow_runs:
            total = sum(run["run_s"] for run in flow_runs[name])
            items = sum(run["items"] for run in flow_runs[name])
            stats[name] = VariantStats(times, total, items, cpu_s=cpu_s[name])
        else:
            stats[name] = VariantStats(times, sum(times) / 1000, len(times), cpu_s=cpu_s[name])
    rat = ratios(stats)
    machine["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    payload: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "n": config.n,
            "rounds": config.rounds,
            "warmup": config.warmup,
            "sessions": list(config.sessions),
        },
        "machine": machine,
        "variants": {k: s.as_dict() for k, s in stats.items()},
        "flow_runs": flow_runs,
        "ratios": rat,
        "peak_rss_mib": sampler.peaks_mb(),
        "verified_readbacks": verified,
        "wall_s": round(time.perf_counter() - started, 1),
        "table": table(stats, rat),
    }
    if config.out is not None:
        write_json(config.out / "latest.json", payload)
        if config.chart:
            chart(
                config.out / "latest.png",
                stats,
                f"Amtsbote benchmark, N={config.n} per variant ({machine['cpu']})",
            )
    return payload


def main(argv: list[str] | None = None) -> None:
    """Command line of ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="items per variant (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the rotation")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--sessions", default="1,2,4", help="parallel flow sessions")
    parser.add_argument("--no-selenium", action="store_true")
    parser.add_argument("--no-flows", action="store_true")
    parser.add_argument("--only", default="", help="comma list of item variants to run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    payload = run_bench(
        BenchConfig(
            n=args.n,
            rounds=args.rounds,
            warmup=args.warmup,
            sessions=tuple(int(s) for s in args.sessions.split(",") if s),
            selenium=not args.no_selenium,
            flows=not args.no_flows,
            out=args.out,
            variants=[v for v in args.only.split(",") if v],
        )
    )
    print(payload["table"])
    print("peak RSS (MiB):", payload["peak_rss_mib"])
    print(f"wall time {payload['wall_s']} s; results in {args.out}")
