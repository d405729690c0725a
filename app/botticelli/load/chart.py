"""A sweep's curves, drawn with plotext: throughput (output tok/s) against a latency figure, one line per target.

Takes `plt`, anything with plotext's API (a `textual_plotext` widget's `plt` in the Load screen); the helpers
for labels and colours are the speed history's (`botticelli.history.charts`). No Textual import here.
"""

from __future__ import annotations

from botticelli.history.charts import Plt, color, headroom, label
from botticelli.load.store import StoredSweep

LATENCIES: dict[str, str] = {
    "ttft_p50": "TTFT p50 (s)",
    "ttft_p99": "TTFT p99 (s)",
    "itl_p50": "ITL p50 (s)",
    "e2e_p50": "e2e p50 (s)",
    "e2e_p99": "e2e p99 (s)",
}


def draw_curves(plt: Plt, sweep: StoredSweep | None, latency: str = "ttft_p50") -> int:
    """Each target's levels as points (output tok/s, latency), joined in level order; returns the targets drawn.

    The knee of a curve is where the target saturates: throughput stops growing while latency climbs."""
    if latency not in LATENCIES:
        raise ValueError(f"latency must be one of {', '.join(LATENCIES)}")
    plt.clear_figure()
    what = LATENCIES[latency]
    if sweep is None:
        plt.title("no load sweeps yet: run `botticelli load -t PROFILE:MODEL`, then press r")
        return 0
    plt.title(f"{what} against output tok/s, per {sweep.mode} level")
    plt.xlabel("output tok/s (all streams)")
    drawn, top, right = 0, 0.0, 0.0
    legend = sum(1 for points in sweep.curves.values() if points)
    for i, (target, points) in enumerate(sweep.curves.items()):
        known = [(p.figures["output_tps"], p.figures[latency]) for p in points
                 if "output_tps" in p.figures and latency in p.figures]
        if not known:
            continue
        drawn += 1
        xs, ys = [x for x, _ in known], [y for _, y in known]
        top, right = max(top, *ys), max(right, *xs)
        if len(known) == 1:
            plt.scatter(xs, ys, label=label(target), color=color(i), marker="●")
        else:
            plt.plot(xs, ys, label=label(target), color=color(i), marker="●")
    if drawn:
        plt.xlim(0, right * 1.05 if right > 0 else 1.0)
        plt.ylim(0, headroom(top, legend))
    else:
        plt.title(f"{what}: no completed requests in this sweep")
    return drawn
