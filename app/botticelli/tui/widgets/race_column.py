"""One target's column in a race: its name, a stats line and its answer streaming in as plain text.

The race screen hands the column its turn's events (deltas and live figures, timestamped on the network
thread); they only append to a buffer, and a 10 Hz timer on the column repaints. Model text is shown
literally: escape sequences are stripped and the text goes into `Content` as-is, never through markup.
"""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from botticelli import format as fmt
from botticelli.bench.runner import LiveRun, RunResult
from botticelli.chat.events import ContentDelta, Figures, ReasoningDelta, TurnEvent
from botticelli.safety import EscapeStripper, strip_escapes
from botticelli.stats import SpeedFigures
from botticelli.targets import Target

REFRESH_S = 0.1
TAIL_CHARS = 4_000
"""While a column streams, only about this much of the end of its text is painted: a Static lays out all
of its text on every update, and the column follows the end anyway (the whole text is shown when done)."""
State = Literal["ready", "waiting", "streaming", "done", "failed", "cancelled"]
STATE_STYLES: dict[str, str] = {
    "ready": "$text-muted",
    "waiting": "$warning",
    "streaming": "bold $accent",
    "done": "$success",
    "failed": "bold $error",
    "cancelled": "$warning",
}


def stats_content(figures: SpeedFigures | None, *, final: bool) -> Content:
    """`TTFT 200ms · ~812 tok/s · ~120 tok` live (estimates carry `~`); exact figures and server tok/s at the end."""
    if figures is None or figures.ttft_s is None:
        return Content.styled("TTFT — · — tok/s · — tok", "$text-muted")
    approx = "" if figures.tokens_exact else "~"
    parts: list[str | tuple[str, str]] = [
        ("TTFT ", "$text-muted"), fmt.seconds(figures.ttft_s),
        (" · ", "$text-muted"), (f"{approx}{fmt.tps(figures.decode_tps)}", "bold" if final else ""),
        (" · ", "$text-muted"), fmt.tokens(figures),
    ]
    if final and figures.server_tps is not None:
        parts += [(" · server ", "$text-muted"), fmt.tps(figures.server_tps)]
    return Content.assemble(*parts)


class RaceColumn(Vertical):
    """A target's lane: header (name, state), stats line, and the current run's answer."""


    def __init__(self, target: Target, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.target = target
        self.state: State = "ready"
        self.run_label = ""
        self.figures: SpeedFigures | None = None
        self.cut = False
        """The last answer stopped at the length limit (max_tokens): it is incomplete."""
        self.winner = False
        self._answer: list[str] = []
        self._reasoning: list[str] = []
        self._stripper = EscapeStripper()
        self._reasoning_stripper = EscapeStripper()
        self._dirty = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(stats_content(None, final=False), classes="race-column--stats", markup=False)
        with VerticalScroll():
            yield Static("", classes="race-column--body", markup=False)

    def on_mount(self) -> None:
        self._stats_widget = self.query_one(".race-column--stats", Static)
        self._body_widget = self.query_one(".race-column--body", Static)
        self._scroll = self.query_one(VerticalScroll)
        self._show_head()
        self._timer = self.set_interval(REFRESH_S, self._tick)

    @property
    def text(self) -> str:
        """The answer shown so far (escape sequences stripped)."""
        return "".join(self._answer)

    # -- what the race screen calls ------------------------------------------------------------------------

    def begin(self, live: LiveRun, runs: int) -> None:
        """A new request for this target: clear the text; its events follow (`add`)."""
        self.run_label = f"warm-up {live.run}" if live.warmup else f"run {live.run}/{runs}"
        self._answer, self._reasoning = [], []
        self._stripper, self._reasoning_stripper = EscapeStripper(), EscapeStripper()
        self.figures = None
        self.cut = False
        self.state = "waiting"
        self.set_class(False, "-failed")
        self._body_widget.set_class(False, "-error")
        self._scroll.anchor(False)
        self._scroll.scroll_home(animate=False, immediate=True)
        self._dirty = True
        self._paint()

    def add(self, event: TurnEvent) -> None:
        """Buffer a streamed delta or the live figures; the timer paints them."""
        if isinstance(event, Figures):
            if self.state in ("waiting", "streaming"):
                self.figures = event.figures
                self.state = "streaming" if event.figures.ttft_s is not None else "waiting"
                self._dirty = True
        elif isinstance(event, ContentDelta):
            safe = self._stripper.feed(event.text)
            if safe:
                self._answer.append(safe)
                self._dirty = True
                self._follow()
        elif isinstance(event, ReasoningDelta):
            safe = self._reasoning_stripper.feed(event.text)
            if safe:
                self._reasoning.append(safe)
                self._dirty = True
                self._follow()

    def _follow(self) -> None:
        """Keep the newest text in view until the user scrolls up (anchored once text arrives; the body is at
        least as tall as the view, so a short answer still starts at the top)."""
        if not self._scroll.is_anchored:
            self._scroll.anchor()

    def finish(self, result: RunResult) -> None:
        """The request ended: final figures, or the error in place of the answer (read from its first line)."""
        self._answer.append(self._stripper.flush())
        self._reasoning.append(self._reasoning_stripper.flush())
        self.figures = result.stats
        self.cut = result.finish_reason in ("length", "content_filter")
        if result.ok:
            self.state = "done"
        else:
            self.state = "failed"
            self.set_class(True, "-failed")
            self._scroll.anchor(False)
            partial = "".join(self._answer).strip()
            self._answer = [_error_text(result)]
            if partial:
                self._answer.append(f"\n\n— the part received —\n{partial}")
            self._reasoning = []
            self._body_widget.set_class(True, "-error")
        self._dirty = True
        self._paint()
        if not result.ok:
            self.call_after_refresh(self._scroll.scroll_home, animate=False, immediate=True)

    def show_figures(self, figures: SpeedFigures | None, label: str) -> None:
        """Show a figure summary (the medians after a repeated race) in the stats line."""
        self.figures = figures
        self.run_label = label
        self._paint()

    def cancel(self) -> None:
        if self.state in ("waiting", "streaming"):
            self.state = "cancelled"
            self._paint()

    def mark_winner(self, winner: bool) -> None:
        self.winner = winner
        self.set_class(winner, "-winner")
        self._show_head()

    # -- drawing ---------------------------------------------------------------------------------------------

    def _show_head(self) -> None:
        """The target in the border's title, the state in its subtitle (as Content: never markup)."""
        title: list[str | tuple[str, str]] = []
        if self.winner:
            title.append(("★ ", "bold $success"))
        title.append((self.target.label, "bold"))
        if self.target.profile.simulated:
            title.append((" (simulated)", ""))
        self.border_title = Content.assemble(*title)
        state = f"{self.state} · cut" if self.cut and self.state == "done" else self.state
        state = f"{state} · {self.run_label}" if self.run_label else state
        self.border_subtitle = Content.styled(state, STATE_STYLES.get(self.state, ""))

    def _tick(self) -> None:
        if self._dirty:
            self._paint()

    def _paint(self) -> None:
        self._show_head()
        if self.state == "failed" and self.figures is None:
            self._stats_widget.update(Content.styled("no figures: the request failed", "$text-muted"))
        else:
            self._stats_widget.update(stats_content(self.figures, final=self.state == "done"))
        if self._dirty:
            self._dirty = False
            reasoning = "".join(self._reasoning).strip()
            answer = "".join(self._answer)
            self._answer = [answer]
            if self.state in ("waiting", "streaming"):
                answer, reasoning = _tail(answer), _tail(reasoning)
            body = Content(answer)
            if reasoning:
                body = Content.assemble((reasoning, "italic $text-muted"), "\n\n", body)
            self._body_widget.update(body)


def _tail(text: str) -> str:
    """The end of `text` from a line start, about TAIL_CHARS long, marked with "…" if cut."""
    if len(text) <= TAIL_CHARS:
        return text
    start = text.find("\n", len(text) - TAIL_CHARS)
    return "…\n" + text[start + 1 if start >= 0 else len(text) - TAIL_CHARS :]


def _error_text(result: RunResult) -> str:
    """`✗ rate limit · HTTP 429`, then what to do, then the provider's message."""
    error = result.error or {}
    kind = str(error.get("kind") or "error").replace("_", " ")
    status = f" · HTTP {error['status']}" if error.get("status") is not None else ""
    lines = [f"✗ {kind}{status}"]
    if result.hint:
        lines.append(f"→ {strip_escapes(result.hint)}")
    lines += ["", strip_escapes(str(error.get("message") or ""))]
    return "\n".join(lines)
