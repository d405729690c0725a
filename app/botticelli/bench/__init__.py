"""Race one prompt against N targets: runner (warm-up, round-robin rounds), summaries, CSV/JSON export.

Never imports Textual: the `bench` command and the TUI race screen are two faces of this core. Modules:
`runner` (BenchPlan, BenchRunner, RaceHooks, RunResult, BenchResult), `summary` (summarize, winner),
`export` (bench_json, bench_csv, write_atomic), `report` (the CLI table), `history` (save_race).
Names below are imported lazily so that `botticelli.bench.defaults` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BenchPlan": "runner",
    "BenchResult": "runner",
    "BenchRunner": "runner",
    "LiveRun": "runner",
    "RaceHooks": "runner",
    "RunResult": "runner",
    "run_race": "runner",
    "targets_from_labels": "runner",
    "Spread": "summary",
    "TargetSummary": "summary",
    "summarize": "summary",
    "winner": "summary",
    "bench_csv": "export",
    "bench_json": "export",
    "dumps_json": "export",
    "write_atomic": "export",
    "save_race": "history",
    "DEFAULT_PROMPT": "defaults",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"botticelli.bench.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
