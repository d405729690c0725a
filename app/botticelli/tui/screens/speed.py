"""The Speed screen: every measured answer and race run per target over a window (`botticelli speed` in the
TUI), with charts of decode tok/s and TTFT over time and a TTFT histogram for the targets picked in the table.

The store is read in a worker thread; figures and charts come from `botticelli.history`. Open it with f3 or
the palette ("Speed history…").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from botticelli.config import Config
from botticelli.history import History, TargetFigures, Window, load, parse_since, summarize
from botticelli.history.charts import References
from botticelli.history.reference import published_references
from botticelli.tui.widgets.footer import CoalescingFooter
from botticelli.tui.widgets.speed_charts import SpeedCharts
from botticelli.tui.widgets.speed_table import SpeedTable

WINDOWS = ("24h", "7d", "30d", "all")
SOURCES = ("all", "chat", "race")
SOURCE_NAMES = {"all": "chat + race", "chat": "chat answers", "race": "race runs"}
DEFAULT_PICKED = 4
"""Without a choice, the charts show the targets with the most answers, this many at most."""


class SpeedScreen(Screen[None]):
    """Speed history per target: a table, and charts of the targets picked in it."""

    AUTO_FOCUS = "#speed-table"
    CSS_PATH = Path(__file__).with_name("speed.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "next_window", "Window", tooltip="Last 24 hours, 7 days, 30 days, or all time"),
        Binding("s", "next_source", "Source", tooltip="Chat answers and race runs, or only one of them"),
        Binding("d", "chart('decode')", "Decode", show=False, tooltip="Chart: decode tok/s over time"),
        Binding("t", "chart('ttft')", "TTFT", show=False, tooltip="Chart: TTFT over time"),
        Binding("h", "chart('hist')", "Histogram", show=False, tooltip="Chart: how TTFT spreads"),
        Binding("r", "reload", "Reload", tooltip="Read the store again"),
        Binding("escape", "close", "Close", tooltip="Back to the chat"),
    ]

    def __init__(
        self,
        *,
        window: str = "7d",
        source: str = "all",
        picked: Sequence[str] | None = None,
        now: datetime | None = None,
        references: References | None = None,
        config: Config | None = None,
    ) -> None:
        """`picked`: the targets to chart first (default: the busiest ones); `now` fixes the window's end
        (snapshots, screenshots: nothing newer is shown); `references` are published figures to draw as lines
        (see `history.charts.References`); without them, `config`'s cached catalogues give them (HF router)."""
        super().__init__()
        if window not in WINDOWS or source not in SOURCES:
            raise ValueError(f"window must be one of {WINDOWS}, source one of {SOURCES}")
        self.window_name = window
        self.source = source
        self.picked: tuple[str, ...] | None = tuple(picked) if picked is not None else None
        self.now = now
        self.references = references or {}
        self.config = config if references is None else None
        self.history: History | None = None
        self.figures: list[TargetFigures] = []

    def compose(self) -> ComposeResult:
        yield Static("Reading the speed history…", id="speed-status", markup=False)
        yield SpeedTable(id="speed-table")
        yield SpeedCharts(id="speed-charts")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self.action_reload()

    # -- loading ---------------------------------------------------------------------------------------------

    def current_window(self) -> Window:
        since = None if self.window_name == "all" else parse_since(self.window_name, self.now)
        return Window(since=since, until=self.now, source=self.source)

    def action_reload(self) -> None:
        self._load(self.current_window())

    @work(thread=True, exclusive=True, group="speed-history", exit_on_error=False)
    def _load(self, window: Window) -> None:
        from botticelli.sessions import SessionStore, SessionStoreError

        try:
            with SessionStore.open() as store:
                history = load(store, window)
        except SessionStoreError as error:
            self.app.call_from_thread(self._failed, error.one_line())
            return
        if self.config is not None:
            self.references = published_references(self.config)
        figures = summarize(history.samples)
        self.app.call_from_thread(self._show, history, figures)

    def _failed(self, line: str) -> None:
        if not self.is_attached:  # closed while the store was being read
            return
        self.query_one("#speed-status", Static).update("The speed history could not be read.")
        self.notify(line, title="Speed history", severity="error", markup=False)

    def _show(self, history: History, figures: list[TargetFigures]) -> None:
        if not self.is_attached:
            return
        self.history, self.figures = history, figures
        if self.picked is None:
            busiest = sorted(figures, key=lambda f: (-f.count, f.target))[:DEFAULT_PICKED]
            self.picked = tuple(f.target for f in busiest)
        table = self.query_one(SpeedTable)
        table.show(figures, self.picked)
        self.picked = table.chart_targets() or self.picked
        self.query_one("#speed-status", Static).update(self.status_text())
        self.query_one(SpeedCharts).draw(history.samples, table.chart_targets(), self.references)

    def status_text(self) -> str:
        """`Last 7d · chat + race · 1,234 answers · 3 targets · w window, s source, space charts a target`."""
        window = "all time" if self.window_name == "all" else f"last {self.window_name}"
        count = len(self.history.samples) if self.history else 0
        text = f"{window.capitalize()} · {SOURCE_NAMES[self.source]} · {count:,} answers · {len(self.figures)} targets"
        if self.history is not None and self.history.truncated:
            text += " (newest only)"
        if not count:
            return text + " · nothing measured yet: chat, or race (ctrl+g in the chat), then come back"
        return text + " · space: chart a target · ~ = estimated token counts"

    # -- actions ---------------------------------------------------------------------------------------------

    @on(SpeedTable.Toggled)
    def _toggled(self, event: SpeedTable.Toggled) -> None:
        self.picked = event.picked
        if self.history is not None:
            self.query_one(SpeedCharts).draw(self.history.samples, event.picked, self.references)

    def action_next_window(self) -> None:
        self.window_name = WINDOWS[(WINDOWS.index(self.window_name) + 1) % len(WINDOWS)]
        self.action_reload()

    def action_next_source(self) -> None:
        self.source = SOURCES[(SOURCES.index(self.source) + 1) % len(SOURCES)]
        self.action_reload()

    def action_chart(self, key: str) -> None:
        self.query_one(SpeedCharts).show_tab(key)

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.dismiss(None)
