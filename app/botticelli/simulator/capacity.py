"""A simulated server's capacity: what makes load curves saturate offline.

Three independent limits, each off when 0 (`SimSettings.capacity_tps`, `max_concurrency`, `max_rps`):

* a decode throughput shared by every stream (`capacity_tps` tokens/s): each token takes the next free slot of
  a server-wide clock spaced `1/capacity_tps` apart, so N streams asking for more than the capacity each get
  about `capacity_tps / N`, and the sum never exceeds it;
* a concurrency limit (`max_concurrency` answers at once): further requests wait in a FIFO queue before their
  TTFT starts, and the wait is reported as Groq's `usage.queue_time`;
* a request rate (`max_rps` requests/s, a leaky bucket with a one-second burst): a request above it gets a 429
  with `retry-after`, before it is queued or charged.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from botticelli.simulator.ratelimit import LeakyBucket


@dataclass(slots=True)
class Capacity:
    """One server's shared limits and their live state (kept in `SimState`, reset with it)."""

    tokens_per_s: float = 0.0
    max_concurrency: int = 0
    requests_per_s: float = 0.0
    _next_free: float = 0.0
    _semaphore: asyncio.Semaphore | None = None
    _bucket: LeakyBucket | None = field(default=None)

    def __post_init__(self) -> None:
        for name, value in (("capacity_tps", self.tokens_per_s), ("max_rps", self.requests_per_s),
                            ("max_concurrency", self.max_concurrency)):
            if math.isnan(value) or value < 0 or math.isinf(value):
                raise ValueError(f"{name} must be a finite number >= 0 (0 = no limit), not {value}")
        if self.requests_per_s:
            burst = max(1, math.ceil(self.requests_per_s))
            self._bucket = LeakyBucket(burst, burst / self.requests_per_s)

    def clear(self) -> None:
        """Forget the request rate and token clock (`/_sim/reset`); answers holding a slot keep it."""
        self._next_free = 0.0
        if self._bucket is not None:
            self._bucket = LeakyBucket(self._bucket.limit, self._bucket.window_s)

    # -- request rate ----------------------------------------------------------------------------------------

    def admit(self, now: float) -> float | None:
        """None when one more request fits the rate (and count it), else the seconds until one would."""
        bucket = self._bucket
        if bucket is None:
            return None
        if bucket.remaining(now) >= 1:
            bucket.take(1, now)
            return None
        return max(0.001, (bucket.used + 1 - bucket.limit) * bucket.window_s / bucket.limit)

    # -- concurrency --------------------------------------------------------------------------------------------

    async def enter(self) -> bool:
        """Wait for an answer slot; True when one was taken (hand it back with `leave`)."""
        if not self.max_concurrency:
            return False
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        await self._semaphore.acquire()
        return True

    def leave(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()

    # -- shared decode throughput ---------------------------------------------------------------------------------

    def reserve(self, due: float, count: int = 1) -> float:
        """The time the last of `count` tokens wanted at `due` may be sent (>= due); the slots are taken."""
        if not self.tokens_per_s:
            return due
        first = max(due, self._next_free)
        self._next_free = first + count / self.tokens_per_s
        return first + (count - 1) / self.tokens_per_s


class HeldBody:
    """A response body holding a concurrency slot: the slot is handed back when the body ends or is closed,
    even if it was never iterated."""

    def __init__(self, body: AsyncIterator[bytes], capacity: Capacity) -> None:
        self._body = body
        self._capacity: Capacity | None = capacity

    def __aiter__(self) -> HeldBody:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._body.__anext__()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._capacity is not None:
            self._capacity, capacity = None, self._capacity
            capacity.leave()

    async def aclose(self) -> None:
        self._release()
        await self._body.aclose()  # type: ignore[attr-defined]
