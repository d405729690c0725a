"""Speed history: every measured chat answer and race run read back from the sessions store, summarised
(percentiles per target, per day) and charted with plotext. Never imports Textual."""

from __future__ import annotations

from botticelli.history.figures import Bucket, TargetFigures, auto_bucket, percentile, series, summarize
from botticelli.history.query import SOURCES, History, Sample, Window, load, parse_since

__all__ = [
    "SOURCES",
    "Bucket",
    "History",
    "Sample",
    "TargetFigures",
    "Window",
    "auto_bucket",
    "load",
    "parse_since",
    "percentile",
    "series",
    "summarize",
]
