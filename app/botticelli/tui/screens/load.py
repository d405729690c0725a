"""The Load screen: the stored load sweeps (`botticelli load`), one at a time, as curves of throughput against
latency per target and a table of every level.

Sweeps are read from the data folder in a worker thread (`botticelli.load.store`); the chart is drawn by
`botticelli.load.chart`. Open it with f4 or the palette ("Load sweeps…").
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from botticelli.load.chart import LATENCIES
from botticelli.load.store import StoredSweep, list_sweeps
from botticelli.safety import strip_escapes
from botticelli.tui.widgets.footer import CoalescingFooter
from botticelli.tui.widgets.load_chart import LoadChart
from botticelli.tui.widgets.load_table import LoadTable


class LoadScreen(Screen[None]):
    """One stored sweep at a time: `[` older, `]` newer, `l` the latency figure charted."""

    AUTO_FOCUS = "#load-table"
    CSS_PATH = Path(__file__).with_name("load.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "older", "Older", key_display="[", tooltip="The sweep before this one"),
        Binding("right_square_bracket", "newer", "Newer", key_display="]", tooltip="The sweep after this one"),
        Binding("l", "next_latency", "Latency", tooltip="Chart TTFT p50, TTFT p99, ITL p50, e2e p50 or e2e p99"),
        Binding("r", "reload", "Reload", tooltip="Read the stored sweeps again"),
        Binding("escape", "close", "Close", tooltip="Back to the chat"),
    ]

    def __init__(self, *, folder: Path | None = None, latency: str = "ttft_p50") -> None:
        """`folder`: where the sweeps are (default: the data folder's `loads/`)."""
        super().__init__()
        if latency not in LATENCIES:
            raise ValueError(f"latency must be one of {', '.join(LATENCIES)}")
        self.folder = folder
        self.latency = latency
        self.sweeps: list[StoredSweep] | None = None
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Static("Reading the stored load sweeps…", id="load-status", markup=False)
        yield LoadChart(id="load-chart")
        yield LoadTable(id="load-table")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self.action_reload()

    @property
    def sweep(self) -> StoredSweep | None:
        """The sweep on show, if any."""
        if not self.sweeps:
            return None
        return self.sweeps[self.index]

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="load-sweeps", exit_on_error=False)
    def _load(self) -> None:
        sweeps = list_sweeps(self.folder)
        self.app.call_from_thread(self._loaded, sweeps)

    def _loaded(self, sweeps: list[StoredSweep]) -> None:
        self.sweeps = sweeps
        self.index = min(self.index, max(len(sweeps) - 1, 0))
        self._show()

    def _show(self) -> None:
        sweep = self.sweep
        self.query_one(LoadChart).draw(sweep, self.latency)
        self.query_one(LoadTable).show(sweep)
        self.query_one("#load-status", Static).update(self.status_text())

    def status_text(self) -> str:
        """`Sweep 1 of 3 · 20261204-171500-ab12cd · concurrency 1,2,4,8 · 2 targets · [ ] other sweeps`."""
        if not self.sweeps:
            return "No load sweeps yet: run `botticelli load -t PROFILE:MODEL --concurrency 1,2,4,8`, then r"
        sweep = self.sweeps[self.index]
        targets = len(sweep.curves)
        text = (f"Sweep {self.index + 1} of {len(self.sweeps)} · {strip_escapes(sweep.sweep_id)} · "
                f"{strip_escapes(sweep.summary)} · {targets} target{'s' if targets != 1 else ''} · "
                f"{LATENCIES[self.latency]}")
        return text + " · [ ] other sweeps, l latency"

    def action_older(self) -> None:
        if self.sweeps and self.index < len(self.sweeps) - 1:
            self.index += 1
            self._show()

    def action_newer(self) -> None:
        if self.sweeps and self.index > 0:
            self.index -= 1
            self._show()

    def action_next_latency(self) -> None:
        names = list(LATENCIES)
        self.latency = names[(names.index(self.latency) + 1) % len(names)]
        if self.sweeps is not None:
            self._show()

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.dismiss(None)
