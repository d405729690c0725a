"""The Speed screen's table: one row per target with its history figures; space (or enter) picks the targets
the charts overlay, marked ✓."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from botticelli import format as fmt
from botticelli.history import TargetFigures
from botticelli.history.charts import label
from botticelli.history.report import errors_text

COLUMNS = ("", "target", "n", "ok", "TTFT p50", "p90", "p99", "decode tok/s p50", "p90", "e2e tok/s", "errors")
CHECK = "✓"
NAME_MAX = 44


def _tps(values: dict[str, float] | None, key: str, estimated: bool) -> str:
    value = values.get(key) if values else None
    return "—" if value is None else ("~" if estimated else "") + fmt.rate(value)


def row_cells(f: TargetFigures, picked: bool) -> list[Text]:
    """Table cells as `Text` (DataTable would read plain strings as markup; target names are untrusted)."""
    ttft = f.ttft_s or {}
    approx = f.estimated > 0
    cells = [
        label(f.target, NAME_MAX), f"{f.count:,}", f"{f.ok:,}", fmt.seconds(ttft.get("p50")),
        fmt.seconds(ttft.get("p90")), fmt.seconds(ttft.get("p99")), _tps(f.decode_tps, "p50", approx),
        _tps(f.decode_tps, "p90", approx), _tps(f.e2e_tps, "p50", approx), errors_text(f),
    ]
    mark = Text(CHECK if picked else "", style="bold green")
    return [mark, *(Text(c) for c in cells)]


class SpeedTable(DataTable[Text]):
    """Targets and their figures; `picked` are the ones drawn in the charts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Chart it", tooltip="Draw this target in the charts (or stop drawing it)"),
    ]

    class Toggled(Message):
        """The set of targets to chart changed."""

        def __init__(self, picked: tuple[str, ...]) -> None:
            super().__init__()
            self.picked = picked

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.figures: list[TargetFigures] = []
        self.picked: set[str] = set()

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, figures: Sequence[TargetFigures], picked: Iterable[str]) -> None:
        """Fill the table; `picked` targets are marked (unknown names are dropped)."""
        self.figures = list(figures)
        known = {f.target for f in figures}
        self.picked = {t for t in picked if t in known}
        self.clear()
        for f in self.figures:
            self.add_row(*row_cells(f, f.target in self.picked), key=f.target)

    def action_toggle(self) -> None:
        if not self.figures or self.cursor_row >= len(self.figures):
            return
        target = self.figures[self.cursor_row].target
        self.picked ^= {target}
        self.update_cell(target, self.ordered_columns[0].key, Text(CHECK if target in self.picked else "",
                                                                     style="bold green"))
        self.post_message(self.Toggled(self.chart_targets()))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_toggle()

    def chart_targets(self) -> tuple[str, ...]:
        """The picked targets in table order."""
        return tuple(f.target for f in self.figures if f.target in self.picked)
