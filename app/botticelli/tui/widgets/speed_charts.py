"""The Speed screen's charts (textual-plotext): decode tok/s over time, TTFT over time, the TTFT histogram,
one tab each, drawn by `botticelli.history.charts` (the same code as `botticelli speed --plot`)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane
from textual_plotext import PlotextPlot

from botticelli.history import Sample, auto_bucket, series
from botticelli.history.charts import References, draw_histogram, draw_over_time

TABS = (("decode", "Decode over time"), ("ttft", "TTFT over time"), ("hist", "TTFT histogram"))


class SpeedCharts(Vertical):
    """Three charts of the picked targets' samples."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.samples: list[Sample] = []
        self.targets: tuple[str, ...] = ()
        self.references: References = {}

    def compose(self) -> ComposeResult:
        with TabbedContent(id="speed-tabs"):
            for key, title in TABS:
                with TabPane(title, id=f"speed-tab-{key}"):
                    yield PlotextPlot(id=f"speed-plot-{key}")

    def show_tab(self, key: str) -> None:
        self.query_one(TabbedContent).active = f"speed-tab-{key}"

    def plot(self, key: str) -> PlotextPlot:
        return self.query_one(f"#speed-plot-{key}", PlotextPlot)

    def draw(self, samples: Sequence[Sample], targets: Sequence[str], references: References | None = None) -> None:
        """Redraw all three charts for `targets` (in legend order)."""
        self.samples, self.targets = list(samples), tuple(targets)
        self.references = references or {}
        picked = [s for s in self.samples if s.target in set(self.targets)]
        buckets = series(picked, auto_bucket(picked))
        draw_over_time(self.plot("decode").plt, buckets, "decode_tps", self.targets, self.references)
        draw_over_time(self.plot("ttft").plt, buckets, "ttft_s", self.targets, self.references)
        draw_histogram(self.plot("hist").plt, picked, self.targets)
        for key, _ in TABS:
            self.plot(key).refresh()
