"""The canary: does every locator a bot relies on still resolve? Checked before touching data.

A back office update that renames a label breaks a bot silently at 2 a.m.; the nightly run calls
``bot.check()`` first and stops with a report naming the screen and the missing label(s).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from amtsbote import ApplicationError

from ._pages import PageObject

__all__ = ["CanaryFailed", "CanaryReport", "ScreenCheck", "check_screen"]


class CanaryFailed(ApplicationError):
    """The canary found missing locators; the run must not touch data."""

    default_code = "canary-failed"

    def __init__(self, message: str, report: CanaryReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ScreenCheck:
    """The result for one screen.

    Attributes:
        screen: The screen's name.
        missing: Labels whose locators resolved to nothing.
        skipped: Why the screen was not opened (e.g. it needs data the canary must not create).
    """

    screen: str
    missing: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """True if nothing is missing."""
        return not self.missing


@dataclass
class CanaryReport:
    """The canary's findings over all screens of a bot."""

    screens: list[ScreenCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if every checked screen has all its locators."""
        return all(s.ok for s in self.screens)

    def missing(self) -> dict[str, list[str]]:
        """Screen name → missing labels, for failing screens only."""
        return {s.screen: list(s.missing) for s in self.screens if s.missing}

    def summary(self) -> str:
        """One line per screen, readable in a run log."""
        lines = []
        for s in self.screens:
            if s.skipped:
                lines.append(f"{s.screen}: übersprungen ({s.skipped})")
            elif s.missing:
                lines.append(f"{s.screen}: FEHLT {', '.join(s.missing)}")
            else:
                lines.append(f"{s.screen}: ok")
        return "\n".join(lines)

    def raise_for_problems(self) -> CanaryReport:
        """Raise `CanaryFailed` if anything is missing; else return the report."""
        if not self.ok:
            raise CanaryFailed("Canary: fehlende Bedienelemente\n" + self.summary(), self)
        return self


def check_screen(page_object: PageObject) -> ScreenCheck:
    """Check that every required locator of an opened screen resolves (count ≥ 1).

    Hidden elements count (fields in a closed tab panel of a tabbed layout exist all the same).
    """
    result = ScreenCheck(page_object.screen)
    for label, locator in page_object.required_locators().items():
        if locator.count() < 1:
            result.missing.append(label)
    return result
