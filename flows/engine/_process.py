"""The `Process` declaration: the slots a municipality fills to automate one process.

A process says *what* happens to an item — where it comes from, which bot enters it, which
letters go out, what a clerk decides — and the engine (`build_flows`) does the rest once for
every process: intake, durable work items, batches with bot sessions under the seat limit,
retries, Klärfall and Freigabe runs, audit, artifacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from amtsbote import BusinessRuleError, ReviewRequired
from bots import BotAccount, BrowserSession, CanaryReport
from connectors.sources import Document, Received, Source

__all__ = [
    "BotSpec",
    "ClerkDecision",
    "Entry",
    "Process",
    "ProcessBot",
    "Review",
]

R = TypeVar("R", bound=BaseModel)
E = TypeVar("E", bound="Entry")


class Entry(Protocol):
    """What the business step reports back: the back office's file number for the item."""

    @property
    def aktenzeichen(self) -> str:
        """The back office's reference (Aktenzeichen): the e-Akte files the documents under it."""
        ...

    @property
    def created(self) -> bool:
        """False if the item was found already entered (search-before-create)."""
        ...


class ProcessBot(Protocol):
    """A logged-in back-office bot as the engine uses it (``bots.Bot`` subclasses fit)."""

    @property
    def account(self) -> BotAccount: ...

    def check(self) -> CanaryReport:
        """Open every screen the bot needs and report what is missing (the canary)."""
        ...


@dataclass(frozen=True)
class BotSpec:
    """Which back office a process works in, and how to get a bot for it.

    Attributes:
        system: The back office's name, for messages ("Fachverfahren Steuern").
        make: Builds the bot in a browser session: ``make(session, account, evidence_dir,
            run_id)``; the engine enters it as a context manager (login … logout).
        seats: Name of the Prefect global concurrency limit for the licensed seats.
    """

    system: str
    make: Callable[[BrowserSession, BotAccount, Path, str], Any]
    seats: str


@dataclass(frozen=True)
class ClerkDecision:
    """What a clerk decided on a Klärfall, in the engine's terms.

    Attributes:
        reject: A reason the citizen reads: the item ends with a rejection letter.
        option: Otherwise passed to the process's ``enter`` (e.g. "use the existing taxpayer").
    """

    reject: str | None = None
    option: Any = None


@dataclass(frozen=True)
class Review:
    """A Klärfall: the clerk's form and how its answer maps to the engine.

    Attributes:
        form: A ``prefect.input.RunInput`` model: the form the Prefect UI shows.
        describe: ``describe(error, links) -> markdown`` for the form's description: what
            differs and why, in German, with links to where the clerk's own account governs
            access (back office, e-Akte). It must not show personal data: the Prefect UI and
            its database are open to every Prefect user.
        decide: ``decide(answer) -> ClerkDecision``.
        initial: Pre-filled answers.
        codes: The `ReviewRequired` codes this form is for (empty: all). Any other Klärfall —
            e.g. the e-Akte holding another document under the item's key — gets the
            engine's own form: clear it up where it lies, then "erneut versuchen" or reject.
    """

    form: type[Any]
    describe: Callable[[ReviewRequired, dict[str, str]], str]
    decide: Callable[[Any], ClerkDecision]
    initial: dict[str, Any] = field(default_factory=dict)
    codes: frozenset[str] = frozenset()

    def handles(self, code: str) -> bool:
        return not self.codes or code in self.codes


@dataclass(frozen=True)
class Process(Generic[R, E]):
    """One automated process (see module docstring).

    Attributes:
        name: Slug; flows are ``<name>``, ``<name>-intake``, ``<name>-klaerfall``,
            ``<name>-freigabe``; settings come from ``AMTSBOTE_<NAME>_*``.
        title: German name for people ("Hundesteuer").
        source: Builds the source from settings (called once per run).
        bot: The back office and its bot.
        enter: The business step: ``enter(bot, received, option) -> Entry``; idempotent by
            the item key (search before create). ``option`` is None, or a clerk's decision.
        notice: ``notice(received, entry, today) -> Document``: the letter for a done item.
        rejection: ``rejection(received, error, today) -> Document``: the letter when the
            item is refused for a `BusinessRuleError`.
        review: The Klärfall form, if the process can raise `ReviewRequired`.
        approval: Default Freigabe policy: ``manual`` (four eyes) or ``auto`` (only where
            § 35a VwVfG allows a fully automated notice).
        deadline_days: Days to decide an item (the SLA watch reads it).
        manual_minutes: What one item costs a clerk by hand (the value report reads it).
        item_label: Word for an item in run names ("antrag" → task runs ``antrag-<key>``).
    """

    name: str
    title: str
    source: Callable[[], Source[R]]
    bot: BotSpec
    enter: Callable[[Any, Received[R], Any], E]
    notice: Callable[[Received[R], E, date], Document]
    rejection: Callable[[Received[R], BusinessRuleError, date], Document]
    review: Review | None = None
    approval: Literal["auto", "manual"] = "manual"
    deadline_days: int = 30
    manual_minutes: float = 0.0
    item_label: str = "vorgang"

    def __post_init__(self) -> None:
        if (
            not self.name
            or not self.name.replace("-", "").isalnum()
            or self.name != self.name.lower()
        ):
            raise ValueError(f"process name must be a lower-case slug, not {self.name!r}")

    @property
    def env_prefix(self) -> str:
        return f"AMTSBOTE_{self.name.upper().replace('-', '_')}_"
