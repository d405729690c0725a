"""The always-visible stats bar: target, state and the speed of the current (or last) answer.

The chat screen hands it what the turn's events say (`started`, `retrying`, `show_figures`, `finish`); its own
10 Hz timer only moves the clocks that need no event: the wait so far and a retry's countdown. After an answer
it keeps that answer's final figures. It always fits one line: the provider's own figures (server tok/s,
queue, the rate-limit counter closest to running out) are shown as far as the width allows.
"""

from __future__ import annotations

import time
from typing import Literal

from textual.content import Content
from textual.widgets import Static

from botticelli import format as fmt
from botticelli.providers.types import RateLimitInfo
from botticelli.stats import SpeedFigures

State = Literal["idle", "waiting", "retrying", "streaming", "done", "error", "cancelled"]
REFRESH_S = 0.1
MIN_TARGET = 16
"""A long `profile·model` is shortened to no less than this to make room for the rate-limit counter."""
SEPARATOR = (" │ ", "$text-muted")
STATE_STYLES: dict[str, str] = {
    "idle": "$text-muted",
    "waiting": "$warning",
    "retrying": "$warning",
    "streaming": "bold $accent",
    "done": "$success",
    "error": "bold $error",
    "cancelled": "$warning",
}


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
        self._started_at: float | None = None
        self._retry: tuple[float, int, int] | None = None
        """(when the retry goes out, on the `time.perf_counter` clock; attempt; of) while one is scheduled."""

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self._tick)
        self._show()

    # -- what the chat screen tells the bar ------------------------------------------------------------------

    def set_target(self, label: str) -> None:
        """The `profile·model` the next answer will come from."""
        self.target = label
        self._show()

    def started(self, at: float | None = None) -> None:
        """A request went out at `at` (`time.perf_counter`; default now): waiting for its first token."""
        self._started_at = time.perf_counter() if at is None else at
        self._retry = None
        self.state = "waiting"
        self.detail = ""
        self.figures = None
        self._show()

    def retrying(self, wait_s: float, attempt: int, of: int, at: float | None = None) -> None:
        """No answer yet: attempt `attempt` of `of` goes out `wait_s` after `at`; the bar counts down."""
        self._retry = ((time.perf_counter() if at is None else at) + wait_s, attempt, of)
        self.state = "retrying"
        self._show()

    def show_figures(self, figures: SpeedFigures, rate_limit: RateLimitInfo | None = None) -> None:
        """The running figures of the answer in flight."""
        self._retry = None
        self.figures = figures
        self.state = "streaming" if figures.ttft_s is not None else "waiting"
        self._keep_rate_limit(rate_limit)
        self._show()

    def finish(
        self,
        state: State,
        figures: SpeedFigures | None = None,
        rate_limit: RateLimitInfo | None = None,
        detail: str = "",
    ) -> None:
        """The answer ended (`done`, `error` or `cancelled`); keep its final figures on show."""
        self._started_at = None
        self._retry = None
        self.state = state
        self.detail = detail
        self.figures = figures
        self._keep_rate_limit(rate_limit)
        self._show()

    def reset(self) -> None:
        """Back to idle (a new chat); the target stays."""
        self._started_at = None
        self._retry = None
        self.state = "idle"
        self.detail = ""
        self.figures = None
        self._show()

    def _keep_rate_limit(self, rate_limit: RateLimitInfo | None) -> None:
        if rate_limit is not None and not rate_limit.is_empty():
            self.rate_limit = rate_limit

    # -- drawing ---------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._retry is not None or (self._started_at is not None and self.state == "waiting"):
            self._show()

    def status_text(self, now: float | None = None) -> str:
        """The state word, with the retry countdown or the error kind after it."""
        if self._retry is not None:
            due, attempt, of = self._retry
            remaining = due - (time.perf_counter() if now is None else now)
            if remaining <= 0:  # the retry went out: waiting for its answer
                return f"waiting (attempt {attempt} of {of})"
            return fmt.retrying(remaining, attempt, of)
        return self.state if not self.detail else f"{self.state} · {self.detail}"

    def render_content(self, width: int | None = None) -> Content:
        """The bar's text, one line; plain pieces only, so model names and server text never become markup.

        The speed figures come first; the provider's own follow as far as `width` allows (all of them when
        `width` is None): the rate-limit counter closest to running out (a long target name is shortened to
        make room for it), then server tok/s and queue.
        """
        speed: list[tuple[str, str] | str] = [(self.status_text(), STATE_STYLES.get(self.state, ""))]
        figures = self.figures
        if figures is None and self._started_at is not None:
            figures = SpeedFigures(total_s=time.perf_counter() - self._started_at)  # the wait so far
        if figures is not None:
            speed.extend(fmt.figures_parts(figures, provider=False))
            if figures.ttft_s is not None and figures.decode_tps is None:  # keep the column: `—` until timed
                speed.insert(2, fmt.NONE)
        limits = fmt.scarcest_limit(self.rate_limit) if self.show_rate_limits else None
        extras: list[tuple[str, str] | str] = []
        if figures is not None and figures.ttft_s is not None:
            if figures.server_tps is not None:
                extras.append(f"server {fmt.tps(figures.server_tps)}")
            if figures.queue_s is not None:
                extras.append(f"queue {fmt.seconds(figures.queue_s)}")
        target = self.target
        if limits:
            if width is not None and self.target:
                spare = width - _join(_with_target(target, [*speed, limits])).cell_length
                if spare < 0 and len(target) + spare >= MIN_TARGET:
                    target = target[: len(target) + spare - 1] + "…"
            extras.insert(0, (limits, "$text-muted"))
        pieces = _with_target(target, speed)
        for piece in extras:
            if width is None or _join([*pieces, piece]).cell_length <= width:
                pieces.append(piece)
        return _join(pieces)

    def _show(self) -> None:
        width = self.content_region.width if self.is_mounted and self.size.width else None
        self.update(self.render_content(width))

    def on_resize(self) -> None:
        self._show()


def _with_target(target: str, pieces: list[tuple[str, str] | str]) -> list[tuple[str, str] | str]:
    return [(target, "bold"), *pieces] if target else list(pieces)


def _join(pieces: list[tuple[str, str] | str]) -> Content:
    parts: list[tuple[str, str] | str] = []
    for index, piece in enumerate(pieces):
        if index:
            parts.append(SEPARATOR)
        parts.append(piece)
    return Content.assemble(*parts)
