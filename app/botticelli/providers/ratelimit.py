"""Rate limits: reading the provider's headers, and pacing requests on the client side.

Groq's `x-ratelimit-*-requests` headers count requests per DAY and `*-tokens` count tokens per MINUTE; resets
are Go durations such as `2m59.56s` or `70ms`. `retry-after-ms` wins over `retry-after` (seconds or an
HTTP date), as the official SDKs do.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from botticelli import format as fmt
from botticelli.providers.types import RateLimitInfo, server_count, server_number

_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|h|m|s)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TRY_AGAIN = re.compile(r"try again in ((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|h|m|s))+)", re.IGNORECASE)


def parse_go_duration(text: str | None) -> float | None:
    """`2m59.56s` -> 179.56, `70ms` -> 0.07, `6s` -> 6.0; a bare number is seconds; junk -> None."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        return None
    number = _float(value)
    if number is not None:
        return server_number(number)
    parts = _GO_DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return server_number(round(sum(float(number) * _GO_UNITS[unit] for number, unit in parts), 9))


def _float(text: str | None) -> float | None:
    """`text` as a float, or None (a header is untrusted text)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `retry-after` (seconds or HTTP date); nonsense (negative,
    infinite, NaN) is treated as absent."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        ms = server_number(_float(raw_ms))
        if ms is not None:
            return ms / 1000
    raw = headers.get("retry-after")
    if not raw:
        return None
    seconds = _float(raw)
    if seconds is not None:
        return server_number(seconds)  # a number, even a nonsense one, is not a date
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_after_from_message(message: str) -> float | None:
    """Groq's "Please try again in 1m16.032s." -> 76.032."""
    match = _TRY_AGAIN.search(message)
    return parse_go_duration(match.group(1)) if match else None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    return server_count(_float(headers.get(name)))


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """The `x-ratelimit-*` and `retry-after` headers as a `RateLimitInfo`, or None when there are none."""
    info = RateLimitInfo(
        limit_requests=_int(headers, "x-ratelimit-limit-requests"),
        limit_tokens=_int(headers, "x-ratelimit-limit-tokens"),
        remaining_requests=_int(headers, "x-ratelimit-remaining-requests"),
        remaining_tokens=_int(headers, "x-ratelimit-remaining-tokens"),
        reset_requests_s=parse_go_duration(headers.get("x-ratelimit-reset-requests")),
        reset_tokens_s=parse_go_duration(headers.get("x-ratelimit-reset-tokens")),
        retry_after_s=parse_retry_after(headers),
    )
    return None if info.is_empty() else info


@dataclass(frozen=True, slots=True)
class PacingLimits:
    """Client-side limits from a profile's `rate_limits` table."""

    requests_per_minute: int | None = None
    requests_per_day: int | None = None
    tokens_per_minute: int | None = None


class RequestPacer:
    """Spaces requests so they stay inside the profile's limits instead of provoking 429s.

    `acquire(tokens)` waits until one more request of about `tokens` tokens fits every window, then records it.
    It returns how long it waited. A wait longer than `max_wait_s` is not waited: it raises `PacingExceeded`
    with the time needed, so a caller can say "daily limit reached, resets in 3h".
    """

    def __init__(
        self,
        limits: PacingLimits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
        max_wait_s: float = 120.0,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self.max_wait_s = max_wait_s
        self._minute: deque[tuple[float, int]] = deque()
        self._day: deque[float] = deque()
        self._lock = asyncio.Lock()

    def wait_needed(self, tokens: int = 0) -> float:
        """Seconds until a request of `tokens` tokens fits every window (0 if it fits now)."""
        now = self._clock()
        while self._minute and now - self._minute[0][0] >= 60:
            self._minute.popleft()
        while self._day and now - self._day[0] >= 86400:
            self._day.popleft()
        waits = [0.0]
        rpm, rpd, tpm = self.limits.requests_per_minute, self.limits.requests_per_day, self.limits.tokens_per_minute
        if rpm and len(self._minute) >= rpm:
            waits.append(self._minute[len(self._minute) - rpm][0] + 60 - now)
        if rpd and len(self._day) >= rpd:
            waits.append(self._day[len(self._day) - rpd] + 86400 - now)
        if tpm:
            used = sum(t for _, t in self._minute)
            if used + tokens > tpm and self._minute:
                # free the oldest entries until the request fits
                freed, wait = used, 0.0
                for stamp, spent in self._minute:
                    if freed + tokens <= tpm:
                        break
                    freed -= spent
                    wait = stamp + 60 - now
                waits.append(wait)
        return max(waits)

    async def acquire(self, tokens: int = 0) -> float:
        async with self._lock:
            wait = self.wait_needed(tokens)
            if wait > self.max_wait_s:
                raise PacingExceeded(wait)
            if wait > 0:
                await self._sleep(wait)  # type: ignore[misc]
            now = self._clock()
            self._minute.append((now, tokens))
            self._day.append(now)
            return wait


class PacingExceeded(Exception):
    """The profile's own limits would make this request wait longer than allowed."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"client-side rate limit: the next request fits in {fmt.wait(wait_s)}")
        self.wait_s = wait_s
