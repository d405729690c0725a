"""The always-visible stats bar: target, state and the speed of the current (or last) answer.

The bar owns a 10 Hz timer and reads `SpeedMeter.live()` from the stream it tracks, so the network loop never
pays for a repaint per token. After an answer it keeps that answer's final figures.
"""

from __future__ import annotations

from typing import Literal, Protocol

from textual.content import Content
from textual.widgets import Static

from botticelli.providers.types import RateLimitInfo
from botticelli.stats import SpeedFigures, SpeedMeter, format_seconds, format_tps

State = Literal["idle", "waiting", "streaming", "done", "error", "cancelled"]
REFRESH_S = 0.1
SEPARATOR = (" │ ", "$text-muted")
STATE_STYLES: dict[str, str] = {
    "idle": "$text-muted",
    "waiting": "$warning",
    "streaming": "bold $accent",
    "done": "$success",
    "error": "bold $error",
    "cancelled": "$warning",
}


class TrackedStream(Protocol):
    """What the bar reads from a stream (a `ChatStream`)."""

    meter: SpeedMeter
    rate_limit: RateLimitInfo | None


def format_reset(seconds: float | None) -> str:
    """`59s`, `2m59s`, `1h05m`."""
    if seconds is None:
        return "—"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def rate_limit_text(info: RateLimitInfo | None) -> str | None:
    """`left 14,399 req/6s · 249,800 tok/7s` (remaining / time to full reset), or None without headers."""
    if info is None or info.is_empty():
        return None
    parts = []
    for remaining, reset, unit in (
        (info.remaining_requests, info.reset_requests_s, "req"),
        (info.remaining_tokens, info.reset_tokens_s, "tok"),
    ):
        if remaining is not None:
            parts.append(f"{remaining:,} {unit}" + (f"/{format_reset(reset)}" if reset is not None else ""))
    if not parts:
        return None
    return "left " + " · ".join(parts)


class StatsBar(Static):
    """One line: `profile·model │ state │ TTFT │ tok/s │ tokens │ elapsed │ server │ queue │ rate limits`."""


    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.target = ""
        self.state: State = "idle"
        self.detail = ""
        self.figures: SpeedFigures | None = None
        self.rate_limit: RateLimitInfo | None = None
        self.show_rate_limits = True
        """False hides the rate-limit counters (they depend on the wall clock; snapshots turn them off)."""
        self._stream: TrackedStream | None = None

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self._tick)
        self._show()

    # -- what the chat screen tells the bar ------------------------------------------------------------------

    def set_target(self, label: str) -> None:
        """The `profile·model` the next answer will come from."""
        self.target = label
        self._show()

    def track(self, stream: TrackedStream) -> None:
        """A request is going out: follow `stream` until `finish`."""
        self._stream = stream
        self.state = "waiting"
        self.detail = ""
        self.figures = None
        self._show()

    def finish(
        self,
        state: State,
        figures: SpeedFigures | None = None,
        rate_limit: RateLimitInfo | None = None,
        detail: str = "",
    ) -> None:
        """The answer ended (`done`, `error` or `cancelled`); keep its final figures on show."""
        stream = self._stream
        self._stream = None
        self.state = state
        self.detail = detail
        self.figures = figures
        if rate_limit is None and stream is not None:
            rate_limit = stream.rate_limit
        if rate_limit is not None and not rate_limit.is_empty():
            self.rate_limit = rate_limit
        self._show()

    def reset(self) -> None:
        """Back to idle (a new chat); the target stays."""
        self._stream = None
        self.state = "idle"
        self.detail = ""
        self.figures = None
        self._show()

    # -- drawing ---------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        stream = self._stream
        if stream is None:
            return
        meter = stream.meter
        if meter.t_sent is None:
            return
        self.state = "streaming" if meter.t_first is not None else "waiting"
        self.figures = meter.live()
        if stream.rate_limit is not None and not stream.rate_limit.is_empty():
            self.rate_limit = stream.rate_limit
        self._show()

    def render_content(self, width: int | None = None) -> Content:
        """The bar's text; plain pieces only, so model names and server text never become markup.

        Speed figures come first; the provider's own figures (server tok/s, queue, rate limits) follow on the
        same line when `width` allows, else on a second line.
        """
        speed: list[tuple[str, str] | str] = []
        if self.target:
            speed.append((self.target, "bold"))
        state = self.state if not self.detail else f"{self.state} · {self.detail}"
        speed.append((state, STATE_STYLES.get(self.state, "")))
        provider: list[tuple[str, str] | str] = []
        figures = self.figures
        if figures is not None and figures.ttft_s is None:
            speed.append(f"total {format_seconds(figures.total_s)}")  # nothing arrived (yet): only the wait
        elif figures is not None:
            approx = "" if figures.tokens_exact else "~"
            speed.append(f"TTFT {format_seconds(figures.ttft_s)}")
            speed.append(f"{approx}{format_tps(figures.decode_tps)}")
            speed.append(f"{figures.tokens_label()} tok")
            speed.append(f"total {format_seconds(figures.total_s)}")
            if figures.server_tps is not None:
                provider.append(f"server {format_tps(figures.server_tps)}")
            if figures.queue_s is not None:
                provider.append(f"queue {format_seconds(figures.queue_s)}")
        limits = rate_limit_text(self.rate_limit) if self.show_rate_limits else None
        if limits:
            provider.append((limits, "$text-muted"))
        line = _join(speed)
        if not provider:
            return line
        rest = _join(provider)
        if width is None or line.cell_length + len(SEPARATOR[0]) + rest.cell_length <= width:
            return Content.assemble(line, SEPARATOR, rest)
        return Content.assemble(line, "\n", rest)

    def _show(self) -> None:
        width = self.content_region.width if self.is_mounted and self.size.width else None
        self.update(self.render_content(width))

    def on_resize(self) -> None:
        self._show()


def _join(pieces: list[tuple[str, str] | str]) -> Content:
    parts: list[tuple[str, str] | str] = []
    for index, piece in enumerate(pieces):
        if index:
            parts.append(SEPARATOR)
        parts.append(piece)
    return Content.assemble(*parts)
