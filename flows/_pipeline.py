"""One bot session's pipeline: the browser never waits for the portal, the e-Akte or a notice.

Per item the walk is load → enter (browser) → notice → archive → deliver → done.
Only the registration needs the bot, and a sync Playwright bot must stay in the thread that
started it. So the session's thread becomes a *desk* that does nothing but registrations, and
``depth`` item threads carry the items: while one item is in the browser, the next is fetched
and loaded and the previous one is archived and delivered. With ``depth=1`` the
walk runs strictly one item after the other (the behaviour without a pipeline).

Nothing about exactly-once changes: each item still walks its steps in order, in one Prefect
task, with the store's "done" as its commit point; the pipeline only lets items overlap.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from amtsbote import ApplicationError

__all__ = ["BotDesk", "run_pipeline"]

_Job = tuple[Future[Any], Callable[[], Any]]


class BotDesk:
    """Stands in for a bot in other threads: its calls run in the bot's own thread.

    ``desk.call(fn)`` from an item thread queues the call and blocks until the bot's thread
    (inside `serve`) has run it; the result or the exception comes back unchanged.
    """

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ended: BaseException | None = None

    @property
    def account(self) -> Any:
        return self._bot.account

    @property
    def bot(self) -> Any:
        """The bot itself: use it only inside `call` (its objects belong to its thread)."""
        return self._bot

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` in the bot's thread and return its result (or raise its exception)."""
        future: Future[Any] = Future()
        self._jobs.put((future, fn))
        while True:
            try:
                return future.result(timeout=1.0)
            except TimeoutError:
                if self._ended is not None:
                    raise ApplicationError(
                        "Die Bot-Sitzung wurde beendet.", code="bot-session-ended"
                    ) from self._ended

    def serve(self) -> None:
        """Run queued calls until `close` is called (in the bot's thread)."""
        while (job := self._jobs.get()) is not None:
            future, fn = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except Exception as exc:  # noqa: BLE001 - handed to the caller unchanged
                future.set_exception(exc)
            except BaseException as exc:  # interrupt or exit: the desk closes for good
                self._ended = exc
                future.set_exception(exc)
                raise

    def close(self) -> None:
        """Let `serve` return once the calls queued so far are done."""
        self._jobs.put(None)


def run_pipeline(bot: Any, depth: int, work: Callable[[Any], None]) -> None:
    """Run `work(desk)` in `depth` item threads while this thread serves the bot's calls.

    `work` takes items until there are none and must not raise (it records each item's
    outcome itself). Item threads run in a copy of this thread's context (Prefect's run
    context). Returns when every item thread has ended.
    """
    desk = BotDesk(bot)
    left = [max(1, depth)]
    lock = threading.Lock()

    def item_thread() -> None:
        try:
            work(desk)
        finally:
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    desk.close()

    threads = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(item_thread,),
            name=f"{threading.current_thread().name}-item{i}",
            daemon=True,
        )
        for i in range(left[0])
    ]
    for t in threads:
        t.start()
    try:
        desk.serve()
    finally:
        for t in threads:
            t.join()
