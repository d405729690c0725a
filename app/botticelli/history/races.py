"""Stored races read back: the list (date, targets, winner) and one race's runs, as the race summary needs them.

Runs come back as `RunResult`s with validated figures, so the race summary, its table, bars and per-run chart
draw a stored race exactly as they drew it when it finished. What was not stored (warm-ups, retries,
max_tokens) is not invented.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botticelli.bench.runner import RunResult
from botticelli.bench.summary import TargetSummary, summarize, winner
from botticelli.history.query import number
from botticelli.sessions.models import format_timestamp, parse_timestamp
from botticelli.stats import SpeedFigures

if TYPE_CHECKING:
    from botticelli.sessions import SessionStore

MAX_RACES = 200
MAX_RUNS_PER_RACE = 4 * 50  # MAX_TARGETS × the race screen's MAX_REPEAT
_ERROR_TEXT_MAX = 300
_RUN_SQL = "SELECT id, race_id, created_at, prompt, target, run, stats, error FROM bench_runs"


@dataclass(slots=True)
class StoredRace:
    """One race from the store: its prompt, targets in race order, and measured runs."""

    race_id: str
    created_at: str
    prompt: str
    targets: tuple[str, ...]
    runs: list[RunResult] = field(default_factory=list)

    @property
    def runs_per_target(self) -> int:
        return max((r.run for r in self.runs), default=0)

    @property
    def summaries(self) -> list[TargetSummary]:
        return summarize(self.runs, self.targets)

    @property
    def winner(self) -> str | None:
        """The best decode speed, by the race summary's own rule (None: no clear winner)."""
        return winner(self.summaries)


def list_races(store: SessionStore, limit: int = MAX_RACES) -> list[StoredRace]:
    """The newest `limit` races with their runs, newest first."""
    heads = store.select(
        "SELECT race_id, max(id) AS last FROM bench_runs GROUP BY race_id ORDER BY last DESC LIMIT ?",
        (max(0, limit),),
    )
    ids = [row["race_id"] for row in heads]
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = store.select(f"{_RUN_SQL} WHERE race_id IN ({marks}) ORDER BY id", ids)
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row["race_id"]].append(row)
    return [race for race_id in ids if (race := _race(race_id, grouped[race_id])) is not None]


def load_race(store: SessionStore, race_id: str) -> StoredRace | None:
    """One race by id, or None when it is not stored."""
    rows = store.select(f"{_RUN_SQL} WHERE race_id = ? ORDER BY id LIMIT ?", (race_id, MAX_RUNS_PER_RACE))
    return _race(race_id, rows)


def _race(race_id: str, rows: list[Any]) -> StoredRace | None:
    rows = [r for r in rows if isinstance(r["target"], str) and isinstance(r["run"], int) and r["run"] >= 1]
    if not rows:
        return None
    targets = tuple(dict.fromkeys(r["target"] for r in rows))
    index = {label: i for i, label in enumerate(targets)}
    runs = [
        RunResult(
            target=r["target"], index=index[r["target"]], run=r["run"],
            stats=figures(r["stats"]), error=_error(r["error"]),
        )
        for r in rows[:MAX_RUNS_PER_RACE]
    ]
    first = rows[0]
    prompt = first["prompt"] if isinstance(first["prompt"], str) else ""
    return StoredRace(race_id, _timestamp(first["created_at"]), prompt, targets, runs)


def _timestamp(value: Any) -> str:
    """The stored time, normalised (`2026-12-02T15:30:00Z`); empty when it is not a timestamp."""
    try:
        return format_timestamp(parse_timestamp(value)) if isinstance(value, str) else ""
    except ValueError:
        return ""


def _loaded(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def figures(stats: Any) -> SpeedFigures | None:
    """Stored stats (JSON text or dict) as `SpeedFigures`, each value checked; None when there are none."""
    data = _loaded(stats)
    if data is None:
        return None
    tokens = data.get("completion_tokens")
    return SpeedFigures(
        ttft_s=number(data.get("ttft_s")),
        total_s=number(data.get("total_s")),
        completion_tokens=tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0 else None,
        tokens_exact=data.get("tokens_exact") is True,
        decode_tps=number(data.get("decode_tps")),
        e2e_tps=number(data.get("e2e_tps")),
        server_tps=number(data.get("server_tps")),
        queue_s=number(data.get("queue_s")),
    )


def _error(error: Any) -> dict[str, Any] | None:
    data = _loaded(error)
    if data is None:
        return None
    kind = data.get("kind")
    message = data.get("message")
    return {
        "kind": kind if isinstance(kind, str) and kind.isidentifier() and len(kind) <= 40 else "error",
        "message": message[:_ERROR_TEXT_MAX] if isinstance(message, str) else "",
    }
