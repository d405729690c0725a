"""Mutable per-instance state: counters, fault counters, rate limits, recent requests.

One `SimState` belongs to one server or transport; nothing here is global.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from botticelli.simulator.capacity import Capacity
from botticelli.simulator.ratelimit import RateLimits

RECENT_REQUESTS = 50


@dataclass(slots=True)
class SimState:
    """Counters the `/_sim/*` endpoints expose and the memory `times=N` faults need."""

    requests: int = 0
    chat_requests: int = 0
    open_connections: int = 0  # maintained by the socket server; always 0 in-process
    open_streams: int = 0  # response bodies started and neither finished nor closed
    fault_counts: dict[str, int] = field(default_factory=dict)
    limits: dict[str, RateLimits] = field(default_factory=dict)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_REQUESTS))
    capacity: Capacity | None = None  # the server's shared limits, made from the settings on first use

    def reset(self) -> None:
        """Zero the counters, fault counters and rate limits (live connections stay counted)."""
        self.requests = 0
        self.chat_requests = 0
        self.fault_counts.clear()
        self.limits.clear()
        self.recent.clear()
        if self.capacity is not None:
            self.capacity.clear()

    def fault_hit(self, key: str) -> int:
        """Count one more request carrying the fault spec `key`; return its 1-based number."""
        self.fault_counts[key] = self.fault_counts.get(key, 0) + 1
        return self.fault_counts[key]

    def stats(self, exclude_connections: int = 0) -> dict[str, int]:
        """The `/_sim/stats` object."""
        return {
            "requests": self.requests,
            "chat_requests": self.chat_requests,
            "open_connections": max(0, self.open_connections - exclude_connections),
            "open_streams": self.open_streams,
        }
