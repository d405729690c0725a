"""The network thread: an asyncio loop of its own where the clients read and the speed meters stamp chunks.

The UI never waits on it and it never waits on the UI: a turn started with `NetworkThread.start_turn` runs
there, and its events go into a `TurnFeed`, a thread-safe queue the UI drains at its own pace (once per
frame). A render stall therefore delays what is shown, never a timestamp. `call` runs any other coroutine
there (model lists, closing clients) and gives back a `concurrent.futures.Future`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from botticelli.chat import events as ev
from botticelli.chat.turn import Turn

log = logging.getLogger("botticelli.chat")
T = TypeVar("T")
SWITCH_INTERVAL_S = 0.001
"""The interpreter's thread switch interval while a network thread runs."""


class TurnFeed:
    """A running turn's events on their way to the UI thread; `drain()` takes what arrived so far."""

    def __init__(self, turn: Turn, wake: Callable[[], None] | None = None) -> None:
        self.turn = turn
        self._events: collections.deque[ev.TurnEvent] = collections.deque()
        self._wake = wake
        self._future: Future[Any] | None = None
        self.ended = False
        """True once `Finished` or `Failed` has been queued (it may not have been drained yet)."""

    def put(self, event: ev.TurnEvent) -> None:
        """Called on the network thread (deque appends are thread-safe)."""
        self._events.append(event)
        if isinstance(event, ev.Finished | ev.Failed):
            self.ended = True
        if self._wake is not None:
            try:
                self._wake()
            except Exception:  # a closed UI must not break the network loop
                log.debug("waking the UI failed", exc_info=True)

    def drain(self) -> list[ev.TurnEvent]:
        """Every event queued since the last drain, oldest first."""
        events = self._events
        out = []
        while events:
            out.append(events.popleft())
        return out

    def stop(self) -> None:
        """Stop the turn: it ends with `Finished("cancelled")` (queued as usual)."""
        if self._future is not None:
            self._future.cancel()

    @property
    def running(self) -> bool:
        return self._future is not None and not self._future.done()

    def done_future(self) -> Future[Any] | None:
        return self._future


class NetworkThread:
    """A daemon thread running an asyncio loop for the provider clients; start it once, `close` at exit."""

    def __init__(self, name: str = "botticelli-network") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The thread's loop (the thread starts on first use)."""
        with self._lock:
            if self._loop is None:
                # Python hands the GIL over every switch interval (5 ms by default): while the UI renders, a
                # chunk could wait that long for its timestamp. 1 ms keeps the wait well under the figures' 1 %.
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()

                self._thread = threading.Thread(target=main, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def call(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Run `coro` on the network loop; its result (or exception) comes back in the future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def wait(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` from another loop (the UI's) while it runs on the network loop."""
        return await asyncio.wrap_future(self.call(coro))

    def start_turn(self, turn: Turn, wake: Callable[[], None] | None = None) -> TurnFeed:
        """Run `turn` on the network loop; its events arrive in the returned feed (`wake` is called, on the
        network thread, after each one: it should only schedule a drain, e.g. `App.call_from_thread` is too
        slow, a flag or `loop.call_soon_threadsafe` is right)."""
        feed = TurnFeed(turn, wake)
        feed._future = self.call(_run(turn, feed))
        return feed

    def close(self, cleanup: Callable[[], Awaitable[Any]] | None = None, timeout_s: float = 5.0) -> None:
        """Stop what still runs there (turns end as cancelled), run `cleanup()` (closing clients), stop the
        thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(_shutdown(cleanup), loop).result(timeout_s)
        except Exception:
            log.debug("network cleanup failed", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)


async def _shutdown(cleanup: Callable[[], Awaitable[Any]] | None) -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if cleanup is not None:
        await cleanup()


async def _run(turn: Turn, feed: TurnFeed) -> ev.Finished | ev.Failed:
    return await turn.run(feed.put)
