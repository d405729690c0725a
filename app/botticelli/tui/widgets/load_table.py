"""The Load screen's table: one row per target and level of the sweep on show."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from botticelli.history.charts import label
from botticelli.load.store import CurvePoint, StoredSweep

COLUMNS = ("target", "level", "ok", "429", "req/s", "tok/s", "TTFT p50", "TTFT p99", "ITL p50", "e2e p50")


def _rate(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _latency(value: float | None) -> str:
    """`2.5ms`, `205ms`, `1.20s`, `—` (ITLs are a few milliseconds: one decimal below 10 ms)."""
    if value is None:
        return "—"
    if value < 0.01:
        return f"{value * 1000:.1f}ms"
    return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"


def row_cells(target: str, point: CurvePoint) -> list[Text]:
    """Cells as `Text` (DataTable would read plain strings as markup; target names are untrusted)."""
    f = point.figures
    cells = [
        label(target), f"{point.level:g}", f"{point.completed}/{point.requests}", str(point.rate_limited or ""),
        _rate(f.get("request_throughput")), _rate(f.get("output_tps")),
        _latency(f.get("ttft_p50")), _latency(f.get("ttft_p99")), _latency(f.get("itl_p50")),
        _latency(f.get("e2e_p50")),
    ]
    return [Text(c) for c in cells]


class LoadTable(DataTable[Text]):
    """Every level of every target of one sweep."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, sweep: StoredSweep | None) -> None:
        self.clear()
        if sweep is None:
            return
        for target, points in sweep.curves.items():
            for point in points:
                self.add_row(*row_cells(target, point))
