"""Rate-limit counters as Groq reports them: leaky buckets whose resets are Go durations.

Groq's `x-ratelimit-reset-*` is the time until the bucket is full again: with 14,400 requests a day one request
refills in 6 s, which is why a fresh key shows `remaining 14399, reset 6s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def go_duration(seconds: float) -> str:
    """Format like Go's `time.Duration.String()`, rounded to the millisecond: `2m59.56s`, `70ms`, `0s`."""
    ns = round(max(seconds, 0.0) * 1000) * 1_000_000
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        return f"{_trim(ns / 1_000_000)}ms"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{_trim(rest / 1_000_000_000)}s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


@dataclass(slots=True)
class LeakyBucket:
    """`limit` units per `window_s` seconds; what was used drains back continuously."""

    limit: int
    window_s: float
    used: float = 0.0
    updated: float | None = None

    def _drain(self, now: float) -> None:
        if self.updated is not None:
            self.used = max(0.0, self.used - (now - self.updated) * self.limit / self.window_s)
        self.updated = now

    def take(self, amount: float, now: float) -> None:
        """Use `amount` units (the bucket never goes below empty)."""
        self._drain(now)
        self.used = min(float(self.limit), self.used + amount)

    def remaining(self, now: float) -> int:
        self._drain(now)
        return max(0, math.floor(self.limit - self.used))

    def reset_s(self, now: float) -> float:
        """Seconds until the bucket is full again."""
        self._drain(now)
        return self.used * self.window_s / self.limit


@dataclass(slots=True)
class RateLimits:
    """One model's counters: requests per `requests_window_s`, tokens per `tokens_window_s`."""

    requests: LeakyBucket
    tokens: LeakyBucket

    @classmethod
    def create(cls, requests_limit: int, requests_window_s: float, tokens_limit: int,
               tokens_window_s: float) -> RateLimits:
        return cls(LeakyBucket(requests_limit, requests_window_s), LeakyBucket(tokens_limit, tokens_window_s))

    def charge(self, tokens: int, now: float) -> None:
        """Count one request using `tokens` tokens."""
        self.requests.take(1, now)
        self.tokens.take(tokens, now)

    def headers(self, now: float) -> list[tuple[str, str]]:
        """The six `x-ratelimit-*` headers, in Groq's order."""
        return [
            ("x-ratelimit-limit-requests", str(self.requests.limit)),
            ("x-ratelimit-limit-tokens", str(self.tokens.limit)),
            ("x-ratelimit-remaining-requests", str(self.requests.remaining(now))),
            ("x-ratelimit-remaining-tokens", str(self.tokens.remaining(now))),
            ("x-ratelimit-reset-requests", go_duration(self.requests.reset_s(now))),
            ("x-ratelimit-reset-tokens", go_duration(self.tokens.reset_s(now))),
        ]
