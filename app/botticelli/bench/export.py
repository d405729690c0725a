"""A race as the docs/ARCHITECTURE.md `bench --json` object or as CSV (one row per run), and atomic file writes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from botticelli.bench.costs import prompt_chars, run_cost, target_cost, target_quotes
from botticelli.bench.runner import BenchResult, RunResult
from botticelli.bench.summary import summarize, winner

CSV_FIGURES: tuple[str, ...] = (
    "ttft_s", "total_s", "completion_tokens", "tokens_exact", "decode_tps", "e2e_tps", "server_tps", "queue_s",
)
CSV_COLUMNS: tuple[str, ...] = (
    "target", "run", *CSV_FIGURES, "text_chars", "retried", "error_kind", "error_message",
)


def bench_json(result: BenchResult) -> dict[str, Any]:
    """`{"prompt", "runs_per_target", "concurrent", "runs": [...], "summary": [...], "winner"}`
    (docs/ARCHITECTURE.md); `winner` is the clearly fastest decode (`summary.winner`), null within the noise.
    Each run and each summary entry has a `cost` (null when no price is known; see `bench.costs`)."""
    plan = result.plan
    summaries = summarize(result.runs, plan.labels, result.simulated)
    quotes = target_quotes(plan)
    chars = prompt_chars(plan)

    def priced(run: RunResult) -> dict[str, Any]:
        cost = run_cost(run, quotes.get(run.target), chars)
        return {**run.to_dict(), "cost": cost.to_dict() if cost is not None else None}

    return {
        "prompt": plan.prompt,
        "runs_per_target": plan.runs,
        "concurrent": plan.concurrent,
        "runs": [priced(run) for run in result.runs],
        "summary": [{**s.to_dict(), "cost": target_cost(result.runs_of(s.target), quotes.get(s.target), chars)}
                    for s in summaries],
        "winner": winner(summaries),
    }


def dumps_json(result: BenchResult) -> str:
    """The JSON object on one line, newline-terminated."""
    return json.dumps(bench_json(result), ensure_ascii=False) + "\n"


def csv_cell(value: Any) -> Any:
    """A CSV cell: empty for None, true/false for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def bench_csv(result: BenchResult) -> str:
    """A header, then one row per measured run in round-robin order; empty cells for unknown figures."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run in result.runs:
        stats = run.stats.to_dict() if run.stats is not None else {}
        error = run.error or {}
        writer.writerow([
            run.target,
            run.run,
            *(csv_cell(stats.get(name)) for name in CSV_FIGURES),
            run.text_chars,
            csv_cell(run.retried),
            csv_cell(error.get("kind")),
            csv_cell(error.get("message")),
        ])
    return out.getvalue()


def write_atomic(path: Path | str, text: str) -> Path:
    """Write `text` to `path` through a temporary file in the same folder, so readers never see half a file."""
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
