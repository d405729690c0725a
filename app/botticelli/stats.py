"""Stream timing and token accounting: one definition of every speed figure (docs/ARCHITECTURE.md).

- ttft_s: request sent -> first non-empty content or reasoning delta.
- decode_tps = (n - 1) / (t_last - t_first): speed while generating, TTFT excluded.
- e2e_tps = n / (t_last - t_sent).
- server_tps = the provider's own generation rate where it states one (llama.cpp's `predicted_per_second`), else
  completion_tokens / completion_time where it reports the time; queue_s from queue_time.
- n is the server's completion_tokens when usage arrived (exact); otherwise an estimate from characters with a
  chars-per-token ratio learned from earlier exact answers for the same model (start at 4), marked inexact.

The clock is injected, so tests drive it exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


class ServerUsage(Protocol):
    """What the meter reads of a server's usage report (`providers.types.Usage` is one).

    A protocol, so that this module needs nothing from `providers/`, which depends on it.
    """

    @property
    def completion_tokens(self) -> int | None: ...

    @property
    def queue_time(self) -> float | None: ...

    @property
    def completion_time(self) -> float | None: ...

    @property
    def server_tps(self) -> float | None: ...

Clock = Callable[[], float]
DEFAULT_CHARS_PER_TOKEN = 4.0
# Below this first-to-last-token span, chunk batching dominates: decode speed is not reported (shown as —).
MIN_DECODE_SPAN_S = 0.01


@dataclass(frozen=True, slots=True)
class SpeedFigures:
    """The `stats` object of docs/ARCHITECTURE.md: what one answer measured."""

    ttft_s: float | None = None
    total_s: float | None = None
    completion_tokens: int | None = None
    tokens_exact: bool = False
    decode_tps: float | None = None
    e2e_tps: float | None = None
    server_tps: float | None = None
    queue_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeedFigures:
        known = {k: data.get(k) for k in cls.__dataclass_fields__}
        known["tokens_exact"] = bool(known.get("tokens_exact"))
        return cls(**known)

    def tokens_label(self) -> str:
        """`128` when exact, `~128` when estimated, `—` when unknown."""
        if self.completion_tokens is None:
            return "—"
        return f"{self.completion_tokens:,}" if self.tokens_exact else f"~{self.completion_tokens:,}"


@dataclass
class TokenRatios:
    """Chars-per-token ratios learned per (profile, model) from exact answers (an EMA)."""

    alpha: float = 0.3
    _ratios: dict[tuple[str, str], float] = field(default_factory=dict)

    def get(self, key: tuple[str, str]) -> float:
        return self._ratios.get(key, DEFAULT_CHARS_PER_TOKEN)

    def learn(self, key: tuple[str, str], chars: int, tokens: int) -> None:
        if chars <= 0 or tokens <= 0:
            return
        observed = chars / tokens
        old = self._ratios.get(key)
        self._ratios[key] = observed if old is None else old + self.alpha * (observed - old)


class SpeedMeter:
    """Timestamps one streamed answer and turns them into `SpeedFigures`.

    Call `request_sent()` just before the request (and each retry of it) goes out, `on_text()` for every
    content or reasoning delta, `on_usage()` whenever usage arrives (the last one wins) and `finish()` at the
    end. `live()` may be called at any time for the running estimate.
    """

    def __init__(self, clock: Clock = time.perf_counter, chars_per_token: float = DEFAULT_CHARS_PER_TOKEN) -> None:
        self._clock = clock
        self.chars_per_token = chars_per_token
        self.t_start: float | None = None
        """When the first attempt went out: the total time counts from here, retries and their waits included."""
        self.t_sent: float | None = None
        """When the last attempt went out: the TTFT counts from here."""
        self.t_first: float | None = None
        self.t_last: float | None = None
        self.t_end: float | None = None
        self.chars = 0
        self.deltas = 0
        self.usage: ServerUsage | None = None

    def request_sent(self) -> None:
        self.t_sent = self._clock()
        if self.t_start is None:
            self.t_start = self.t_sent
        self.t_first = self.t_last = self.t_end = None
        self.chars = self.deltas = 0
        self.usage = None

    def on_text(self, text: str) -> None:
        if not text:
            return
        now = self._clock()
        if self.t_first is None:
            self.t_first = now
        self.t_last = now
        self.chars += len(text)
        self.deltas += 1

    def on_usage(self, usage: ServerUsage) -> None:
        self.usage = usage

    def finish(self) -> SpeedFigures:
        self.t_end = self._clock()
        return self.figures()

    def estimated_tokens(self) -> int:
        if self.chars == 0:
            return 0
        return max(1, round(self.chars / self.chars_per_token))

    def figures(self, now: float | None = None) -> SpeedFigures:
        """Exact figures once usage arrived, estimates (tokens_exact=False) before or without it."""
        exact = self.usage is not None and self.usage.completion_tokens is not None
        n = self.usage.completion_tokens if exact else self.estimated_tokens()  # type: ignore[union-attr]
        end = now if now is not None else (self.t_end if self.t_end is not None else self._clock())
        start = self.t_start if self.t_start is not None else self.t_sent
        total = end - start if start is not None else None
        ttft = self.t_first - self.t_sent if self.t_first is not None and self.t_sent is not None else None

        decode = e2e = None
        if self.t_first is not None and self.t_last is not None and self.t_sent is not None and n:
            span = self.t_last - self.t_first
            if n > 1 and span >= MIN_DECODE_SPAN_S:
                decode = (n - 1) / span
            if self.t_last > self.t_sent:
                e2e = n / (self.t_last - self.t_sent)

        server = queue = None
        if self.usage is not None:
            queue = self.usage.queue_time
            if self.usage.server_tps:
                server = self.usage.server_tps
            elif exact and self.usage.completion_time:
                server = self.usage.completion_tokens / self.usage.completion_time  # type: ignore[operator]
        return SpeedFigures(
            ttft_s=ttft,
            total_s=total,
            completion_tokens=n if (exact or self.chars) else None,
            tokens_exact=exact,
            decode_tps=decode,
            e2e_tps=e2e,
            server_tps=server,
            queue_s=queue,
        )

    def live(self) -> SpeedFigures:
        """The running figures while streaming: decode speed so far, measured to now, not the last token."""
        now = self._clock()
        figures = self.figures(now)
        if self.t_first is None or figures.tokens_exact:
            return figures
        n = figures.completion_tokens or 0
        span = now - self.t_first
        decode = (n - 1) / span if n > 1 and span > 0 else None
        return SpeedFigures(**{**figures.to_dict(), "decode_tps": decode})
