"""Per-target statistics of a race: n ok / failed, median and min–max of each figure, ratios to the slowest.

Only successful runs that were not retried count (a retry's backoff lands in the TTFT). p90 is given only for
n >= 10: with fewer runs it is just the maximum. Token counts say whether they are exact (server usage) or
estimated, and how many runs were estimates, so exact and estimated figures are never mixed silently.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botticelli.bench.runner import RunResult

FIGURES: tuple[str, ...] = ("ttft_s", "decode_tps", "e2e_tps", "server_tps", "queue_s")
LOWER_IS_BETTER = frozenset({"ttft_s", "queue_s"})
P90_MIN_RUNS = 10


@dataclass(frozen=True, slots=True)
class Spread:
    """Median, min, max (and p90 when n >= 10) of one figure over a target's runs."""

    median: float
    min: float
    max: float
    n: int
    p90: float | None = None

    def to_dict(self) -> dict[str, float]:
        data = {"median": self.median, "min": self.min, "max": self.max}
        if self.p90 is not None:
            data["p90"] = self.p90
        return data


def spread(values: Iterable[float | None]) -> Spread | None:
    """The spread of the known values, or None when there is none."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    p90 = None
    if len(known) >= P90_MIN_RUNS:
        p90 = statistics.quantiles(known, n=10, method="inclusive")[8]
    return Spread(statistics.median(known), known[0], known[-1], len(known), p90)


@dataclass(frozen=True, slots=True)
class TargetSummary:
    """One target's line of the race summary."""

    target: str
    ok: int
    failed: int
    figures: Mapping[str, Spread | None]
    completion_tokens: Spread | None = None
    tokens_exact: bool = True
    estimated_runs: int = 0
    retried: int = 0
    simulated: bool = False
    error: dict[str, Any] | None = None
    decode_ratio_to_slowest: float | None = None
    ttft_ratio_to_slowest: float | None = None

    def median(self, figure: str) -> float | None:
        value = self.figures.get(figure)
        return value.median if value is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The `bench --json` summary object."""
        data: dict[str, Any] = {"target": self.target, "ok": self.ok, "failed": self.failed}
        for name in FIGURES:
            value = self.figures.get(name)
            data[name] = value.to_dict() if value is not None else None
        data.update(
            completion_tokens=self.completion_tokens.to_dict() if self.completion_tokens is not None else None,
            tokens_exact=self.tokens_exact,
            estimated_runs=self.estimated_runs,
            retried=self.retried,
            decode_ratio_to_slowest=self.decode_ratio_to_slowest,
            ttft_ratio_to_slowest=self.ttft_ratio_to_slowest,
            simulated=self.simulated,
            error=self.error,
        )
        return data


def _one_target(label: str, runs: Sequence[RunResult], simulated: bool) -> TargetSummary:
    counted = [r for r in runs if r.ok and not r.retried]
    stats = [r.stats for r in counted if r.stats is not None]
    figures = {name: spread(getattr(s, name) for s in stats) for name in FIGURES}
    estimated = sum(1 for s in stats if not s.tokens_exact)
    error = next((r.error for r in runs if r.error is not None), None)
    return TargetSummary(
        target=label,
        ok=sum(1 for r in runs if r.ok),
        failed=sum(1 for r in runs if not r.ok),
        figures=figures,
        completion_tokens=spread(s.completion_tokens for s in stats),
        tokens_exact=estimated == 0,
        estimated_runs=estimated,
        retried=sum(1 for r in runs if r.ok and r.retried),
        simulated=simulated,
        error=error,
    )


def _with_ratios(summaries: list[TargetSummary]) -> list[TargetSummary]:
    decodes = [m for s in summaries if (m := s.median("decode_tps"))]
    ttfts = [m for s in summaries if (m := s.median("ttft_s"))]
    # a ratio needs two measured targets: alone, a target is not "1.0× faster" than itself
    slowest_decode = min(decodes) if len(decodes) >= 2 else None
    slowest_ttft = max(ttfts) if len(ttfts) >= 2 else None
    out = []
    for s in summaries:
        decode, ttft = s.median("decode_tps"), s.median("ttft_s")
        decode_ratio = decode / slowest_decode if decode and slowest_decode else None
        ttft_ratio = slowest_ttft / ttft if ttft and slowest_ttft else None
        out.append(replace(s, decode_ratio_to_slowest=decode_ratio, ttft_ratio_to_slowest=ttft_ratio))
    return out


def summarize(runs: Iterable[RunResult], targets: Sequence[str],
              simulated: Collection[str] = ()) -> list[TargetSummary]:
    """One summary per target, in `targets` order, with ratios to the slowest target.

    `decode_ratio_to_slowest` = median decode tok/s ÷ the lowest median decode tok/s;
    `ttft_ratio_to_slowest` = the highest median TTFT ÷ this target's, so both read "N.N× faster".
    """
    measured = [r for r in runs if not r.warmup]
    summaries = [
        _one_target(label, [r for r in measured if r.target == label], label in simulated) for label in targets
    ]
    return _with_ratios(summaries)


def contenders(summaries: Sequence[TargetSummary], figure: str) -> int:
    """How many targets measured `figure` (a comparison on it needs two)."""
    return sum(1 for s in summaries if s.median(figure) is not None)


def star_figure(summaries: Sequence[TargetSummary]) -> str | None:
    """What the race is judged on: decode tok/s when two targets measured it, else TTFT (a target whose answers
    were too short to time has no decode figure, yet its TTFT still compares), else nothing."""
    for figure in ("decode_tps", "ttft_s"):
        if contenders(summaries, figure) >= 2:
            return figure
    return None


CLEAR_RANGE_RUNS = 3
"""With this many runs per target, a winner's range (min–max) must not overlap any other target's."""
CLEAR_MARGIN = 0.05
"""With fewer runs, a winner's median must beat every other median by more than this fraction."""
NO_WINNER_RULE = "a winner needs non-overlapping ranges over 3+ runs, or 5 % with fewer"


def winner(summaries: Sequence[TargetSummary], figure: str = "decode_tps") -> str | None:
    """The target clearly best on `figure` (highest tok/s, lowest TTFT), or None ("no clear winner").

    Clearly: over >= 3 runs each, its range does not overlap any other target's; with fewer runs, its median
    beats every other by more than 5 %. A difference inside the noise names nobody; so do fewer than two
    contenders.
    """
    scored = [(spread, s.target) for s in summaries if (spread := s.figures.get(figure)) is not None]
    if len(scored) < 2:
        return None
    lower = figure in LOWER_IS_BETTER
    scored.sort(key=lambda item: item[0].median, reverse=not lower)
    best, name = scored[0]
    for other, _ in scored[1:]:
        if not _clearly_better(best, other, lower):
            return None
    return name


def _clearly_better(best: Spread, other: Spread, lower: bool) -> bool:
    if best.n >= CLEAR_RANGE_RUNS and other.n >= CLEAR_RANGE_RUNS:
        return best.max < other.min if lower else best.min > other.max
    if lower:
        return best.median * (1 + CLEAR_MARGIN) < other.median
    return best.median > other.median * (1 + CLEAR_MARGIN)

