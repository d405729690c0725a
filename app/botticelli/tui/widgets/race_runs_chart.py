"""The race summary's per-run chart (textual-plotext): TTFT and decode tok/s of every measured run, one line
per target, drawn by `botticelli.history.charts.draw_runs` (the same code as the speed history's charts)."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from botticelli.bench.runner import RunResult
from botticelli.history.charts import RunPoints, draw_runs


def run_points(runs: Sequence[RunResult], labels: Sequence[str]) -> RunPoints:
    """target -> [(run, TTFT, decode tok/s)] of its successful measured runs (failed ones have no figure)."""
    points: dict[str, list[tuple[int, float | None, float | None]]] = {label: [] for label in labels}
    for run in runs:
        if run.warmup or not run.ok or run.stats is None or run.target not in points:
            continue
        points[run.target].append((run.run, run.stats.ttft_s, run.stats.decode_tps))
    return points


class RaceRunsChart(PlotextPlot):
    """Every run of a race, per target: TTFT on the left, decode tok/s on the right."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: RunPoints = {}

    def draw(self, runs: Sequence[RunResult], labels: Sequence[str]) -> int:
        """Redraw from `runs`; returns how many targets have a point."""
        self.points = run_points(runs, labels)
        drawn = draw_runs(self.plt, self.points)
        self.refresh()
        return drawn
