"""Statistics, the table, the JSON and the chart of a benchmark run."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

__all__ = ["VariantStats", "chart", "percentile", "ratios", "table", "write_json"]

LABELS = {
    "http": "1 HTTP floor (httpx)",
    "raw-playwright": "2 Raw Playwright",
    "amtsbote-bot": "3 Amtsbote bot",
    "flow-1": "4 Amtsbote flow (1 session)",
    "flow-2": "5 Parallel flow, 2 sessions",
    "flow-4": "5 Parallel flow, 4 sessions",
    "selenium": "6 Selenium WebDriver",
}


def percentile(values: list[float], q: float) -> float:
    """The `q`-quantile (0..1) with linear interpolation."""
    s = sorted(values)
    if not s:
        return math.nan
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class VariantStats:
    """Per-item times of one variant.

    Args:
        item_ms: Per-item times (for flows: Prefect's task durations).
        total_s: Wall time of all items (for flows: the flow runs, start and canary included).
        items: How many items.
        cpu_s: CPU seconds the variant used for them (client side, see `bench._cpu`).
    """

    def __init__(
        self, item_ms: list[float], total_s: float, items: int, *, cpu_s: float = math.nan
    ) -> None:
        self.item_ms = item_ms
        self.total_s = total_s
        self.items = items
        self.cpu_s = cpu_s

    @property
    def cpu_per_item_s(self) -> float:
        return self.cpu_s / self.items if self.items else math.nan

    @property
    def per_item_ms(self) -> float:
        return self.total_s * 1000 / self.items if self.items else math.nan

    @property
    def per_hour(self) -> float:
        return 3600 / (self.total_s / self.items) if self.items and self.total_s else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "median_ms": round(statistics.median(self.item_ms), 1) if self.item_ms else None,
            "p95_ms": round(percentile(self.item_ms, 0.95), 1) if self.item_ms else None,
            "per_item_ms": round(self.per_item_ms, 1),
            "items_per_hour": round(self.per_hour),
            "total_s": round(self.total_s, 2),
            "cpu_s_per_item": round(self.cpu_per_item_s, 4),
        }


def ratios(stats: dict[str, VariantStats]) -> dict[str, float | None]:
    """The issue's ratios on per-item time (total / N), and the scaling of throughput."""

    def r(a: str, b: str) -> float | None:
        if a in stats and b in stats:
            return round(stats[a].per_item_ms / stats[b].per_item_ms, 3)
        return None

    def scale(s: str) -> float | None:
        if s in stats and "flow-1" in stats:
            return round(stats[s].per_hour / stats["flow-1"].per_hour, 3)
        return None

    return {
        "bot/raw (3/2)": r("amtsbote-bot", "raw-playwright"),
        "flow/raw (4/2)": r("flow-1", "raw-playwright"),
        "raw/http (2/1)": r("raw-playwright", "http"),
        "selenium/bot (6/3)": r("selenium", "amtsbote-bot"),
        "scaling 2 vs 1 sessions": scale("flow-2"),
        "scaling 4 vs 1 sessions": scale("flow-4"),
    }


TARGETS = {
    "bot/raw (3/2)": ("≤", 0.6),
    "flow/raw (4/2)": ("≤", 0.8),
    "selenium/bot (6/3)": ("≥", 3.0),
    "scaling 2 vs 1 sessions": ("≥", 1.5),
}


def table(stats: dict[str, VariantStats], rat: dict[str, float | None]) -> str:
    """A Markdown table of the variants and one of the ratios."""
    lines = [
        "| variant | items | median ms | p95 ms | ms per item (total/N) | items per hour"
        " | CPU s per item |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in LABELS.items():
        if key not in stats:
            continue
        d = stats[key].as_dict()
        lines.append(
            f"| {label} | {d['items']} | {d['median_ms']:.0f} | {d['p95_ms']:.0f} | "
            f"{d['per_item_ms']:.0f} | {d['items_per_hour']:,} | {d['cpu_s_per_item']:.3f} |"
        )
    lines += ["", "| ratio | value | target |", "|---|---:|---|"]
    for name, value in rat.items():
        if value is None:
            continue
        target = TARGETS.get(name)
        verdict = ""
        if target:
            op, limit = target
            ok = value <= limit if op == "≤" else value >= limit
            verdict = f"{op} {limit} {'met' if ok else 'MISSED'}"
        lines.append(f"| {name} | {value:.2f} | {verdict} |")
    return "\n".join(lines)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def chart(path: Path, stats: dict[str, VariantStats], title: str) -> None:
    """Bars of ms per item (median dot, p95 whisker) and throughput by sessions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in LABELS if k in stats]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [3, 1]})
    y = range(len(keys))
    ax1.barh(y, [stats[k].per_item_ms for k in keys], color="#4c78a8", label="total / N")
    med = [statistics.median(stats[k].item_ms) for k in keys]
    p95 = [percentile(stats[k].item_ms, 0.95) for k in keys]
    ax1.errorbar(
        med, y, xerr=[[0] * len(keys), [p - m for p, m in zip(p95, med, strict=True)]],
        fmt="o", color="#f58518", capsize=3, label="median → p95",
    )  # fmt: skip
    ax1.set_yticks(list(y), [LABELS[k] for k in keys])
    ax1.invert_yaxis()
    ax1.set_xlabel("ms per registration")
    ax1.legend(loc="lower right")
    flows = [k for k in ("flow-1", "flow-2", "flow-4") if k in stats]
    ax2.bar([k.split("-")[1] for k in flows], [stats[k].per_hour for k in flows], color="#54a24b")
    ax2.set_xlabel("bot sessions")
    ax2.set_ylabel("items per hour (flow)")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
