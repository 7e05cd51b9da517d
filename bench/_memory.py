"""Peak resident memory (RSS) of the benchmark's processes, sampled in a background thread.

Groups: each Chromium (its browser process and all its children: renderers, GPU, network
service) by the variant that started it, the flow process, the Prefect server (with its
children), and the sandbox. RSS counts shared pages in every process, so a Chromium's RSS
summed over its processes overstates what it costs; its PSS (shared pages split among sharers)
is reported beside it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import psutil

__all__ = ["MemorySampler"]

_MB = 1024 * 1024


def _is_browser(p: psutil.Process) -> bool:
    try:
        return "chrom" in p.name().lower() and "chromedriver" not in p.name().lower()
    except psutil.Error:
        return False


def _rss(procs: Iterable[psutil.Process], *, pss: bool = False) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss if pss else p.memory_info().rss
        except psutil.Error:
            pass
    return total


class MemorySampler:
    """Samples every `interval` seconds until stopped; `peaks_mb()` gives the maxima."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.roots: dict[str, int] = {}  # label -> pid whose browsers / self we watch
        self.browser_owners: dict[str, int] = {}  # label -> pid that starts browsers
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def watch(self, label: str, pid: int, *, with_children: bool = True) -> None:
        """Track the RSS of `pid` (and its non-browser children) as `label`."""
        self.roots[label] = pid if with_children else -pid

    def watch_browsers(self, label: str, pid: int) -> None:
        """Track the Chromiums started under `pid` as ``browser <label>``."""
        self.browser_owners[label] = pid

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _peak(self, key: str, value: int) -> None:
        if value > self.peaks.get(key, 0):
            self.peaks[key] = value

    def sample(self) -> None:
        for label, pid in list(self.roots.items()):
            try:
                proc = psutil.Process(abs(pid))
                procs = [proc]
                if pid > 0:
                    procs += [c for c in proc.children(recursive=True) if not _is_browser(c)]
                self._peak(label, _rss(procs))
            except psutil.Error:
                continue
        for label, pid in list(self.browser_owners.items()):
            try:
                children = psutil.Process(pid).children(recursive=True)
            except psutil.Error:
                continue
            browsers = [c for c in children if _is_browser(c)]
            pids = {b.pid for b in browsers}
            rss, pss = [], []
            for b in browsers:
                try:
                    # A browser's root is a Chromium whose parent is no Chromium (driver, worker).
                    if b.ppid() in pids:
                        continue
                    tree = [b, *b.children(recursive=True)]
                except psutil.Error:
                    continue
                rss.append(_rss(tree))
                pss.append(_rss(tree, pss=True))
            if rss:
                self._peak(f"browser {label}: one Chromium, RSS sum (max)", max(rss))
                self._peak(f"browser {label}: one Chromium, PSS sum (max)", max(pss))
                self._peak(f"browsers {label}: all at once, PSS sum", sum(pss))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def peaks_mb(self) -> dict[str, float]:
        """Label → peak RSS in MiB."""
        return {k: round(v / _MB, 1) for k, v in sorted(self.peaks.items())}
