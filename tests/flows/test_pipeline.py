"""The session pipeline: bot calls stay in the bot's thread, items overlap, errors come back."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from amtsbote import ApplicationError, BusinessRuleError
from flows._pipeline import BotDesk, run_pipeline


class ThreadBoundBot:
    """Like a sync Playwright bot: refuses to be used from any thread but its own."""

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.account = "bot1"
        self.registered: list[str] = []

    def register(self, application: str, *, taxpayer: str = "auto") -> str:
        if threading.get_ident() != self.owner:
            raise RuntimeError("used from a foreign thread")
        if application == "bad":
            raise BusinessRuleError("Ungültige IBAN", code="iban")
        time.sleep(0.02)
        self.registered.append(application)
        return f"AZ-{application}-{taxpayer}"


def _drain(items: list[str]) -> queue.Queue[str]:
    todo: queue.Queue[str] = queue.Queue()
    for item in items:
        todo.put(item)
    return todo


def _take(todo: queue.Queue[str]) -> Iterator[str]:
    """The items left in `todo`, shared by all item threads (as the flow's queue is)."""
    while True:
        try:
            yield todo.get_nowait()
        except queue.Empty:
            return


def test_every_item_is_registered_once_in_the_bots_own_thread() -> None:
    bot = ThreadBoundBot()
    todo = _drain([f"a{i}" for i in range(20)])
    results: dict[str, str] = {}
    lock = threading.Lock()

    def work(desk: BotDesk) -> None:
        for item in _take(todo):
            az = desk.call(lambda i=item: bot.register(i, taxpayer="new"))
            with lock:
                results[item] = az

    run_pipeline(bot, 3, work)
    assert sorted(bot.registered) == sorted(f"a{i}" for i in range(20))
    assert results == {f"a{i}": f"AZ-a{i}-new" for i in range(20)}


def test_an_items_error_reaches_its_thread_and_the_others_go_on() -> None:
    bot = ThreadBoundBot()
    todo = _drain(["a", "bad", "b"])
    outcomes: dict[str, str] = {}

    def work(desk: BotDesk) -> None:
        for item in _take(todo):
            try:
                outcomes[item] = desk.call(lambda i=item: bot.register(i))
            except BusinessRuleError as exc:
                outcomes[item] = f"rejected:{exc.code}"

    run_pipeline(bot, 2, work)
    assert outcomes == {"a": "AZ-a-auto", "bad": "rejected:iban", "b": "AZ-b-auto"}


def test_work_around_the_bot_overlaps_with_the_bots_work() -> None:
    """Depth 2: while one item is in the bot, the other thread does its portal/e-Akte part."""
    bot = ThreadBoundBot()
    todo = _drain([f"a{i}" for i in range(6)])
    in_bot = threading.Event()
    overlapped = threading.Event()

    def work(desk: BotDesk) -> None:
        for item in _take(todo):
            time.sleep(0.02)  # fetch + decrypt
            if in_bot.is_set():
                overlapped.set()

            def register(item: str = item) -> Any:
                in_bot.set()
                try:
                    return bot.register(item)
                finally:
                    in_bot.clear()

            desk.call(register)

    run_pipeline(bot, 2, work)
    assert overlapped.is_set()
    assert len(bot.registered) == 6


def test_depth_one_runs_items_strictly_in_turn() -> None:
    bot = ThreadBoundBot()
    todo = _drain(["a", "b", "c"])
    threads: set[str] = set()

    def work(desk: BotDesk) -> None:
        threads.add(threading.current_thread().name)
        for item in _take(todo):
            desk.call(lambda i=item: bot.register(i))

    run_pipeline(bot, 1, work)
    assert bot.registered == ["a", "b", "c"] and len(threads) == 1


def test_a_desk_whose_bot_thread_ended_fails_calls_instead_of_hanging() -> None:
    bot = ThreadBoundBot()
    desk = BotDesk(bot)
    caught: list[BaseException] = []

    def ends(_: Any = None) -> None:
        raise SystemExit(3)

    def server() -> None:
        try:
            desk.serve()
        except SystemExit as exc:
            caught.append(exc)

    t = threading.Thread(target=server)
    t.start()
    with pytest.raises(SystemExit):
        desk.call(ends)
    t.join(timeout=5)
    assert caught and not t.is_alive()
    with pytest.raises(ApplicationError) as info:
        desk.call(lambda: "never served")
    assert info.value.code == "bot-session-ended"
