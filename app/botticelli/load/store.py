"""Sweeps kept in the data folder (`<data>/loads/<id>.json`, the `load --json` object), newest first.

A stored file is read back defensively: it may be old, hand-edited or truncated. What does not have the right
shape is skipped, never raised as a traceback.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botticelli.load.metrics import SCHEMA
from botticelli.paths import data_dir

if TYPE_CHECKING:
    from botticelli.load.runner import SweepResult

MAX_FILE_BYTES = 8 << 20
MAX_LISTED = 200
CURVE_FIGURES = ("output_tps", "request_throughput", "ttft_p50", "ttft_p99", "itl_p50", "e2e_p50", "e2e_p99")


def loads_dir() -> Path:
    return data_dir() / "loads"


def save_sweep(result: SweepResult, folder: Path | None = None) -> Path:
    """Write the sweep's JSON atomically; returns the file."""
    from botticelli.bench.export import write_atomic
    from botticelli.load.report import dumps_json

    return write_atomic((folder or loads_dir()) / f"{result.sweep_id}.json", dumps_json(result))


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One level of one target, as the Load screen plots it."""

    level: float
    figures: dict[str, float]  # CURVE_FIGURES that are known
    completed: int = 0
    requests: int = 0
    rate_limited: int = 0


@dataclass(frozen=True, slots=True)
class StoredSweep:
    sweep_id: str
    started_at: str
    mode: str
    summary: str
    curves: dict[str, list[CurvePoint]] = field(default_factory=dict)  # target label -> points in level order


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None and number >= 0 else 0


def _point(data: Any) -> CurvePoint | None:
    if not isinstance(data, dict):
        return None
    level = _number(data.get("level"))
    if level is None:
        return None
    figures: dict[str, float] = {}
    for name in ("output_tps", "request_throughput"):
        value = _number(data.get(name))
        if value is not None:
            figures[name] = value
    for group, points in (("ttft_s", ("p50", "p99")), ("itl_s", ("p50",)), ("e2e_s", ("p50", "p99"))):
        spread = data.get(group)
        if isinstance(spread, dict):
            for p in points:
                value = _number(spread.get(p))
                if value is not None:
                    figures[f"{group[:-2]}_{p}"] = value
    return CurvePoint(level, figures, _count(data.get("completed")), _count(data.get("requests")),
                      _count(data.get("rate_limited")))


def parse_sweep(data: Any) -> StoredSweep | None:
    """A `load --json` object as a `StoredSweep`, or None when it is not one."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    mode = data.get("mode")
    targets = data.get("targets")
    if mode not in ("concurrency", "rate") or not isinstance(targets, list):
        return None
    curves: dict[str, list[CurvePoint]] = {}
    for entry in targets[:16]:
        if not isinstance(entry, dict) or not isinstance(entry.get("target"), str):
            continue
        levels = entry.get("levels")
        points = [p for p in (_point(level) for level in (levels if isinstance(levels, list) else [])[:64]) if p]
        curves[entry["target"][:200]] = points
    levels = data.get("levels")
    level_text = ",".join(f"{v:g}" for v in levels[:32] if _number(v) is not None) if isinstance(levels, list) else ""
    summary = f"{mode} {level_text}".strip()
    return StoredSweep(str(data.get("id", ""))[:64], str(data.get("started_at", ""))[:32], mode, summary, curves)


def read_sweep(path: Path) -> StoredSweep | None:
    """One stored sweep, or None when the file is unreadable, too big or not a sweep."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return parse_sweep(data)


def list_sweeps(folder: Path | None = None, limit: int = MAX_LISTED) -> list[StoredSweep]:
    """The stored sweeps, newest first (by file name: ids start with the UTC time), unreadable ones skipped."""
    where = folder or loads_dir()
    try:
        paths = sorted(where.glob("*.json"), reverse=True)
    except OSError:
        return []
    sweeps = []
    for path in paths[: limit * 2]:
        sweep = read_sweep(path)
        if sweep is not None:
            sweeps.append(sweep)
        if len(sweeps) >= limit:
            break
    return sweeps
