"""The Load screen's chart (textual-plotext): throughput against latency per target, drawn by
`botticelli.load.chart.draw_curves`."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from botticelli.load.chart import draw_curves
from botticelli.load.store import StoredSweep


class LoadChart(PlotextPlot):
    """One sweep's curves; `draw(sweep, latency)` redraws."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.targets_drawn = 0
        self.latency = "ttft_p50"

    def draw(self, sweep: StoredSweep | None, latency: str) -> int:
        self.latency = latency
        self.targets_drawn = draw_curves(self.plt, sweep, latency)
        self.refresh()
        return self.targets_drawn
