"""The end of a race: a table of every figure per target (winner starred, "N.N× faster" than the slowest) and
block-character bars of decode tok/s and TTFT, scaled to the largest value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from botticelli import format as fmt
from botticelli.bench.report import WINNER_MARK
from botticelli.bench.runner import BenchResult, RunResult
from botticelli.bench.summary import Spread, TargetSummary, summarize, winner
from botticelli.history.races import StoredRace
from botticelli.safety import strip_escapes
from botticelli.tui.widgets.race_runs_chart import RaceRunsChart

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
COLUMNS = ("", "target", "ok", "TTFT (s)", "decode tok/s", "e2e tok/s", "server tok/s", "tokens",
           "× faster (decode / TTFT)")
COST_COLUMN = "$/run"
"""Added last when some target is priced: its median cost per run."""


def bar(fraction: float, width: int) -> str:
    """A bar `fraction` (0–1) of `width` cells long, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    return FULL * full + (EIGHTHS[rest] if rest else "")


@dataclass(frozen=True, slots=True)
class BarRow:
    """One target's bars."""

    label: str
    decode_tps: float | None
    ttft_s: float | None
    best_decode: bool = False
    best_ttft: bool = False


class RaceBars(Widget):
    """Two bar groups, decode tok/s (longer is faster) and TTFT (shorter is faster), one row per target."""


    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[BarRow] = []

    def set_rows(self, rows: Sequence[BarRow]) -> None:
        self.rows = list(rows)
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return 2 * (len(self.rows) + 1) if self.rows else 0

    def render(self) -> Content:
        if not self.rows:
            return Content("")
        width = max(20, self.content_region.width or self.size.width or 80)
        label_w = min(max(len(r.label) for r in self.rows), max(12, width // 3))
        value_w = 14
        bar_w = max(4, width - label_w - value_w - 4)
        lines: list[Content] = []
        for title, key, best in (
            ("decode tok/s  (longer is faster)", "decode_tps", "best_decode"),
            ("TTFT  (shorter is faster)", "ttft_s", "best_ttft"),
        ):
            lines.append(Content.styled(title, "bold $text-muted"))
            top = max((getattr(r, key) or 0.0 for r in self.rows), default=0.0)
            for row in self.rows:
                value = getattr(row, key)
                text = fmt.tps(value) if key == "decode_tps" else fmt.seconds(value)
                is_best = bool(getattr(row, best))
                style = "$success" if is_best else "$primary"
                label = row.label if len(row.label) <= label_w else row.label[: label_w - 1] + "…"
                drawn = bar(value / top, bar_w) if value and top else ""
                lines.append(Content.assemble(
                    (label.ljust(label_w), ""), "  ", (drawn.ljust(bar_w), style), "  ",
                    (text.rjust(value_w - 2), "bold" if is_best else ""),
                ))
        return Content("\n").join(lines)


def _spread(value: Spread | None, fmt: str) -> str:
    if value is None:
        return "—"
    text = format(value.median, fmt)
    if value.n > 1:
        text += f" ({format(value.min, fmt)}–{format(value.max, fmt)})"
    return text


def _tps_spread(value: Spread | None) -> str:
    if value is None:
        return "—"
    text = fmt.rate(value.median)
    if value.n > 1:
        text += f" ({fmt.rate(value.min)}–{fmt.rate(value.max)})"
    return text


def _times(ratio: float | None, slowest: bool) -> str:
    if ratio is None:
        return "—"
    return "slowest" if slowest else f"{ratio:.1f}×"


def _row(s: TargetSummary, runs: int, best: str | None, slow_decode: str | None, slow_ttft: str | None,
         compare: bool) -> list[Text]:
    """Table cells as `rich.text.Text`: DataTable would read plain strings as markup. ("(simulated)" is in
    the columns' titles; the table stays narrow enough for 120 cells.)"""
    name = s.target
    mark = Text(WINNER_MARK, style="bold green") if s.target == best else Text("")
    ok = Text(f"{s.ok}/{runs}", style="" if s.ok == runs else "red" if s.ok == 0 else "yellow")
    if s.ok == 0:
        kind = str((s.error or {}).get("kind") or "error").replace("_", " ")
        return [mark, Text(name), ok, Text(f"✗ {kind}", style="bold red"), *(Text("—") for _ in range(5))]
    tokens = s.completion_tokens
    ratios = "—"
    if compare:
        ratios = (f"{_times(s.decode_ratio_to_slowest, s.target == slow_decode)} / "
                  f"{_times(s.ttft_ratio_to_slowest, s.target == slow_ttft)}")
    cells = [
        _spread(s.figures.get("ttft_s"), ".3f"),
        _tps_spread(s.figures.get("decode_tps")),
        fmt.rate(s.median("e2e_tps")),
        fmt.rate(s.median("server_tps")),
        "—" if tokens is None else ("" if s.tokens_exact else "~") + f"{tokens.median:.0f}",
        ratios,
    ]
    return [mark, Text(name, style="bold" if s.target == best else ""), ok, *(Text(c) for c in cells)]


def _extreme(summaries: Sequence[TargetSummary], figure: str, highest: bool) -> str | None:
    scored = [(m, s.target) for s in summaries if (m := s.median(figure)) is not None]
    if len(scored) < 2:
        return None
    return (max(scored) if highest else min(scored))[1]


class RaceSummary(Vertical):
    """Shown when a race ends (or a stored one is opened): caption, table, and the bars of the medians or,
    toggled with `toggle_view`, the per-run chart."""


    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-hidden")
        self.summaries: list[TargetSummary] = []
        self.winner: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="race-caption", markup=False)
        table: DataTable[Text] = DataTable(id="race-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield RaceBars(id="race-bars")
        yield RaceRunsChart(id="race-runs")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)

    def clear(self) -> None:
        self.summaries, self.winner = [], None
        self.query_one(DataTable).clear()
        self.query_one(RaceBars).set_rows([])
        self.query_one(RaceRunsChart).draw([], [])
        self.add_class("-hidden")

    def show(self, result: BenchResult) -> list[TargetSummary]:
        """Fill the table, the bars and the per-run chart from `result`; returns the summaries."""
        plan = result.plan
        summaries = summarize(result.runs, plan.labels, result.simulated)
        best = self._fill(summaries, result.runs, plan.runs, race_costs(result))
        self.query_one("#race-caption", Static).update(Content(caption(result, summaries, best)))
        return summaries

    def show_stored(self, race: StoredRace) -> list[TargetSummary]:
        """Show a stored race as it finished: its table, bars and per-run chart; returns the summaries."""
        summaries = race.summaries
        best = self._fill(summaries, race.runs, race.runs_per_target)
        self.query_one("#race-caption", Static).update(Content(stored_caption(race, summaries, best)))
        return summaries

    def toggle_view(self) -> bool:
        """Switch between the bars of the medians and the per-run chart; True when the chart shows."""
        self.toggle_class("-runs")
        return self.has_class("-runs")

    def _fill(self, summaries: list[TargetSummary], runs: Sequence[RunResult], runs_per_target: int,
              costs: dict[str, str] | None = None) -> str | None:
        best = winner(summaries, "decode_tps")
        best_ttft = winner(summaries, "ttft_s")
        compare = sum(1 for s in summaries if s.median("decode_tps") is not None) >= 2
        slow_decode = _extreme(summaries, "decode_tps", highest=False)
        slow_ttft = _extreme(summaries, "ttft_s", highest=True)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*COLUMNS, *((COST_COLUMN,) if costs else ()))
        for s in summaries:
            cells = _row(s, runs_per_target, best, slow_decode, slow_ttft, compare)
            if costs:
                cells.append(Text(costs.get(s.target, "—")))
            table.add_row(*cells, key=s.target)
        self.query_one(RaceBars).set_rows([
            BarRow(s.target, s.median("decode_tps"), s.median("ttft_s"), s.target == best, s.target == best_ttft)
            for s in summaries
        ])
        self.query_one(RaceRunsChart).draw(runs, [s.target for s in summaries])
        self.summaries, self.winner = summaries, best
        self.remove_class("-hidden")
        return best


def race_costs(result: BenchResult) -> dict[str, str]:
    """Each priced target's median cost per run (`$0.00012`, `~` when estimated), by label (`bench.costs`)."""
    from botticelli.bench.costs import prompt_chars, target_cost, target_quotes
    from botticelli.catalog import Cost

    quotes, chars = target_quotes(result.plan), prompt_chars(result.plan)
    shown = {}
    for label in result.plan.labels:
        cost = target_cost(result.runs_of(label), quotes.get(label), chars)
        if cost is not None and cost["per_run_usd"] is not None:
            shown[label] = Cost(cost["per_run_usd"], cost["estimated"]).label()
    return shown


def winner_line(summaries: Sequence[TargetSummary], best: str | None) -> str:
    """`★ demo:demo-fast wins: 13.4× faster decode than the slowest`, or why there is no winner."""
    if best is None:
        if sum(1 for s in summaries if s.median("decode_tps") is not None) >= 2:
            return "No clear winner: the decode difference is within the runs' spread"
        return "No winner: fewer than two targets finished"
    ratio = next(s.decode_ratio_to_slowest for s in summaries if s.target == best)
    return f"{WINNER_MARK} {strip_escapes(best)} wins: {ratio:.1f}× faster decode than the slowest"


def caption(result: BenchResult, summaries: Sequence[TargetSummary], best: str | None) -> str:
    """`★ demo:demo-fast wins: 13.4× faster decode · 1 run each, no warm-up · medians ...`."""
    plan = result.plan
    runs = f"{plan.runs} run{'s' if plan.runs != 1 else ''} each"
    warm = f" after {plan.warmup} warm-up" if plan.warmup else ", no warm-up"
    head = winner_line(summaries, best)
    medians = "medians (min–max)" if plan.runs > 1 else "one run: no spread"
    return (f"{head} · {runs}{warm} · {medians} · decode excludes TTFT, e2e includes it · "
            f"max_tokens {plan.max_tokens}, temperature 0")


def stored_caption(race: StoredRace, summaries: Sequence[TargetSummary], best: str | None) -> str:
    """`★ groq:… wins: 2.3× faster decode · stored race of 2026-12-02 15:30 UTC · 3 runs each · medians …`."""
    head = winner_line(summaries, best)
    runs = race.runs_per_target
    medians = "medians (min–max)" if runs > 1 else "one run: no spread"
    when = race.created_at.replace("T", " ").removesuffix("Z")[:16]
    return (f"{head} · stored race of {when} UTC · {runs} run{'s' if runs != 1 else ''} each · {medians} · "
            "ctrl+r / ctrl+g race it again")
