"""`botticelli speed` output: the text table, the JSON object and CSV, per target or per day (hour) and target."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from botticelli import format as fmt
from botticelli.history.figures import Bucket, TargetFigures
from botticelli.history.query import History
from botticelli.safety import strip_escapes
from botticelli.sessions.models import format_timestamp

CSV_COLUMNS = (
    "target", "count", "ok", "cancelled", "errors", "ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "decode_p50_tps",
    "decode_p90_tps", "decode_estimated", "e2e_p50_tps", "total_p50_s", "cost_usd", "cost_estimated", "first_at",
    "last_at",
)
ESTIMATE_NOTE = "~ decode speed partly from estimated token counts (no server usage): N of the answers"


def window_dict(history: History) -> dict[str, Any]:
    window = history.window
    return {
        "since": format_timestamp(window.since) if window.since else None,
        "until": format_timestamp(window.until) if window.until else None,
        "source": window.source,
        "targets": list(window.targets),
    }


def speed_json(history: History, figures: Sequence[TargetFigures] | None = None,
               buckets: Sequence[Bucket] | None = None, by: str | None = None) -> str:
    """`{"window", "answers", "truncated", "targets": [...]}`, or with `by`: `{..., "by", "series": [...]}`."""
    data: dict[str, Any] = {
        "window": window_dict(history), "answers": len(history.samples), "truncated": history.truncated,
    }
    if by is not None:
        data["by"] = by
        data["series"] = [b.to_dict() for b in buckets or ()]
    else:
        data["targets"] = [f.to_dict() for f in figures or ()]
    return json.dumps(data, ensure_ascii=False) + "\n"


def _q(values: dict[str, float] | None, key: str) -> Any:
    return "" if values is None or key not in values else round(values[key], 6)


def _csv_row(f: TargetFigures) -> list[Any]:
    return [
        f.target, f.count, f.ok, f.cancelled, ";".join(f"{k}={n}" for k, n in f.errors.items()),
        _q(f.ttft_s, "p50"), _q(f.ttft_s, "p90"), _q(f.ttft_s, "p99"), _q(f.decode_tps, "p50"),
        _q(f.decode_tps, "p90"), f.estimated, _q(f.e2e_tps, "p50"), _q(f.total_s, "p50"),
        "" if f.cost_usd is None else round(f.cost_usd, 6), "" if f.cost_usd is None else str(f.cost_estimated).lower(),
        f.first_at or "", f.last_at or "",
    ]


def speed_csv(figures: Sequence[TargetFigures] = (), buckets: Sequence[Bucket] | None = None,
              by: str | None = None) -> str:
    """A header and one row per target (or per day/hour and target, with the bucket first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if by is not None:
        writer.writerow((by, *CSV_COLUMNS))
        for b in buckets or ():
            writer.writerow([b.start, *_csv_row(b.figures)])
    else:
        writer.writerow(CSV_COLUMNS)
        for f in figures:
            writer.writerow(_csv_row(f))
    return out.getvalue()


def _seconds(values: dict[str, float] | None, key: str) -> str:
    return fmt.seconds(values.get(key) if values else None)


def _tps(values: dict[str, float] | None, key: str, estimated: bool) -> str:
    value = values.get(key) if values else None
    if value is None:
        return "—"
    return ("~" if estimated else "") + fmt.rate(value)


def errors_text(f: TargetFigures) -> str:
    """`rate_limit 2, timeout 1, cancelled 1`, or `—`."""
    parts = [f"{kind} {n}" for kind, n in f.errors.items()]
    if f.cancelled:
        parts.append(f"cancelled {f.cancelled}")
    return ", ".join(parts) or "—"


HEADER = ("TARGET", "N", "OK", "TTFT p50", "p90", "p99", "DECODE tok/s p50", "p90", "E2E tok/s", "TOTAL", "ERRORS")


def _cells(f: TargetFigures) -> list[str]:
    approx = f.estimated > 0
    return [
        strip_escapes(f.target), f"{f.count:,}", f"{f.ok:,}", _seconds(f.ttft_s, "p50"), _seconds(f.ttft_s, "p90"),
        _seconds(f.ttft_s, "p99"), _tps(f.decode_tps, "p50", approx), _tps(f.decode_tps, "p90", approx),
        _tps(f.e2e_tps, "p50", approx), _seconds(f.total_s, "p50"), errors_text(f),
    ]


def table(figures: Sequence[TargetFigures], buckets: Sequence[Bucket] | None = None,
          by: str | None = None) -> list[str]:
    """Aligned lines: a header, one line per target (or per bucket and target), notes under it."""
    with_cost = any(f.cost_usd is not None for f in (*figures, *(b.figures for b in buckets or ())))
    header = list(HEADER) + (["COST $"] if with_cost else [])
    if by is not None:
        header.insert(0, by.upper())
        pairs = [(b.start, b.figures) for b in buckets or ()]
    else:
        pairs = [(None, f) for f in figures]
    rows = []
    for start, f in pairs:
        cells = _cells(f) + ([cost_text(f)] if with_cost else [])
        rows.append(([start] if start is not None else []) + cells)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    first_number = 2 if by is not None else 1  # left-align the bucket and the target, right-align figures

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < first_number or i == len(cells) - 1 - with_cost else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [line(header), *(line(r) for r in rows)]
    estimated = sum(f.estimated for _, f in pairs)
    if estimated:
        lines.append(ESTIMATE_NOTE.replace("N of", f"{estimated:,} of"))
    return lines


def cost_text(f: TargetFigures) -> str:
    """`0.0042`, `~0.0042` when any part is estimated, `—` when no answer carries a cost."""
    if f.cost_usd is None:
        return "—"
    return ("~" if f.cost_estimated else "") + f"{f.cost_usd:.4f}"


def heading(history: History) -> str:
    """`speed history · since 2026-11-27 17:00 UTC · chat + race · 1,234 answers`."""
    window = history.window
    since = f"since {window.since:%Y-%m-%d %H:%M} UTC" if window.since else "all time"
    source = {"all": "chat + race", "chat": "chat answers", "race": "race runs"}[window.source]
    text = f"speed history · {since} · {source} · {len(history.samples):,} answers"
    if history.truncated:
        text += " (the newest only: narrow the window to see all)"
    return text
