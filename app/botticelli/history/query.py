"""Reading measured answers back from the sessions store: chat answers and race runs as `Sample`s.

One SQL query per source picks the window, the targets and the figures out of the stored `stats` JSON
(`json_extract`, guarded by `json_valid`), so only a few numbers per answer reach Python. Every value is
checked again here: the file may have been edited or damaged, and a bad field becomes "unknown", never a
traceback.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botticelli.sessions.models import format_timestamp

if TYPE_CHECKING:
    from botticelli.sessions import SessionStore

SOURCES = ("all", "chat", "race")
MAX_SAMPLES = 200_000
"""The newest samples read at most (memory stays bounded on a huge store); `History.truncated` says so."""
MAX_FIGURE = 1e9  # no real TTFT, speed or cost comes near; larger numbers are damage

_FIELDS = ("ttft_s", "decode_tps", "e2e_tps", "total_s", "tokens_exact", "cost_usd", "cost_estimated")


def _extract(column: str) -> str:
    """SQL picking the speed figures out of a JSON column, NULLs when it is not valid JSON."""
    return ", ".join(
        f"CASE WHEN json_valid({column}) THEN json_extract({column}, '$.{name}') END AS {name}" for name in _FIELDS
    )


# Answers that finished (a NULL finish_reason is still streaming or was interrupted: no final figures).
_CHAT_SQL = f"""
SELECT 'chat' AS source, profile || ':' || model AS target, created_at AS at, finish_reason AS finish,
       CASE WHEN json_valid(error) THEN json_extract(error, '$.kind') END AS kind,
       error IS NOT NULL AS failed, {_extract("stats")}
FROM messages
WHERE role = 'assistant' AND finish_reason IS NOT NULL AND profile IS NOT NULL AND model IS NOT NULL
"""
_RACE_SQL = f"""
SELECT 'race' AS source, target, created_at AS at, NULL AS finish,
       CASE WHEN json_valid(error) THEN json_extract(error, '$.kind') END AS kind,
       error IS NOT NULL AS failed, {_extract("stats")}
FROM bench_runs
"""
_FILTERS = """
WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at <= ?2)
  AND (?3 IS NULL OR target = ?3 OR substr(target, 1, length(?3) + 1) = ?3 || ':')
"""


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured answer: a chat answer or a race run."""

    source: str
    """`chat` or `race`."""
    target: str
    """`profile:model` (an HF router model keeps its `:provider` suffix)."""
    at: str
    """When it was asked, ISO-8601 UTC."""
    status: str
    """`ok`, `cancelled`, or the error kind (`rate_limit`, `timeout`, ...)."""
    ttft_s: float | None = None
    decode_tps: float | None = None
    e2e_tps: float | None = None
    total_s: float | None = None
    tokens_exact: bool = False
    cost_usd: float | None = None
    cost_estimated: bool = True
    """A cost not stored as exact (`cost_estimated: false`) counts as estimated."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class Window:
    """What to read: a time range (both ends included), targets (a `profile:model`, or a profile for all its
    models) and a source."""

    since: datetime | None = None
    until: datetime | None = None
    targets: tuple[str, ...] = ()
    source: str = "all"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {self.source!r}")


@dataclass(frozen=True, slots=True)
class History:
    """The samples of a window, oldest first."""

    window: Window
    samples: list[Sample]
    truncated: bool = False
    """True when more than `MAX_SAMPLES` matched: only the newest were read."""

    def targets(self) -> list[str]:
        """Every target with at least one sample, in name order."""
        return sorted({s.target for s in self.samples})


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `24h`, `7d`, `2w` back from now, or a date / ISO timestamp (`2026-12-01`, naive means UTC).

    Raises ValueError with a message saying what is accepted.
    """
    value = text.strip().lower()
    units = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
    if value and value[-1] in units and value[:-1].isdigit():
        amount = int(value[:-1])
        if amount > 100_000:
            raise ValueError(f"{text!r} reaches too far back")
        return (now or datetime.now(UTC)) - amount * units[value[-1]]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a window: use 30m, 24h, 7d, 2w or a date like 2026-12-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(store: SessionStore, window: Window, limit: int = MAX_SAMPLES) -> History:
    """The window's samples from the store, oldest first (at most `limit`, the newest ones)."""
    parts = [sql for source, sql in (("chat", _CHAT_SQL), ("race", _RACE_SQL)) if window.source in ("all", source)]
    union = " UNION ALL ".join(parts)
    since = format_timestamp(window.since) if window.since else None
    until = format_timestamp(window.until) if window.until else None
    rows: list[Any] = []
    for target in window.targets or (None,):
        rows += store.select(
            f"SELECT * FROM ({union}) {_FILTERS} ORDER BY at DESC LIMIT ?4", (since, until, target, limit + 1)
        )
    if len(window.targets) > 1:
        rows.sort(key=lambda row: str(row["at"]), reverse=True)
    truncated = len(rows) > limit
    samples = [s for row in rows[:limit] if (s := _sample(row)) is not None]
    samples.reverse()
    return History(window, samples, truncated)


def _sample(row: Any) -> Sample | None:
    target, at = row["target"], row["at"]
    if not isinstance(target, str) or not isinstance(at, str) or not target:
        return None
    return Sample(
        source=row["source"],
        target=target,
        at=at,
        status=_status(row),
        ttft_s=number(row["ttft_s"]),
        decode_tps=number(row["decode_tps"]),
        e2e_tps=number(row["e2e_tps"]),
        total_s=number(row["total_s"]),
        tokens_exact=row["tokens_exact"] == 1,
        cost_usd=number(row["cost_usd"]),
        cost_estimated=row["cost_estimated"] != 0,
    )


def _status(row: Any) -> str:
    if row["finish"] == "cancelled":
        return "cancelled"
    if not row["failed"] and row["finish"] != "error":
        return "ok"
    kind = row["kind"]
    if isinstance(kind, str) and kind.isidentifier() and len(kind) <= 40:
        return kind
    return "error"


def number(value: Any) -> float | None:
    """A stored figure as a float, or None when it is missing, not a number, negative, NaN or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    if not math.isfinite(value) or value < 0 or value > MAX_FIGURE:
        return None
    return value


def distinct(values: Sequence[str]) -> tuple[str, ...]:
    """`values` without repeats, in order (for `--target` given twice)."""
    return tuple(dict.fromkeys(values))
