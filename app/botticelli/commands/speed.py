"""`botticelli speed`: speed history per target over a window, from every stored chat answer and race run.

A table on stdout (or JSON / CSV; `--by day` for a time series; `--plot` for plotext charts). Exit codes:
0, 2 for bad arguments, the store's code when the sessions database cannot be read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from botticelli.history import History

DEFAULT_SINCE = "7d"
PLOT_HEIGHT = 16


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `speed` sub-command."""
    p = sub.add_parser(
        "speed",
        help="speed history per target: TTFT and decode tok/s percentiles, errors, over time",
        description="Every measured chat answer and race run, per target (profile:model) over a window: count, "
        "TTFT p50/p90/p99, decode tok/s p50/p90, e2e tok/s and total time (p50), errors by kind. Decode speeds "
        "from estimated token counts are marked ~.",
    )
    p.add_argument("--since", default=DEFAULT_SINCE, metavar="WHEN",
                   help=f"30m, 24h, 7d, 2w back from now, a date (2026-12-01), or 'all' (default: {DEFAULT_SINCE})")
    p.add_argument("-t", "--target", action="append", dest="targets", default=[], metavar="P:M",
                   help="only this profile:model (or every model of a profile); repeat for more")
    p.add_argument("--source", choices=("chat", "race", "all"), default="all",
                   help="chat answers, race runs, or both (default: all)")
    p.add_argument("--by", choices=("day", "hour"), help="a time series: one row per day (or hour) and target")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--csv", action="store_true", help="print CSV, one row per target (or bucket and target)")
    fmt.add_argument("--plot", action="store_true",
                     help="draw decode tok/s and TTFT over time and a TTFT histogram in the terminal")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        return speed(args, sys.stdout, sys.stderr)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def speed(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from botticelli.history import Window, load, parse_since, series, summarize
    from botticelli.history.query import distinct
    from botticelli.safety import strip_escapes
    from botticelli.sessions import SessionStore, SessionStoreError

    try:
        since = None if args.since.strip().lower() == "all" else parse_since(args.since)
    except ValueError as exc:
        print(f"error: --since: {exc}", file=err)
        return 2
    window = Window(since=since, targets=distinct(args.targets), source=args.source)
    try:
        with SessionStore.open() as store:
            history = load(store, window)
    except SessionStoreError as exc:
        print(strip_escapes(exc.one_line()), file=err)
        return exc.exit_code

    from botticelli.history import report

    if args.plot:
        return _plot(history, args.by, out, err)
    buckets = series(history.samples, args.by) if args.by else None
    figures = summarize(history.samples) if not args.by else []
    if args.json:
        out.write(report.speed_json(history, figures, buckets, args.by))
    elif args.csv:
        out.write(report.speed_csv(figures, buckets, args.by))
    else:
        print(report.heading(history), file=out)
        if not history.samples:
            print("no measured answers in this window (chat with botticelli, or race with botticelli bench; "
                  "--since all widens it)", file=err)
            return 0
        for line in report.table(figures, buckets, args.by):
            print(line, file=out)
    return 0


def _plot(history: History, by: str | None, out: TextIO, err: TextIO) -> int:
    import plotext as plt

    from botticelli.history import auto_bucket
    from botticelli.history.charts import history_charts

    if not history.samples:
        print("no measured answers in this window: nothing to plot (--since all widens it)", file=err)
        return 0
    width = min(shutil.get_terminal_size((100, 24)).columns, 160)
    targets = history.targets()
    texts = history_charts(plt, history.samples, targets, by or auto_bucket(history.samples), width, PLOT_HEIGHT)
    color = out.isatty() and "NO_COLOR" not in os.environ
    for text in texts:
        print(text if color else plt.uncolorize(text), file=out)
    return 0
