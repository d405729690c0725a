"""Speed history figures: per-target percentiles, and the same per day (or hour) for a time series.

Percentiles interpolate linearly between the closest ranks (numpy's default, `statistics.quantiles`'
"inclusive" method): p50 of 1, 2, 3, 4 is 2.5. Only answers that finished without error count toward the
speed figures; errors are counted by kind, cancelled answers on their own. A decode speed computed from an
estimated token count (no server usage) is counted in `estimated`, and shown with `~`, so exact and
estimated figures are never mixed silently.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botticelli.history.query import Sample

TTFT_QUANTILES = (50, 90, 99)
DECODE_QUANTILES = (50, 90)
BAND_QUANTILES = (10, 50, 90)
BUCKETS = {"day": 10, "hour": 13}  # how many characters of the ISO timestamp name the bucket


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of an ascending, non-empty sequence, by linear interpolation."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def quantiles(values: Iterable[float | None], qs: Sequence[int]) -> dict[str, float] | None:
    """`{"p50": …, "p90": …}` of the known values, or None when there is none."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    return {f"p{q}": percentile(ordered, q) for q in qs}


@dataclass(frozen=True, slots=True)
class TargetFigures:
    """One target's line of `botticelli speed`."""

    target: str
    count: int
    ok: int
    errors: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    ttft_s: dict[str, float] | None = None
    decode_tps: dict[str, float] | None = None
    e2e_tps: dict[str, float] | None = None
    total_s: dict[str, float] | None = None
    estimated: int = 0
    """Decode figures computed from an estimated token count."""
    cost_usd: float | None = None
    """Total cost of the answers that carry one; None when none does."""
    cost_estimated: bool = False
    """True when any part of `cost_usd` is an estimate (token counts or prices not exact)."""
    sources: dict[str, int] = field(default_factory=dict)
    first_at: str | None = None
    last_at: str | None = None

    @property
    def tokens_exact(self) -> bool:
        return self.estimated == 0

    def to_dict(self) -> dict[str, Any]:
        """The `speed --json` target object."""
        data: dict[str, Any] = {
            "target": self.target, "count": self.count, "ok": self.ok, "errors": dict(self.errors),
            "cancelled": self.cancelled, "ttft_s": self.ttft_s, "decode_tps": self.decode_tps,
            "e2e_tps": self.e2e_tps, "total_s": self.total_s, "tokens_exact": self.tokens_exact,
            "estimated": self.estimated, "sources": dict(self.sources), "first_at": self.first_at,
            "last_at": self.last_at,
        }
        if self.cost_usd is not None:
            data["cost_usd"] = self.cost_usd
            data["cost_estimated"] = self.cost_estimated
        return data


def target_figures(target: str, samples: Sequence[Sample]) -> TargetFigures:
    """The figures of one target's samples (any order)."""
    good = [s for s in samples if s.ok]
    priced = [s for s in samples if s.cost_usd is not None]
    costs = [s.cost_usd for s in priced if s.cost_usd is not None]
    errors = Counter(s.status for s in samples if not s.ok and s.status != "cancelled")
    times = [s.at for s in samples]
    return TargetFigures(
        target=target,
        count=len(samples),
        ok=len(good),
        errors=dict(sorted(errors.items())),
        cancelled=sum(1 for s in samples if s.status == "cancelled"),
        ttft_s=quantiles((s.ttft_s for s in good), TTFT_QUANTILES),
        decode_tps=quantiles((s.decode_tps for s in good), DECODE_QUANTILES),
        e2e_tps=quantiles((s.e2e_tps for s in good), (50,)),
        total_s=quantiles((s.total_s for s in good), (50,)),
        estimated=sum(1 for s in good if s.decode_tps is not None and not s.tokens_exact),
        cost_usd=sum(costs) if costs else None,
        cost_estimated=any(s.cost_estimated for s in priced),
        sources=dict(sorted(Counter(s.source for s in samples).items())),
        first_at=min(times) if times else None,
        last_at=max(times) if times else None,
    )


def by_target(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    """Samples grouped by target, targets in name order."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.target].append(sample)
    return dict(sorted(groups.items()))


def summarize(samples: Iterable[Sample]) -> list[TargetFigures]:
    """One `TargetFigures` per target, in name order."""
    return [target_figures(target, group) for target, group in by_target(samples).items()]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One target's figures over one day (or hour): a point of a time series."""

    start: str
    """`2026-12-03` for a day, `2026-12-03T14` for an hour (UTC)."""
    target: str
    figures: TargetFigures
    ttft_band: dict[str, float] | None = None
    """p10, p50, p90 of TTFT: the band a chart draws."""
    decode_band: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `speed --by day --json` item: the target figures plus the day."""
        key = "day" if len(self.start) == BUCKETS["day"] else "hour"
        return {key: self.start, **self.figures.to_dict()}


def series(samples: Iterable[Sample], by: str = "day") -> list[Bucket]:
    """Per target and per day (or hour), in time order then target order."""
    if by not in BUCKETS:
        raise ValueError(f"by must be one of {', '.join(BUCKETS)}")
    width = BUCKETS[by]
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[(sample.at[:width], sample.target)].append(sample)
    buckets = []
    for (start, target), group in sorted(groups.items()):
        good = [s for s in group if s.ok]
        buckets.append(Bucket(
            start, target, target_figures(target, group),
            ttft_band=quantiles((s.ttft_s for s in good), BAND_QUANTILES),
            decode_band=quantiles((s.decode_tps for s in good), BAND_QUANTILES),
        ))
    return buckets


def auto_bucket(samples: Sequence[Sample]) -> str:
    """`hour` when the samples span at most two days, else `day`: enough points either way."""
    if not samples:
        return "day"
    days = {s.at[: BUCKETS["day"]] for s in samples}
    return "hour" if len(days) <= 2 else "day"
