"""The retry policy for `ApplicationError`: how long to wait and how hard to reset.

A flaky back office is cured by waiting (backoff with jitter so parallel bots do not march in
step), a stuck context by a fresh one, a broken browser by a fresh browser. The policy only
decides; `Bot.run_item` carries it out. Pure logic, unit-tested without a browser.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["RetryPolicy", "Recovery"]


class Recovery(StrEnum):
    """What to reset before the next attempt."""

    NONE = "none"
    NEW_CONTEXT = "new-context"
    NEW_BROWSER = "new-browser"


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one item after `ApplicationError`.

    Attributes:
        attempts: Tries in all (1 = no retry).
        backoff_base: Seconds to wait after the first failure.
        backoff_factor: Multiplier per further failure.
        backoff_max: Upper bound of one wait, in seconds.
        jitter: Share of the wait added or taken at random (0.1 = ±10 %).
        fresh_context_after: From this failure on, retry in a new browser context.
        fresh_browser_after: From this failure on, retry in a newly started browser.
    """

    attempts: int = 4
    backoff_base: float = 0.5
    backoff_factor: float = 2.0
    backoff_max: float = 10.0
    jitter: float = 0.1
    fresh_context_after: int = 2
    fresh_browser_after: int = 3

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.backoff_factor < 1:
            raise ValueError("backoff must be non-negative and the factor at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def should_retry(self, failures: int) -> bool:
        """True if another attempt follows after `failures` failed attempts."""
        return failures < self.attempts

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after `failures` (≥ 1) failed attempts."""
        if failures < 1:
            return 0.0
        raw = min(self.backoff_base * self.backoff_factor ** (failures - 1), self.backoff_max)
        if self.jitter:
            raw *= 1 + (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, min(raw, self.backoff_max))

    def recovery(self, failures: int) -> Recovery:
        """What to reset before the attempt that follows `failures` failed attempts."""
        if failures >= self.fresh_browser_after:
            return Recovery.NEW_BROWSER
        if failures >= self.fresh_context_after:
            return Recovery.NEW_CONTEXT
        return Recovery.NONE
