"""Is the measuring client keeping up? Its event loop's lag and its CPU time while a level runs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from botticelli.load.metrics import percentile

TICK_S = 0.005
MAX_SAMPLES = 200_000  # ~17 minutes of ticks; older samples are not kept beyond this


@dataclass(frozen=True, slots=True)
class HealthSample:
    """What one process measured: lag p99 (s), CPU seconds used and wall seconds elapsed."""

    lag_p99_s: float | None
    cpu_s: float
    wall_s: float


class LoopWatch:
    """Ticks every 5 ms on the running loop; how late each tick wakes is the loop's lag (the time a stream's
    chunk would also have waited). `async with LoopWatch() as watch:` then `watch.sample()`."""

    def __init__(self, tick_s: float = TICK_S) -> None:
        self.tick_s = tick_s
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._cpu0 = self._wall0 = 0.0
        self._cpu1 = self._wall1 = 0.0

    async def __aenter__(self) -> LoopWatch:
        self._cpu0, self._wall0 = time.process_time(), time.perf_counter()
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cpu1, self._wall1 = time.process_time(), time.perf_counter()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick(self) -> None:
        clock = time.perf_counter
        while True:
            due = clock() + self.tick_s
            await asyncio.sleep(self.tick_s)
            if len(self.lags) < MAX_SAMPLES:
                self.lags.append(max(0.0, clock() - due))

    def sample(self) -> HealthSample:
        return HealthSample(percentile(self.lags, 99), self._cpu1 - self._cpu0, self._wall1 - self._wall0)
