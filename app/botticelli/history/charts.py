"""The speed charts, drawn with plotext: one code path for the TUI and the CLI.

Every function takes `plt`, anything with plotext's plotting API: the `plotext` module itself
(`botticelli speed --plot`) or a `textual_plotext` widget's `plt` (the Speed screen, the race summary). No
Textual import here. Target labels are stripped of terminal escapes before they reach a chart (plotext's
output is read back as ANSI text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botticelli.history.figures import Bucket, series
from botticelli.history.query import Sample
from botticelli.safety import strip_escapes

COLORS = ("cyan", "magenta", "green", "orange", "blue", "red")
FIGURE_TITLES = {"ttft_s": "TTFT (s), lower is faster", "decode_tps": "decode tok/s, higher is faster"}
BANDS = {"ttft_s": "ttft_band", "decode_tps": "decode_band"}
MAX_TICKS = 6
HIST_BINS = 20
LABEL_MAX = 40

Plt = Any
"""The plotext module, or a `textual_plotext.Plot`: the same drawing API."""

References = Mapping[str, Mapping[str, float]]
"""target -> {"decode_tps": published tok/s, "ttft_s": published latency}: the catalogue's figures, drawn as
reference lines. `history.reference.references_from_models` reads them from an HF router `/models` body; the
app's provider catalogue does not keep that body yet, so the Speed screen gets {} until it does."""


def label(target: str, limit: int = LABEL_MAX) -> str:
    """A target name fit for a legend or a table cell: no escapes, and when long its middle elided, so the
    profile and the model's end (an HF `:provider` suffix) stay."""
    text = strip_escapes(target)
    if len(text) <= limit:
        return text
    head = limit // 4
    return text[:head] + "…" + text[len(text) - (limit - head - 1):]


def headroom(top: float, legend_rows: int) -> float:
    """A y-axis top leaving the legend (top left, one row per target) its own space above the data."""
    return top * (1 + 0.12 * legend_rows) if top > 0 else 1.0


def color(index: int) -> str:
    return COLORS[index % len(COLORS)]


def _ticks(starts: Sequence[str]) -> tuple[list[int], list[str]]:
    """At most MAX_TICKS x positions with short labels: `12-03` for days, `03 14h` for hours."""
    step = max(1, -(-len(starts) // MAX_TICKS))
    positions = list(range(0, len(starts), step))
    names = [starts[i][5:] if len(starts[i]) == 10 else f"{starts[i][8:10]} {starts[i][11:13]}h" for i in positions]
    return positions, names


def _empty(plt: Plt, title: str) -> None:
    plt.title(f"{title}: no measured answers in this window")


def draw_over_time(plt: Plt, buckets: Sequence[Bucket], figure: str, targets: Sequence[str],
                   references: References | None = None) -> int:
    """Median per day (or hour) per target, with p10 and p90 as dotted lines (the band); returns how many
    targets had a point. A published figure for a target is a flat reference line."""
    plt.clear_figure()
    title = FIGURE_TITLES[figure]
    starts = sorted({b.start for b in buckets})
    position = {start: i for i, start in enumerate(starts)}
    drawn = 0
    for i, target in enumerate(targets):
        points = [(position[b.start], band) for b in buckets
                  if b.target == target and (band := getattr(b, BANDS[figure])) is not None]
        if not points:
            continue
        drawn += 1
        xs = [x for x, _ in points]
        name = label(target)
        plt.scatter(xs, [band["p10"] for _, band in points], color=color(i), marker="·")
        plt.scatter(xs, [band["p90"] for _, band in points], color=color(i), marker="·")
        if len(points) == 1:
            plt.scatter(xs, [points[0][1]["p50"]], label=name, color=color(i), marker="●")
        else:
            plt.plot(xs, [band["p50"] for _, band in points], label=name, color=color(i), marker="braille")
        published = (references or {}).get(target, {}).get(figure)
        if published is not None:
            plt.plot([0, max(len(starts) - 1, 1)], [published, published], label=f"{name} published",
                     color=color(i), marker="-")
    if not drawn:
        _empty(plt, title)
        return 0
    plt.title(f"{title} · median, dots p10/p90")
    positions, names = _ticks(starts)
    plt.xticks(positions, names)
    if len(starts) == 1:
        plt.xlim(-1, 1)
    top = max(band["p90"] for b in buckets if b.target in targets and (band := getattr(b, BANDS[figure])))
    published = [v for t in targets if (v := (references or {}).get(t, {}).get(figure)) is not None]
    plt.ylim(0, headroom(max([top, *published]), drawn + len(published)))
    return drawn


def draw_histogram(plt: Plt, samples: Sequence[Sample], targets: Sequence[str], bins: int = HIST_BINS) -> int:
    """How TTFT spreads: one histogram per target, overlaid; returns how many targets had a value."""
    plt.clear_figure()
    title = "TTFT (s): how many answers"
    drawn = 0
    for i, target in enumerate(targets):
        values = [s.ttft_s for s in samples if s.target == target and s.ok and s.ttft_s is not None]
        if not values:
            continue
        drawn += 1
        plt.hist(values, bins, label=label(target), color=color(i))
    if not drawn:
        _empty(plt, title)
        return 0
    plt.title(title)
    return drawn


RunPoints = Mapping[str, Sequence[tuple[int, float | None, float | None]]]
"""target -> [(run number, TTFT s, decode tok/s), ...]"""


def draw_runs(plt: Plt, runs: RunPoints) -> int:
    """A race's runs: TTFT per run per target (left) and decode tok/s (right); returns the targets drawn."""
    plt.clear_figure()
    plt.subplots(1, 2)
    drawn = set()
    for column, title in enumerate(("TTFT (s) per run", "decode tok/s per run"), start=1):
        ax = plt.subplot(1, column)
        ax.title(title)
        top, highest, legend = 0, 0.0, 0
        for i, (target, points) in enumerate(runs.items()):
            known = [(run, figures[column - 1]) for run, *figures in points if figures[column - 1] is not None]
            if not known:
                continue
            drawn.add(target)
            legend += 1
            top = max(top, *(run for run, _ in known))
            highest = max(highest, *(value for _, value in known))
            xs, ys = [run for run, _ in known], [value for _, value in known]
            if len(known) == 1:
                ax.scatter(xs, ys, label=label(target), color=color(i), marker="●")
            else:
                ax.plot(xs, ys, label=label(target), color=color(i), marker="braille")
        if top:
            ax.xticks(list(range(1, top + 1)) if top <= 10 else None)
            ax.xlim(0.5, top + 0.5)
            ax.ylim(0, headroom(highest, legend))
    plt.main()
    return len(drawn)


def built(plt: Plt, width: int, height: int, theme: str = "clear") -> str:
    """The chart just drawn on the `plotext` module, as text of `width` × `height` cells."""
    plt.plotsize(width, height)
    plt.theme(theme)
    return str(plt.build())


def history_charts(plt: Plt, samples: Sequence[Sample], targets: Sequence[str], by: str, width: int,
                   height: int, references: References | None = None, theme: str = "clear") -> list[str]:
    """The three history charts as texts (`botticelli speed --plot`): decode tok/s over time, TTFT over time,
    and the TTFT histogram."""
    buckets = series(samples, by)
    out = []
    draw_over_time(plt, buckets, "decode_tps", targets, references)
    out.append(built(plt, width, height, theme))
    draw_over_time(plt, buckets, "ttft_s", targets, references)
    out.append(built(plt, width, height, theme))
    draw_histogram(plt, samples, targets)
    out.append(built(plt, width, height, theme))
    return out
